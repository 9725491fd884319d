# The workshop's commands. `make compose` and `make test` are all a learner needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SOUNDFONT := /usr/share/sounds/sf2/FluidR3_GM.sf2

.PHONY: setup soundfont test lab compose clean

setup: $(STAMP) soundfont

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	# tinysoundfont declares pyaudio (live playback we never use, needs portaudio to build)
	$(PY) -m pip install --quiet --no-deps "tinysoundfont>=0.3.6,<0.4"
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# A General MIDI soundfont through the system package manager where we can; else the
# built-in synthesizer plays (and says so). TinySoundFont comes from pip, so no FluidSynth.
soundfont:
	@if [ -f "$(SOUNDFONT)" ] || [ -n "$$LAB_SOUNDFONT" ]; then \
	  echo "soundfont: found"; \
	elif command -v apt-get >/dev/null 2>&1 && { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  ($$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq fluid-soundfont-gm >/dev/null) \
	    || echo "soundfont: could not install fluid-soundfont-gm; the built-in synthesizer will play"; \
	else \
	  echo "soundfont: none installed (no apt-get or no root); the built-in synthesizer will play"; \
	fi

test: setup
	$(PY) -m pytest -q

lab: setup
	$(PY) -m pip install --quiet "jupyterlab>=4,<5"
	$(VENV)/bin/jupyter lab notebooks/

compose: setup
	$(PY) -m lab_utils compose

clean:
	rm -rf $(VENV) .pytest_cache
