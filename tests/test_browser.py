"""The notebooks in JupyterLab in a real browser, checked for what a person sees.

JupyterLab runs on 127.0.0.1 with a token and LAB_QUICK=1, on copies of notebooks 01, 06 and 07
in a scratch folder (Lab never writes into the committed notebooks). Playwright drives the
system's Chromium (Debian's `chromium`, which `make setup` installs with apt-get where it can;
LAB_CHROMIUM points at another one): Playwright downloads no browser. Without a Chromium the
tests are skipped and say why.

What a person sees, checked: Run > Run All Cells gives every code cell a number and no error;
01 shows a piano roll and an audio player; in 06 the studio renders and Generate (a sample
with the GAN, typed notes with the AR-CNN, then both models) gives a piano roll, an audio player
whose duration is above 0 and download links whose files are a valid MIDI and MP3; 07 shows
the track's picture and a one-minute audio player. A screenshot of every notebook goes to
out/browser-test/ (LAB_TEST_ARTIFACTS), named ...-failed.png when a check failed, with Lab's log.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import mido
import pytest
import soundfile

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("LAB_TEST_ARTIFACTS", REPO / "out" / "browser-test"))
NOTEBOOKS = ("01_data.ipynb", "06_music_studio.ipynb", "07_challenge.ipynb")


def find_chromium() -> str | None:
    """LAB_CHROMIUM, else the first Chromium or Chrome on the PATH."""
    if os.environ.get("LAB_CHROMIUM"):
        return os.environ["LAB_CHROMIUM"]
    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)


CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium to drive: `make setup` installs Debian's `chromium` with apt-get "
    "where it runs as root or with sudo (it said why it could not); or set LAB_CHROMIUM=/path/to/chromium")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make setup installs it)")

# Lab's settings for a test: every cell in the page (no windowing), no news or update pop-ups
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}
# a cell's output that is a Python error (Lab shows errors as stderr text with the traceback)
ERROR = re.compile(r"Traceback \(most recent call last\)|^\w*(Error|Exception|Exit)\b", re.M)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A scratch workshop: the package, models and data linked, the three notebooks copied."""
    root = tmp_path_factory.mktemp("lab")
    for name in ("lab_utils", "models", "data", "requirements.txt", "install_requirements.py"):
        (root / name).symlink_to(REPO / name)
    (root / "notebooks").mkdir()
    for name in NOTEBOOKS:
        shutil.copy(REPO / "notebooks" / name, root / "notebooks" / name)
    # the challenge is a one-minute track; quick mode would make it 30 s, so set what a person runs
    path = root / "notebooks" / "07_challenge.ipynb"
    quick = "SECONDS = 30 if QUICK else 60"
    assert quick in path.read_text(), f"07's {quick!r} changed: update tests/test_browser.py"
    path.write_text(path.read_text().replace(quick, "SECONDS = 60"))
    return root


@pytest.fixture(scope="module")
def lab(workspace, tmp_path_factory):
    """JupyterLab on 127.0.0.1 with a token and LAB_QUICK=1: yields (base URL, token, log path)."""
    home = tmp_path_factory.mktemp("lab-home")
    for plugin, values in SETTINGS.items():
        path = home / "settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, LAB_QUICK="1", JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    log_path = home / "lab.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={workspace}",
             f"--LabApp.user_settings_dir={home / 'settings'}", f"--LabApp.workspaces_dir={home / 'workspaces'}"],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if server.poll() is not None:
                pytest.fail(f"JupyterLab stopped (exit {server.returncode}):\n{log_path.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
                break
            except OSError:
                time.sleep(0.25)
        else:
            pytest.fail(f"JupyterLab did not answer in 60 s:\n{log_path.read_text()[-3000:]}")
        yield base, token, log_path
    finally:
        try:  # shuts its kernels down too
            urllib.request.urlopen(urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST"), timeout=10)
            server.wait(timeout=30)
        except Exception:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@contextmanager
def notebook(browser, lab, name: str):
    """The notebook open in Lab (its kernel idle); a screenshot when done or failed."""
    base, token, log_path = lab
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = Path(name).stem
    try:
        # a workspace of its own, reset: only this notebook is open
        page.goto(f"{base}/lab/workspaces/{stem}/tree/notebooks/{name}?reset&token={token}")
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']"
                     ).wait_for(timeout=120_000)
        yield page
    except BaseException:
        page.screenshot(path=ARTIFACTS / f"{stem}-failed.png", full_page=True)
        shutil.copy(log_path, ARTIFACTS / "lab.log")
        raise
    else:
        page.screenshot(path=ARTIFACTS / f"{stem}.png", full_page=True)
    finally:
        context.close()
        _close_sessions(base, token)


def _close_sessions(base: str, token: str) -> None:
    """One notebook's kernel at a time: the next notebook gets the machine to itself."""
    try:
        for session in json.load(urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=10)):
            request = urllib.request.Request(f"{base}/api/sessions/{session['id']}?token={token}", method="DELETE")
            urllib.request.urlopen(request, timeout=30)
    except OSError:
        pass  # the server is gone: the lab fixture reports it


def run_all(page, timeout_s: float = 300) -> None:
    """Run > Run All Cells, as a person does, then wait until every cell ran or one failed."""
    prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt")
    page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"\| Idle")).first.wait_for(timeout=120_000)
    for attempt in range(3):  # a kernel that has only just connected may let the first click pass
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            page.wait_for_function("() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]"
                                   ".some(p => /\\[[\\d*]+\\]/.test(p.textContent))", timeout=15_000)
            break
        except sync_api.TimeoutError:
            print(f"Run All Cells started nothing in 15 s (attempt {attempt + 1})")
    page.wait_for_function("""(error) => {
        const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent);
        const failed = [...document.querySelectorAll('.jp-OutputArea-output')].some(o => new RegExp(error, 'm').test(o.textContent));
        return !prompts.some(p => p.includes('*')) && (failed || prompts.every(p => /\\[\\d+\\]/.test(p)));
    }""", arg=ERROR.pattern, timeout=timeout_s * 1000, polling=500)
    errors = [t for t in page.locator(".jp-OutputArea-output").all_text_contents() if ERROR.search(t)]
    assert not errors, "a cell failed:\n" + "\n".join(errors)[-3000:]
    not_run = [p for p in prompts.all_text_contents() if not re.search(r"\d", p)]
    assert not not_run, f"{len(not_run)} of {prompts.count()} code cells did not run"


def keep(locator, name: str) -> None:
    """A screenshot of one thing on the page (Lab's page does not scroll: its notebook does)."""
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=ARTIFACTS / name)


def images(area) -> list[tuple[int, int]]:
    """The pictures shown in ``area``: (width, height) as the browser decoded them."""
    return [tuple(img.evaluate("i => [i.naturalWidth, i.naturalHeight]")) for img in area.locator("img").all()]


def audio_seconds(area) -> list[float]:
    """The duration of every audio player in ``area``, once the browser has read its header."""
    return [player.evaluate("""a => a.readyState >= 1 ? a.duration : new Promise(done => {
        a.addEventListener('loadedmetadata', () => done(a.duration), {once: true});
        setTimeout(() => done(a.duration), 30000);
    })""") for player in area.locator("audio").all()]


def test_01_shows_a_piano_roll_and_an_audio_player(browser, lab):
    with notebook(browser, lab, "01_data.ipynb") as page:
        run_all(page)
        outputs = page.locator(".jp-OutputArea-output")
        pictures = images(outputs)
        assert pictures and all(w > 300 and h > 100 for w, h in pictures), pictures
        seconds = audio_seconds(outputs)
        assert len(seconds) >= 2 and all(s > 5 for s in seconds), seconds  # the chorale and Twinkle
        keep(page.locator(".jp-CodeCell").filter(has=page.locator("img")).first, "01_data-pianoroll.png")
        keep(page.locator(".jp-CodeCell").filter(has=page.locator("audio")).first, "01_data-player.png")
        print(json.dumps({"pictures": pictures, "audio_s": seconds}))


def _generate(page, studio, source: str, model: str, pitches: set[int] = frozenset()) -> dict:
    """Choose a melody source and a model, press Generate, check what comes; returns what was seen.

    ``pitches``: MIDI pitches of the melody; the downloaded MIDI file must contain all but two of
    them (the notebook lets the AR-CNN remove 10 % of the notes).
    """
    result = studio.locator(".widget-output")
    links = result.locator("a[download$='.mid']")
    before = links.first.get_attribute("download") if links.count() else None
    studio.get_by_role("button", name=source, exact=True).click()
    studio.get_by_role("button", name=model, exact=True).click()
    started = time.monotonic()
    studio.get_by_role("button", name="Generate").click()
    page.wait_for_function("""([area, before, model]) => {
        const link = area.querySelector("a[download$='.mid']");
        return link && link.download !== before && link.download.includes(model);
    }""", arg=[result.element_handle(), before, f"-{model.lower()}-seed"], timeout=120_000)
    seconds_to_result = time.monotonic() - started
    pictures = images(result)
    assert len(pictures) == 1 and pictures[0][0] > 300, f"no piano roll: {pictures}"
    seconds = audio_seconds(result)
    assert len(seconds) == 1 and seconds[0] > 0, f"audio players and their seconds: {seconds}"
    files = {}
    for link in result.locator("a[download]").all():
        with page.expect_download() as download:
            link.click()
        path = ARTIFACTS / download.value.suggested_filename
        download.value.save_as(path)
        files[path.suffix] = path
    assert set(files) == {".mid", ".mp3", ".png"}, files
    midi = mido.MidiFile(files[".mid"])
    notes = [m for track in midi.tracks for m in track if m.type == "note_on" and m.velocity]
    assert len(notes) >= 8 and midi.length > 1, f"{files['.mid'].name}: {len(notes)} notes, {midi.length:.1f} s"
    missing = set(pitches) - {m.note for m in notes}
    assert len(missing) <= 2, f"{files['.mid'].name} lacks the melody's pitches {sorted(missing)}"
    mp3 = soundfile.info(files[".mp3"])
    assert mp3.format == "MP3" and mp3.duration > 1, mp3
    return {"file": files[".mid"].stem, "seconds to result": round(seconds_to_result, 1), "picture": pictures[0],
            "player s": round(seconds[0], 2), "midi notes": len(notes), "midi s": round(midi.length, 2),
            "mp3 s": round(mp3.duration, 2), "status": studio.locator(".widget-html").last.inner_text()}


def test_06_studio_generates_what_you_can_hear_and_download(browser, lab):
    with notebook(browser, lab, "06_music_studio.ipynb") as page:
        run_all(page)
        studio = page.locator(".widget-vbox").filter(has=page.get_by_role("button", name="Generate")).first
        studio.wait_for()
        # the notebook's own inline call: the piano roll, a player and the download links
        assert page.locator(".jp-OutputArea-output a[download$='.mid']").count() >= 1
        select = studio.locator("select").first  # the sample: Amazing Grace, chosen from the list
        select.select_option(label=next(o for o in select.locator("option").all_text_contents()
                                        if o.replace("\xa0", " ") == "Amazing Grace"))
        seen = {"sample + GAN": _generate(page, studio, "sample", "GAN")}
        assert seen["sample + GAN"]["file"].startswith("amazing_grace-gan-seed0")
        studio.locator(".widget-text", has=page.locator("label", has_text=re.compile("^notes$"))).locator(
            "input").fill("C4 E4 G4 C5 | B4 G4 D4- | E4 F4 G4 A4 | G4--")
        typed = {60, 64, 67, 72, 71, 62, 65, 69}  # C4 E4 G4 C5 B4 D4 F4 A4
        seen["typed notes + AR-CNN"] = _generate(page, studio, "typed notes", "AR-CNN", typed)
        seen["typed notes + both"] = _generate(page, studio, "typed notes", "both", typed)
        keep(studio, "06_music_studio-studio.png")
        print(json.dumps(seen, indent=1))


def test_07_shows_the_track_and_one_minute_players(browser, lab):
    with notebook(browser, lab, "07_challenge.ipynb") as page:
        run_all(page)
        outputs = page.locator(".jp-OutputArea-output")
        pictures = images(outputs)
        assert pictures and max(w for w, _ in pictures) > 600, pictures
        seconds = audio_seconds(outputs)
        # the track, then the same track beside the next seed's for the side-by-side listening
        assert len(seconds) == 3 and all(abs(s - 60) < 0.5 for s in seconds), seconds
        keep(page.locator(".jp-CodeCell").filter(has=page.locator("img")).first, "07_challenge-track.png")
        keep(page.locator(".jp-CodeCell").filter(has=page.locator("audio")).first, "07_challenge-player.png")
        print(json.dumps({"pictures": pictures, "audio_s": seconds}))
