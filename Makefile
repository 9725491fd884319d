# The workshop's commands. `make compose` and `make test` are all a learner needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SOUNDFONT := /usr/share/sounds/sf2/FluidR3_GM.sf2
CHROMIUM := /usr/bin/chromium

.PHONY: setup soundfont chromium test test-fast lint lab compose clean

setup: $(STAMP) soundfont chromium

# install_requirements.py installs what requirements.txt and requirements-dev.txt list and is
# missing, tinysoundfont with --no-deps, and TensorFlow with CUDA (tensorflow[and-cuda]) on Linux
# with an NVIDIA driver (nvidia-smi); the notebooks' first cell runs the same script (--notebook:
# requirements.txt only).
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml install_requirements.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) install_requirements.py
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# System packages through the package manager where we can (apt-get as root or with sudo);
# otherwise one line says what happens without them. $(call apt_install,PACKAGE,WITHOUT IT)
define apt_install
if command -v apt-get >/dev/null 2>&1 && { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  echo "$(1): installing with apt-get"; \
	  ($$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(1) >/dev/null) \
	    || echo "$(1): could not install it; $(2)"; \
	else \
	  echo "$(1): not installed (no apt-get or no root); $(2)"; \
	fi
endef

# A General MIDI soundfont; without one the built-in synthesizer plays (and says so).
# TinySoundFont comes from pip, so no FluidSynth.
soundfont:
	@if [ -f "$(SOUNDFONT)" ] || [ -n "$$LAB_SOUNDFONT" ]; then echo "soundfont: found"; \
	else $(call apt_install,fluid-soundfont-gm,the built-in synthesizer will play); fi

# The browser tests/test_browser.py drives with Playwright (Playwright downloads no browser).
# Without it that test is skipped and says why. LAB_CHROMIUM points at another Chromium.
chromium:
	@if [ -x "$(CHROMIUM)" ] || [ -n "$$LAB_CHROMIUM" ]; then echo "chromium: found"; \
	else $(call apt_install,chromium,the browser test will be skipped); fi

# Everything, in two runs: all but the tests marked `alone` on two workers (a file stays on one
# worker; the notebooks are in two files), then those one at a time (tests/conftest.py says which
# and why).
test: setup lint
	$(PY) -m pytest -q -m "not alone" -n 2 --dist loadfile
	$(PY) -m pytest -q -m alone

lint: setup
	$(PY) -m ruff check .

# The unit tests alone, on every core (pytest-xdist, tests spread one by one): under 60 s on
# 2 cores, what a change is checked with while working.
test-fast: setup
	$(PY) -m pytest -q -m "not slow" -n auto --dist load

lab: setup
	$(VENV)/bin/jupyter lab notebooks/

compose: setup
	$(PY) -m lab_utils compose

clean:
	rm -rf $(VENV) .pytest_cache
