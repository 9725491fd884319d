"""Building a style from a folder of music, as a user meets it on the command line: every bad
input (folders, files, options, a mapping file) is one ``error:`` line and exit code 2 with
nothing written, or a build that reports each skipped file with its reason; an interrupted
build keeps the last good dataset, and a second build reads nothing again.

Styles and the read cache always go to a temporary folder (``LAB_STYLES_DIR`` for the CLI,
``styles.places.STYLES_DIR``/``READ_CACHE`` in-process), never to the repository's data/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from conftest import REPO, run_cli
from lab_utils import styles
from lab_utils.midi import write_midi
from lab_utils.samples import melody_roll, random_band_piece
from lab_utils.catalog import load_style
from lab_utils.styles import StyleError, build_style, corpus_sources, folder_sources


# --- helpers ---------------------------------------------------------------------------------

@pytest.fixture
def home(tmp_path, monkeypatch):
    """LAB_STYLES_DIR (for the CLI's fresh processes) and styles.places.STYLES_DIR/READ_CACHE (in-process)
    in a temporary folder: nothing is written into the repository's data/."""
    folder = tmp_path / "home" / "styles"
    monkeypatch.setenv("LAB_STYLES_DIR", str(folder))
    monkeypatch.setattr(styles.places, "STYLES_DIR", folder)
    monkeypatch.setattr(styles.places, "READ_CACHE", folder / ".read")
    return folder


def band_folder(folder: Path, n: int = 3, first_seed: int = 0, time_signature=(4, 4), stem: str = "song") -> Path:
    """``n`` band MIDI files (Lead, Piano, Bass, Drums on channel 10)."""
    folder.mkdir(parents=True, exist_ok=True)
    for seed in range(first_seed, first_seed + n):
        write_midi(random_band_piece(seed, time_signature=time_signature), folder / f"{stem}{seed:02d}.mid")
    return folder


BAD_FILES = ("empty.mid", "random.mid", "truncated.mid", "text.mid", "header-then-junk.mid",
             "garbage.xml", "garbage.musicxml", "garbage.krn", "garbage.abc")
NOT_MUSIC = ("notes.txt", "cover.png")


def bad_files(folder: Path) -> Path:
    """Zero-byte, corrupt and non-music files (the latter are not counted at all)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    (folder / "empty.mid").write_bytes(b"")
    (folder / "random.mid").write_bytes(rng.bytes(300))
    good = write_midi(random_band_piece(99), folder / "whole.tmp.mid").read_bytes()
    (folder / "whole.tmp.mid").unlink()
    (folder / "truncated.mid").write_bytes(good[: len(good) // 2])
    (folder / "text.mid").write_text("this is a text file, not MIDI\n")
    (folder / "header-then-junk.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x10\x00"
                                                  + rng.bytes(100))
    (folder / "garbage.xml").write_text("<score-partwise><part id='P1'><measure>oops")
    (folder / "garbage.musicxml").write_bytes(rng.bytes(200))
    (folder / "garbage.krn").write_text("garbage\x01 not kern at all\n*-\n")
    (folder / "garbage.abc").write_text("X:1\nT:bad\nK:???\n|:[[[ zz ]]] ::|\n")
    (folder / "notes.txt").write_text("my favourite songs")
    (folder / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n" + rng.bytes(64))
    return folder


def build(folder, name: str, *extra: str) -> subprocess.CompletedProcess:
    return run_cli("dataset", "build", str(folder), "--name", name, "--jobs", "1", *extra)


def build_report(folder, name: str, *extra: str) -> dict:
    """A build that must succeed; its --json report."""
    result = build(folder, name, "--json", *extra)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0])


def user_error(result: subprocess.CompletedProcess, progress: bool = False) -> str:
    """Exit code 2, no traceback, one ``error:`` line on stderr (after the reading progress bar,
    where ``progress``, which is all else there may be); the error line."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == "", result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    if progress:
        assert all(line.startswith("reading") for line in lines[:-1]), result.stderr
    else:
        assert result.stderr.count("\n") == 1, result.stderr
    return errors[0]


def nothing_written(home: Path, name: str) -> None:
    """No style NAME (nor its scratch folders) under LAB_STYLES_DIR; at most the read cache."""
    for ending in ("", ".old"):
        assert not (home / f"{name}{ending}").exists(), ending
    assert not list(home.glob(f"{name}.*.tmp"))
    if home.exists():
        assert {p.name for p in home.iterdir()} <= {".read"}, sorted(p.name for p in home.iterdir())
    if home.parent.exists():  # a name like ../x made nothing beside the styles either
        assert {p.name for p in home.parent.iterdir()} <= {"styles"}


# --- folders that cannot be built --------------------------------------------------------------

def _empty(tmp_path):
    (tmp_path / "music").mkdir()
    return tmp_path / "music"


def _missing(tmp_path):
    return tmp_path / "no such music"


def _a_file(tmp_path):
    return write_midi(random_band_piece(0), tmp_path / "song.mid")


def _only_bad(tmp_path):
    return bad_files(tmp_path / "music")


def _only_not_music(tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    (folder / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return folder


@pytest.mark.parametrize("make, says", [
    (_empty, "no MIDI, MusicXML, kern or ABC files found"),
    (_missing, "no such folder"),
    (_a_file, "not a folder"),
    (_only_bad, f"no usable piece among {len(BAD_FILES)} file(s) ({len(BAD_FILES)} unreadable)"),
    (_only_not_music, "no MIDI, MusicXML, kern or ABC files found"),
], ids=["empty folder", "no such folder", "a file", "only bad files", "only non-music files"])
def test_a_folder_without_music_is_one_line_and_writes_nothing(tmp_path, home, make, says):
    folder = make(tmp_path)
    line = user_error(build(folder, "mine"), progress=True)
    assert says in line and str(folder) in line, line
    nothing_written(home, "mine")


def test_a_failed_build_keeps_the_earlier_dataset_of_that_name(tmp_path, home):
    report = build_report(band_folder(tmp_path / "good"), "mine")
    earlier = load_style("mine")
    manifest = (home / "mine" / "manifest.json").read_bytes()
    for folder in (_empty(tmp_path), bad_files(tmp_path / "bad")):
        user_error(build(folder, "mine"), progress=True)
    assert (home / "mine" / "manifest.json").read_bytes() == manifest
    again = load_style("mine")
    assert report["used"] == len(again.pieces) == 3
    assert all(np.array_equal(a.notes, b.notes) for a, b in zip(earlier.pieces, again.pieces))
    assert not list(home.glob("mine.*.tmp")) and not (home / "mine.old").exists()


# --- bad files beside good ones ----------------------------------------------------------------

def test_zero_byte_corrupt_and_non_music_files_beside_good_ones(tmp_path, home):
    folder = bad_files(band_folder(tmp_path / "music", n=3))
    report = build_report(folder, "mine")
    assert report["found"] == 3 + len(BAD_FILES)  # .txt and .png are simply not counted
    assert report["used"] == 3
    assert sorted(report["skipped"]) == ["unreadable"]
    assert sorted(report["skipped"]["unreadable"]) == sorted(BAD_FILES)
    assert sorted(report["reasons"]) == sorted(BAD_FILES)
    for label in NOT_MUSIC:
        assert label not in report["reasons"]
    reasons = report["reasons"]
    assert all(reason.startswith("unreadable") and "\n" not in reason for reason in reasons.values()), reasons
    assert reasons["empty.mid"] == "unreadable: an empty file"
    assert "not a MIDI file" in reasons["text.mid"] and "not a MIDI file" in reasons["random.mid"]
    assert "damaged or truncated" in reasons["truncated.mid"]
    assert "damaged or truncated" in reasons["header-then-junk.mid"]
    saved = json.loads((home / "mine" / "report.json").read_text())
    assert saved["reasons"] == reasons and saved["used"] == 3
    # the terminal's table names them too (a second build: every file from the read cache)
    table = build(folder, "mine")
    assert table.returncode == 0, table.stderr
    assert f"{3 + len(BAD_FILES)} files found, 3 used, {len(BAD_FILES)} skipped" in table.stdout
    assert "unreadable" in table.stdout


def test_drums_only_duplicate_and_too_short_files_are_skipped_with_their_reason(tmp_path, home):
    folder = band_folder(tmp_path / "music", n=3)
    drums = pretty_midi.PrettyMIDI(initial_tempo=120)
    kit = pretty_midi.Instrument(0, is_drum=True, name="Kit")
    kit.notes = [pretty_midi.Note(90, 36 + 2 * (i % 3), i * 0.25, i * 0.25 + 0.1) for i in range(64)]
    drums.instruments.append(kit)
    drums.write(str(folder / "drums.mid"))
    (folder / "song00 again.mid").write_bytes((folder / "song00.mid").read_bytes())  # the same file twice
    slower = random_band_piece(1)
    slower.tempo = 90.0
    write_midi(slower, folder / "song01 slower.mid")  # other bytes, the same notes
    write_midi(random_band_piece(5, bars=1), folder / "short.mid")  # one bar of 4/4
    report = build_report(folder, "mine")
    assert report["found"] == 7 and report["used"] == 3
    reasons = report["reasons"]
    assert reasons["drums.mid"] == "only drums" and report["skipped"]["only drums"] == ["drums.mid"]
    assert reasons["short.mid"].startswith("too short") and report["skipped"]["too short"] == ["short.mid"]
    duplicates = report["skipped"]["duplicate"]
    assert len(duplicates) == 2
    assert len({"song00.mid", "song00 again.mid"} & set(duplicates)) == 1  # one of the pair is used
    assert len({"song01.mid", "song01 slower.mid"} & set(duplicates)) == 1
    assert all(reasons[label].startswith("duplicate: the same") for label in duplicates)
    assert len(load_style("mine").pieces) == 3


def twenty_tracks(path: Path) -> dict[str, set[tuple[int, int]]]:
    """A file of 20 tracks: a part named as a melody under a higher one, a bass-family part above
    a lower tuba, two drum tracks and 14 more parts. Returns each role's (start step, pitch)s."""
    spec = [("Lead Vocal", 52, False, lambda i: 72 + i % 5),
            ("Piccolo", 72, False, lambda i: 91 + i % 3),  # higher than the vocal, not named a melody
            ("Fretless", 35, False, lambda i: 40 + i % 5),  # General MIDI's bass family
            ("Tuba", 58, False, lambda i: 29 + i % 3),  # lower than the bass, not of its family
            ("Kick", 0, True, lambda i: 36),
            ("Hats", 0, True, lambda i: 42)]
    programs = [0, 4, 11, 24, 48, 49, 56, 61, 65, 68, 70, 19, 6, 46]
    spec += [(f"Part {k}", programs[k], False, lambda i, k=k: 50 + k + i % 2) for k in range(14)]
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0))
    steps = {}
    for name, program, drum, pitch in spec:
        track = pretty_midi.Instrument(program, is_drum=drum, name=name)
        track.notes = [pretty_midi.Note(80, pitch(i), i * 0.25, i * 0.25 + 0.2) for i in range(32)]  # 8ths
        pm.instruments.append(track)
        steps[name] = {(2 * i, pitch(i)) for i in range(32)}
    assert len(pm.instruments) == 20
    pm.write(str(path))
    rest = set().union(*(s for name, s in steps.items()
                         if name not in ("Lead Vocal", "Fretless", "Kick", "Hats")))
    return {"melody": steps["Lead Vocal"], "accompaniment": rest, "bass": steps["Fretless"],
            "drums": steps["Kick"] | steps["Hats"]}


def test_a_file_of_twenty_tracks_builds_with_melody_bass_drums_and_the_rest_blended(tmp_path, home):
    folder = band_folder(tmp_path / "music", n=2)
    expected = twenty_tracks(folder / "twenty.mid")
    report = build_report(folder, "mine")
    assert report["used"] == 3 and "twenty.mid" not in report["reasons"] and report["layout"] == "band"
    piece = {c.id: c for c in load_style("mine").pieces}["twenty.mid"]
    for role, name in enumerate(("melody", "accompaniment", "bass", "drums")):
        rows = piece.notes[piece.notes[:, 0] == role]
        assert {(int(s), int(p)) for s, p in rows[:, 1:3]} == expected[name], name
    shown = run_cli("dataset", "--name", "mine", "--json")
    assert shown.returncode == 0, shown.stderr
    assert sum(json.loads(shown.stdout)["counts"].values()) == 3


def test_a_forty_minute_file_builds_or_is_skipped_with_a_reason_in_reasonable_time(tmp_path, home):
    folder = band_folder(tmp_path / "music", n=2)
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0))
    lead, piano = pretty_midi.Instrument(81, name="Lead"), pretty_midi.Instrument(0, name="Piano")
    bass, kit = pretty_midi.Instrument(33, name="Bass"), pretty_midi.Instrument(0, is_drum=True, name="Drums")
    for beat in range(40 * 120):  # 40 minutes of quarter notes at 120 bpm
        t = beat * 0.5
        lead.notes.append(pretty_midi.Note(90, 67 + (beat * 7) % 12, t, t + 0.45))
        piano.notes += [pretty_midi.Note(70, 55 + p, t, t + 0.45) for p in (0, 4, 7)]
        bass.notes.append(pretty_midi.Note(90, 36 + (beat // 4) % 7, t, t + 0.45))
        kit.notes.append(pretty_midi.Note(90, 36 if beat % 2 == 0 else 38, t, t + 0.1))
    pm.instruments += [lead, piano, bass, kit]
    pm.write(str(folder / "forty minutes.mid"))
    started = time.perf_counter()
    report = build_report(folder, "mine")
    assert time.perf_counter() - started < 60
    if "forty minutes.mid" in report["reasons"]:
        assert report["used"] == 2 and report["reasons"]["forty minutes.mid"].strip()
    else:
        assert report["used"] == 3
        long_piece = {c.id: c for c in load_style("mine").pieces}["forty minutes.mid"]
        assert long_piece.n_steps == 40 * 120 * 4


def test_mixed_meters_keep_the_most_common_or_the_one_asked_for(tmp_path, home):
    folder = band_folder(tmp_path / "music", n=3, stem="four")
    band_folder(folder, n=2, first_seed=10, time_signature=(3, 4), stem="three")
    fours, threes = ["four00.mid", "four01.mid", "four02.mid"], ["three10.mid", "three11.mid"]
    default = build_report(folder, "mine")
    assert default["meter"] == [4, 4] and default["used"] == 3
    assert sorted(default["skipped"]) == ["other meter"] and sorted(default["skipped"]["other meter"]) == threes
    assert all(default["reasons"][t].startswith("other meter: 3/4") for t in threes)
    three = build_report(folder, "mine", "--meter", "3/4")
    assert three["meter"] == [3, 4] and three["used"] == 2
    assert sorted(three["skipped"]["other meter"]) == fours
    assert {c.time_signature for c in load_style("mine").pieces} == {(3, 4)}
    every = build_report(folder, "mine", "--meter", "any")
    assert every["meter"] == "any" and every["used"] == 5 and every["skipped"] == {}
    assert {c.time_signature for c in load_style("mine").pieces} == {(3, 4), (4, 4)}


# --- bad options -----------------------------------------------------------------------------

BAD_OPTIONS = {
    "meter 5/3": (["dataset", "build", "{folder}", "--name", "mine", "--meter", "5/3"], "5/3 is not a meter"),
    "meter x": (["dataset", "build", "{folder}", "--name", "mine", "--meter", "x"], "expected a meter like 3/4"),
    "meter 0/4": (["dataset", "build", "{folder}", "--name", "mine", "--meter", "0/4"], "0/4 is not a meter"),
    "name ../x": (["dataset", "build", "{folder}", "--name", "../x"], "cannot name a style"),
    "name empty": (["dataset", "build", "{folder}", "--name", ""], "cannot name a style"),
    "name absolute": (["dataset", "build", "{folder}", "--name", "/tmp/x"], "cannot name a style"),
    "name hidden": (["dataset", "build", "{folder}", "--name", ".read"], "cannot name a style"),
    "no folder nor corpus": (["dataset", "build", "--name", "mine"], "give a folder or --corpus"),
    "folder and corpus": (["dataset", "build", "{folder}", "--corpus", "bach", "--name", "mine"],
                          "give a folder or --corpus"),
    "corpus nobody": (["dataset", "build", "--corpus", "nobody", "--name", "mine"], "no composer 'nobody'"),
    "name bach": (["dataset", "build", "{folder}", "--name", "bach"], "'bach' is the chorales"),
    "no name (bach)": (["dataset", "build", "{folder}"], "'bach' is the chorales"),
    "jobs 0": (["dataset", "build", "{folder}", "--name", "mine", "--jobs", "0"], "--jobs"),
    "show nosuch": (["dataset", "--name", "nosuch"], "no style 'nosuch' built yet"),
    "show nosuch json": (["dataset", "--name", "nosuch", "--json"], "no style 'nosuch' built yet"),
    "show a path": (["dataset", "--name", "../x"], "cannot name a style"),
    "show with a folder": (["dataset", "--name", "mine", "--corpus", "bach"], "is read by 'dataset build'"),
}


@pytest.mark.parametrize("case", list(BAD_OPTIONS))
def test_bad_options_are_one_line_and_write_nothing(tmp_path, home, case):
    folder = band_folder(tmp_path / "music", n=1)
    args, says = BAD_OPTIONS[case]
    bach = sorted((p.name, p.stat().st_mtime_ns) for p in (REPO / "data" / "bach").glob("*")) \
        if (REPO / "data" / "bach").is_dir() else []
    line = user_error(run_cli(*(a.replace("{folder}", str(folder)) for a in args)))
    assert says in line, line
    nothing_written(home, "mine")
    assert not (tmp_path / "x").exists() and not (home.parent / "x").exists()
    if bach:  # the chorales' dataset is never touched
        assert sorted((p.name, p.stat().st_mtime_ns) for p in (REPO / "data" / "bach").glob("*")) == bach


NO_TENSORFLOW = """
import sys
from lab_utils.__main__ import main
code = main(sys.argv[1:])
print(sorted(m for m in ("tensorflow", "keras", "tf_keras") if m in sys.modules))
sys.exit(code)
"""


@pytest.mark.parametrize("command", ["train", "harmonize", "compose", "evaluate"])
def test_a_style_that_does_not_exist_fails_fast_before_tensorflow(tmp_path, home, command):
    tune = write_midi(melody_roll("ode_to_joy"), tmp_path / "tune.mid")
    out = tmp_path / "out"
    args = {"train": ["train", "gan", "--data", "nosuch", "-o", str(out), "--iterations", "2"],
            "harmonize": ["harmonize", str(tune), "-o", str(out), "--style", "nosuch"],
            "compose": ["compose", "--style", "nosuch", "-o", str(out)],
            "evaluate": ["evaluate", "--data", "nosuch", "--json", str(out / "e.json")]}[command]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", NO_TENSORFLOW, *args], capture_output=True, text=True,
                            cwd=REPO, env=env, timeout=120)
    seconds = time.perf_counter() - started
    assert result.stdout.strip() == "[]", (result.stdout, result.stderr)  # TensorFlow never imported
    result.stdout = ""
    line = user_error(result)
    assert "'nosuch'" in line, line
    assert seconds < 15, seconds
    assert not out.exists()
    nothing_written(home, "nosuch")


# --- a mapping file --------------------------------------------------------------------------

def test_a_mapping_file_that_names_tracks_is_honoured(tmp_path, home):
    folder = band_folder(tmp_path / "music", n=3)
    # the bass plays the accompaniment's role and the piano the bass's: the rule would not do that
    (folder / styles.MAPPING_FILE).write_text(json.dumps({"*.mid": ["Lead", "Bass", "Piano", "Drums"]}))
    report = build_report(folder, "mine")
    assert report["used"] == 3 and report["reasons"] == {}
    roles = {r["name"]: r for r in report["roles"]}
    assert [r["name"] for r in report["roles"]] == ["Melody", "Accompaniment", "Bass", "Drums"]
    assert (roles["Melody"]["program"], roles["Melody"]["kind"]) == (81, "voice")
    assert (roles["Accompaniment"]["program"], roles["Accompaniment"]["kind"]) == (33, "voice")
    assert (roles["Bass"]["program"], roles["Bass"]["kind"]) == (0, "chords")
    assert roles["Drums"]["kind"] == "drums"
    assert roles["Accompaniment"]["range"][1] < roles["Bass"]["range"][1]  # the bass line under the piano
    piece = {c.id: c for c in load_style("mine").pieces}["song00.mid"]
    bass = {(n.start, n.pitch) for n in random_band_piece(0).notes(2)}
    rows = piece.notes[piece.notes[:, 0] == 1]
    assert {(int(s), int(p)) for s, p in rows[:, 1:3]} == bass


@pytest.mark.parametrize("text", [
    "{not json", "", "[]", "null", '{"*": "Lead"}', '{"*": ["Lead", "Piano", "Bass"]}',
    '{"*": ["Lead", "Piano", "Bass", "Drums", "Guitar"]}', '["Lead", "Piano", "Bass", "Drums"]',
], ids=["not json", "empty", "a list", "null", "not a list of roles", "three roles", "five roles",
        "no patterns"])
def test_a_malformed_mapping_file_is_one_line(tmp_path, home, text):
    folder = band_folder(tmp_path / "music", n=1)
    (folder / styles.MAPPING_FILE).write_text(text)
    line = user_error(build(folder, "mine"))
    assert styles.MAPPING_FILE in line, line
    nothing_written(home, "mine")


def test_a_mapping_file_that_is_not_text_is_one_line(tmp_path, home):
    folder = band_folder(tmp_path / "music", n=1)
    (folder / styles.MAPPING_FILE).write_bytes(b"\xff\xfe\x00garbage\x80")
    line = user_error(build(folder, "mine"))
    assert styles.MAPPING_FILE in line, line
    nothing_written(home, "mine")


# --- in-process: an interrupted build, and the read cache ------------------------------------

def test_an_interrupted_build_leaves_the_last_good_dataset(tmp_path, home, monkeypatch):
    folder = band_folder(tmp_path / "music", n=3)
    build_style("mine", folder_sources(folder), folder=folder, jobs=1, progress=False)
    before = load_style("mine")
    files = {p.relative_to(home): p.read_bytes() for p in (home / "mine").rglob("*") if p.is_file()}
    write_midi(random_band_piece(20), folder / "new.mid")
    (folder / "song00.mid").unlink()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(styles.build, "report_picture", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_style("mine", folder_sources(folder), folder=folder, jobs=1, progress=False)
    after = load_style("mine")
    assert [c.id for c in after.pieces] == [c.id for c in before.pieces] == \
        ["song00.mid", "song01.mid", "song02.mid"]
    assert all(np.array_equal(a.notes, b.notes) for a, b in zip(after.pieces, before.pieces))
    assert {p.relative_to(home): p.read_bytes() for p in (home / "mine").rglob("*") if p.is_file()} == files
    assert not list(home.glob("mine.*.tmp")) and not (home / "mine.old").exists()


def test_a_second_build_reads_nothing_and_a_changed_file_is_read_again(tmp_path, home, monkeypatch):
    folder = band_folder(tmp_path / "music", n=4)
    (folder / "empty.mid").write_bytes(b"")
    read = []
    real = styles.sources.read_music_file
    monkeypatch.setattr(styles.sources, "read_music_file", lambda path: read.append(Path(path).name) or real(path))

    def again():
        read.clear()
        return build_style("mine", folder_sources(folder), folder=folder, jobs=1, progress=False)[1]

    first = again()
    assert sorted(read) == ["empty.mid", "song00.mid", "song01.mid", "song02.mid", "song03.mid"]
    second = again()
    assert read == []
    assert (second.used, second.skipped, second.reasons) == (first.used, first.skipped, first.reasons) == \
        (4, {"unreadable": ["empty.mid"]}, {"empty.mid": "unreadable: an empty file"})
    write_midi(random_band_piece(9), folder / "song01.mid")  # changed
    third = again()
    assert read == ["song01.mid"]
    assert third.used == 4
    (folder / "song02.mid").rename(folder / "renamed.mid")  # the same content under another name
    fourth = again()
    assert read == [] and fourth.used == 4


# --- names and corpus entries that would reach outside their place ------------------------

@pytest.mark.parametrize("name", ["mine.tmp", "mine.old", "mine.parts"])
def test_a_name_like_a_scratch_folder_is_refused(tmp_path, home, name):
    """atomic_folder fills NAME.<pid>.<tag>.tmp and keeps NAME.old beside NAME, a split build keeps NAME.parts:
    no style may take those names."""
    line = user_error(build(band_folder(tmp_path / "music", n=2), name, "--json"))
    assert ".tmp, .old or .parts" in line
    nothing_written(home, name)


def test_corpus_given_a_path_is_one_line(tmp_path, home):
    folder = band_folder(tmp_path / "music", n=2)
    line = user_error(run_cli("dataset", "build", "--corpus", str(folder), "--name", "mine", "--jobs", "1", "--json"))
    assert "composer" in line, line
    nothing_written(home, "mine")


@pytest.mark.parametrize("composer", [".", ".."])
def test_corpus_names_stay_inside_the_corpus(composer):
    with pytest.raises(StyleError):
        corpus_sources(composer)
