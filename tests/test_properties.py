"""Every door a user reaches, fuzzed with Hypothesis: typed notes, the melody reader, the options
of ``harmonize``, ``enhance`` and ``compose``, and the studio's text and upload boxes; and two
writers racing for one file name.

The contract (DESIGN.md): exit code 0 or 2, never a traceback; a user's mistake is one line
``error: <what>: <why>`` and nothing is written for it; on success the melody is kept exactly and
the same seed gives the same bytes; earlier work is never overwritten.

``make test`` runs a small budget (under half a minute on a quiet machine). ``LAB_FUZZ_EXAMPLES=500 pytest
tests/test_properties.py`` searches wider; failing examples are kept in ``.hypothesis/``.
Known failures in modules this suite does not own are ``xfail(strict=True)`` reproducers at the
end: each turns into a failure ("XPASS") once its module is fixed, so its marker goes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path

import mido
import pytest
import soundfile
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from lab_utils.__main__ import main
from lab_utils.export import candidate_names
from lab_utils.files import rename_all_new, rename_new
from lab_utils.melody_source import MelodyError, melody_from
from lab_utils.midi import (MAX_BEATS, STEPS_PER_BEAT, MidiFileError, Note, PianoRoll, extract_melody,
                            read_midi, whole_bars, write_midi)
from lab_utils.samples import MELODIES, looks_like_notes, parse_notes

REPO = Path(__file__).resolve().parent.parent
FUZZ_EXAMPLES = os.environ.get("LAB_FUZZ_EXAMPLES")
settings.register_profile("lab", max_examples=50, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                 HealthCheck.data_too_large, HealthCheck.filter_too_much])
settings.register_profile("lab-fuzz", settings.get_profile("lab"), max_examples=int(FUZZ_EXAMPLES or 50))
settings.load_profile("lab-fuzz" if FUZZ_EXAMPLES else "lab")


def budget(share: float) -> settings:
    """A test's examples: ``share`` of the profile's (cheap doors get more, model runs fewer)."""
    return settings(max_examples=max(3, round(settings.default.max_examples * share)))


# --- strategies ----------------------------------------------------------------------------

PITCH_CLASSES = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6, "Gb": 6,
                 "G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11}
DURATIONS = {"": 4, "-": 8, "--": 12, "---": 16, "/": 2, "//": 1, ".": 6, "/.": 3, "-.": 12}  # in 16ths
METERS = [(n, d) for d in (2, 4, 8, 16) for n in range(1, 13)]  # every bar whole 16ths
JUNK_NUMBERS = ["", "x", "-", "--", "1e3", "0x10", " 7", "+5", "5.0", "nan", "-inf", "\u0663", "1_000", "1" + "0" * 5000]


def grid_notes(max_notes: int = 12, pitches: st.SearchStrategy[int] | None = None) -> st.SearchStrategy[list[Note]]:
    """One line of notes on the 16th grid, with rests and repeated notes."""
    pitches = pitches or st.one_of(st.integers(55, 84), st.integers(0, 127))
    events = st.lists(st.tuples(st.sampled_from([0, 0, 0, 1, 2, 4]), st.sampled_from([1, 2, 3, 4, 6, 8, 12, 16]),
                                pitches), min_size=1, max_size=max_notes)

    def place(items: list[tuple[int, int, int]]) -> list[Note]:
        notes, step = [], 0
        for rest, length, pitch in items:
            notes.append(Note(step + rest, pitch, length))
            step += rest + length
        return notes

    return events.map(place)


@st.composite
def typed_tunes(draw, octaves: tuple[int, int] = (-1, 9), rest_first: bool = True) -> tuple[str, list[Note]]:
    """A tune in the note language and the notes it stands for (rests included)."""
    tokens, notes, step = [], [], 0
    for number in range(draw(st.integers(1, 12))):
        suffix = draw(st.sampled_from(list(DURATIONS)))
        if (number or rest_first) and draw(st.integers(0, 5)) == 0:
            tokens.append(draw(st.sampled_from("Rr")) + suffix)
        else:
            name = draw(st.sampled_from(list(PITCH_CLASSES)))
            octave = draw(st.integers(*octaves))
            pitch = 12 * (octave + 1) + PITCH_CLASSES[name]
            if not 0 <= pitch < 128:  # G#9 and above
                octave, pitch = 4, 60 + PITCH_CLASSES[name]
            if draw(st.booleans()):
                name = name[0].lower() + name[1:]
            tokens.append(f"{name}{octave}{suffix}")
            notes.append(Note(step, pitch, DURATIONS[suffix]))
        step += DURATIONS[suffix]
    separators = st.lists(st.sampled_from([" ", "  ", " | ", "\t", "\n", " |"]), min_size=len(tokens), max_size=len(tokens))
    text = "".join(t + s for t, s in zip(tokens, draw(separators)))
    return text, notes


def _events_to_track(events: list[tuple[int, int, mido.Message]]) -> mido.MidiTrack:
    """(tick, order, message) at absolute ticks as a track of delta times."""
    track, now = mido.MidiTrack(), 0
    for tick, _, message in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(message.copy(time=tick - now))
        now = tick
    return track


def _pickup_signature(steps: int) -> tuple[int, int]:
    """The meter of a pickup bar of ``steps`` 16ths, as ``midi.write_midi`` writes it."""
    bar = Fraction(steps, 16)
    return int(bar * max(bar.denominator, 4)), max(bar.denominator, 4)


@st.composite
def grid_midi(draw, max_tracks: int = 3, max_notes: int = 12, melody: bool = False,
              pitches: st.SearchStrategy[int] | None = None) -> tuple[bytes, dict]:
    """A MIDI file mido writes, notes on the 16th grid, and what reading it must give.

    Any resolution, tempo map, meter (a later change too), pickup, channels (10 = drums),
    programs, track names, type 0 or 1. With ``melody``, the first track has pitched notes.
    """
    tpb = 4 * draw(st.integers(1, 250))
    step = tpb // 4
    meter = draw(st.sampled_from(METERS))
    bar = meter[0] * 16 // meter[1]
    pickup = draw(st.integers(1, bar - 1)) if bar > 1 and draw(st.booleans()) else 0
    conductor = []
    if pickup:
        conductor.append((0, 0, mido.MetaMessage("time_signature", numerator=_pickup_signature(pickup)[0],
                                                 denominator=_pickup_signature(pickup)[1])))
    conductor.append((pickup * step, 0, mido.MetaMessage("time_signature", numerator=meter[0], denominator=meter[1])))
    if draw(st.booleans()):  # a change of meter later on (after one bar it would read as a pickup)
        later = draw(st.sampled_from(METERS))
        conductor.append(((pickup + bar * draw(st.integers(2, 4))) * step, 0,
                          mido.MetaMessage("time_signature", numerator=later[0], denominator=later[1])))
    tempi = draw(st.lists(st.tuples(st.integers(0, 64), st.integers(200_000, 3_000_000)), max_size=4))
    tempi = sorted(dict(tempi).items())
    for at, tempo in tempi:
        conductor.append((at * step, 0, mido.MetaMessage("set_tempo", tempo=tempo)))
    channels = draw(st.lists(st.integers(0, 15), min_size=1, max_size=max_tracks, unique=True)
                    .filter(lambda c: not melody or c[0] != 9))
    tracks = []
    for number, channel in enumerate(channels):
        notes = draw(grid_notes(max_notes, pitches)) if (melody and number == 0) or draw(st.integers(0, 6)) else []
        name = draw(st.one_of(st.sampled_from(["", "Melody", "Bass", "Voice", "Drums", "Piano", "Soprano"]),
                              st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=12)))
        events = [(0, 0, mido.MetaMessage("track_name", name=name)),
                  (0, 1, mido.Message("program_change", channel=channel, program=draw(st.integers(0, 127))))]
        for note in notes:
            events.append((note.start * step, 3, mido.Message("note_on", channel=channel, note=note.pitch,
                                                               velocity=draw(st.integers(1, 127)))))
            events.append(((note.start + note.length) * step, 2, mido.Message("note_off", channel=channel,
                                                                                note=note.pitch)))
        tracks.append((channel, notes, events))
    midi = mido.MidiFile(type=draw(st.sampled_from([0, 1])), ticks_per_beat=tpb)
    if midi.type == 0:
        midi.tracks.append(_events_to_track(conductor + [e for _, _, events in tracks for e in events]))
    else:
        midi.tracks.append(_events_to_track(conductor))
        midi.tracks.extend(_events_to_track(events) for _, _, events in tracks)
    data = tempfile.SpooledTemporaryFile()
    midi.save(file=data)
    data.seek(0)
    pitched = sorted(notes for channel, notes, _ in tracks if notes and channel != 9)
    first_tempo = dict(tempi).get(0)
    expected = {"tracks": pitched, "meter": meter, "pickup": pickup,
                "tempo": 60_000_000 / first_tempo if first_tempo else 120.0,
                "error": None if pitched else ("only drum notes" if any(n for _, n, _ in tracks) else "no notes")}
    return data.read(), expected


@st.composite
def any_midi(draw) -> bytes:
    """A MIDI file mido writes with anything in it: any resolution, notes at any tick (overlapping,
    unfinished, velocity-0 offs), any meter and tempo values, controllers and pitch bends."""
    messages = st.one_of(
        st.builds(lambda c, n, v: mido.Message("note_on", channel=c, note=n, velocity=v),
                  st.integers(0, 15), st.integers(0, 127), st.integers(0, 127)),
        st.builds(lambda c, n: mido.Message("note_off", channel=c, note=n), st.integers(0, 15), st.integers(0, 127)),
        st.builds(lambda t: mido.MetaMessage("set_tempo", tempo=t), st.integers(1, 0xFFFFFF)),
        st.builds(lambda n, d: mido.MetaMessage("time_signature", numerator=n, denominator=2 ** d),
                  st.integers(1, 255), st.integers(0, 7)),
        st.builds(lambda c, v: mido.Message("control_change", channel=c, control=7, value=v),
                  st.integers(0, 15), st.integers(0, 127)),
        st.builds(lambda c, p: mido.Message("pitchwheel", channel=c, pitch=p), st.integers(0, 15),
                  st.integers(-8192, 8191)),
    )
    midi = mido.MidiFile(type=1, ticks_per_beat=draw(st.integers(1, 2000)))
    for _ in range(draw(st.integers(1, 3))):
        events = draw(st.lists(st.tuples(st.integers(0, 5000), messages), max_size=30))
        midi.tracks.append(_events_to_track([(tick, 0, message) for tick, message in events]))
    data = tempfile.SpooledTemporaryFile()
    midi.save(file=data)
    data.seek(0)
    return data.read()


@st.composite
def damaged_midi(draw) -> bytes:
    """A good file cut short or with bytes overwritten."""
    data = bytearray(draw(grid_midi(max_tracks=2, max_notes=6))[0])
    if draw(st.booleans()):
        return bytes(data[: draw(st.integers(0, len(data) - 1))])
    for index, value in draw(st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)), min_size=1, max_size=8)):
        data[index] = value
    return bytes(data)


any_bytes = st.one_of(st.binary(max_size=400), st.binary(max_size=400).map(lambda b: b"MThd" + b))


def number_texts(valid: st.SearchStrategy) -> st.SearchStrategy[str]:
    """An option's value as typed: mostly from ``valid`` (as text), else any number or junk."""
    return st.one_of(valid.map(str), valid.map(str), st.integers().map(str),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr), st.sampled_from(JUNK_NUMBERS))


# --- helpers -------------------------------------------------------------------------------

def run(argv: list[str], capfd) -> tuple[int, str, str]:
    """``python -m lab_utils ARGV`` in this process: (exit code, stdout, stderr). Any exception
    but SystemExit propagates: that is the traceback a user would see (exit code 1)."""
    capfd.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capfd.readouterr()
    return code, out, err


def check_contract(code: int, err: str) -> list[str]:
    """Exit 0 or 2, no traceback or source line on stderr, 2 exactly when an error was said;
    returns the ``error:`` lines."""
    assert code in (0, 2), err
    assert not re.search(r"Traceback|^\s+File \"|\.py:\d+", err, re.M), err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert (code == 2) == bool(errors), err
    return errors


def as_int(text: str) -> int | None:
    """What ``int`` makes of an option's text (as argparse reads it), or None."""
    try:
        return int(text)
    except ValueError:
        return None


def fresh(tmp_path: Path) -> Path:
    """A new empty folder for one example (the ``tmp_path`` fixture serves them all)."""
    return Path(tempfile.mkdtemp(dir=tmp_path))


def files_in(folder: Path) -> list[str]:
    """The names in a folder (none if it is not one)."""
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# --- typed notes ---------------------------------------------------------------------------

@budget(4)
@given(st.one_of(st.text(), st.text(st.sampled_from(list("ABCDEFGRabcdefgr#b-/.|0123456789 \t\n\u0663\x00")))))
def test_any_text_is_notes_or_one_line_saying_what_is_wrong(text):
    try:
        notes = parse_notes(text)
    except ValueError as exc:
        assert "\n" not in str(exc) and str(exc)
    else:
        assert notes and all(0 <= n.pitch < 128 and n.length >= 1 for n in notes)
        assert all(a.start + a.length <= b.start for a, b in zip(notes, notes[1:]))  # one line of notes
    try:
        roll, title, name = melody_from(text)
    except MelodyError as exc:
        assert "\n" not in str(exc) and str(exc)
    else:
        assert roll.n_tracks == 1 and roll.onsets.any() and title and name


@budget(2)
@given(typed_tunes())
def test_typed_tunes_are_read_as_written(tune):
    text, notes = tune
    if not notes:
        with pytest.raises(MelodyError, match="only rests"):
            melody_from(text)
        return
    assert parse_notes(text) == notes
    assert melody_from(text)[0].notes(0) == notes


@budget(2)
@given(typed_tunes(), st.text(min_size=1).filter(lambda t: "|" not in t and t.split() == [t] and not looks_like_notes(t)),
       st.data())
def test_a_bad_typed_note_is_named_with_its_position(tune, junk, data):
    tokens = tune[0].replace("|", " ").split()
    position = data.draw(st.integers(0, len(tokens)))
    tokens.insert(position, junk)
    text = " ".join(tokens)
    assume(len(tokens) > 1 and Path(text).suffix.lower() not in (".mid", ".midi"))  # else a word or a file name
    with pytest.raises(MelodyError) as error:
        melody_from(text)
    message = str(error.value)
    assert f"note {position + 1} of {len(tokens)}, {junk!r}" in message and "\n" not in message


# --- the melody reader ---------------------------------------------------------------------

def _read(data: bytes, tmp_path: Path) -> PianoRoll:
    """``read_midi`` of these bytes, as a file."""
    path = fresh(tmp_path) / "in.mid"
    path.write_bytes(data)
    return read_midi(path)


def _check_roll(roll: PianoRoll) -> None:
    """What every roll the reader gives must allow: notes in range, bars, a melody."""
    assert roll.n_tracks >= 1 and roll.onsets.any()
    assert roll.steps_per_bar >= 1 and roll.n_steps <= MAX_BEATS * STEPS_PER_BEAT
    melody = extract_melody(roll)
    assert melody.sounding.sum(axis=1).max() <= 1  # one line
    assert whole_bars(melody).n_steps % roll.steps_per_bar == 0


def _file_of(messages: list[mido.Message], ticks_per_beat: int) -> bytes:
    """A type 0 MIDI file of these messages (delta times in ``time``)."""
    midi = mido.MidiFile(type=0, ticks_per_beat=ticks_per_beat)
    midi.tracks.append(mido.MidiTrack(messages))
    data = tempfile.SpooledTemporaryFile()
    midi.save(file=data)
    data.seek(0)
    return data.read()


ONE_NOTE = [mido.Message("note_on", note=60, velocity=90, time=0), mido.Message("note_off", note=60, time=96)]
BAR_SHORTER_THAN_A_16TH = _file_of([mido.MetaMessage("time_signature", numerator=1, denominator=128), *ONE_NOTE], 96)
TEN_MILLION_STEPS = _file_of([mido.Message("note_on", note=60, velocity=90, time=0),
                              mido.Message("note_off", note=60, time=2_500_000)], 1)


@budget(4)
@given(st.one_of(any_bytes, damaged_midi(), any_midi()))
@example(BAR_SHORTER_THAN_A_16TH)  # was read, then harmonize and compose divided by a bar of 0 steps
@example(TEN_MILLION_STEPS)  # was read into rolls of 2.5 GB
def test_any_bytes_are_a_roll_or_one_line_saying_why_not(tmp_path, data):
    try:
        roll = _read(data, tmp_path)
    except MidiFileError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        _check_roll(roll)


@budget(3)
@given(grid_midi())
def test_grid_files_are_read_exactly_whatever_their_tempo_map_meter_and_channels(tmp_path, midi):
    data, expected = midi
    if expected["error"]:
        with pytest.raises(MidiFileError, match=expected["error"]):
            _read(data, tmp_path)
        return
    roll = _read(data, tmp_path)
    assert sorted(roll.notes(k) for k in range(roll.n_tracks)) == expected["tracks"]
    assert roll.time_signature == expected["meter"] and roll.pickup_steps == expected["pickup"]
    assert roll.tempo == pytest.approx(expected["tempo"], abs=2e-3)
    _check_roll(roll)


@budget(1)
@given(st.lists(st.one_of(grid_midi().map(lambda m: m[0]), any_bytes, damaged_midi(), st.sampled_from(["missing", "folder"])),
                min_size=1, max_size=3))
def test_cli_melody_writes_the_good_inputs_and_one_line_for_each_bad_one(tmp_path, capfd, inputs):
    folder, paths = fresh(tmp_path), []
    for i, item in enumerate(inputs):
        path = folder / f"in{i}.mid"
        if item == "folder":
            path.mkdir()
        elif item != "missing":
            path.write_bytes(item)
        paths.append(path)
    out = folder / "out"
    code, _, err = run(["melody", *map(str, paths), "-o", str(out)], capfd)
    errors = check_contract(code, err)
    for path in paths:
        said = [line for line in errors if line.startswith(f"error: {path}: ")]
        try:
            melody = extract_melody(read_midi(path))
        except MidiFileError:
            assert len(said) == 1 and not (out / path.name).exists()  # one line, nothing written
        else:
            assert not said and read_midi(out / path.name).notes(0) == melody.notes(0)
    assert len(errors) == sum(not (out / p.name).exists() for p in paths)


@pytest.mark.parametrize("name", ["x" * 300 + ".mid", "folder.mid", "/dev/null", "missing.mid", "a\x00b.mid"])
def test_a_path_that_is_no_midi_file_is_one_line_naming_it(tmp_path, capfd, name):
    (tmp_path / "folder.mid").mkdir()
    path = name if name.startswith("/") else str(tmp_path / name)
    with pytest.raises(MelodyError, match=r": (no such file|not a regular file|a folder, not a MIDI file|File name too long)$"):
        melody_from(path)  # compose's --melody and the studio: "File name too long" was an OSError
    if "\x00" not in name:  # a command line cannot hold NUL
        code, _, err = run(["melody", path, "-o", str(tmp_path / "out")], capfd)
        errors = check_contract(code, err)
        assert code == 2 and len(errors) == 1 and errors[0].startswith(f"error: {path}: ")
        assert not (tmp_path / "out").exists()  # nothing written


# --- harmonize, enhance, compose: their options --------------------------------------------

def melody_file(max_notes: int = 10, pitches: st.SearchStrategy[int] | None = None) -> st.SearchStrategy[bytes]:
    """A short melody (maybe with an accompaniment track) as a MIDI file."""
    return grid_midi(max_tracks=2, max_notes=max_notes, melody=True, pitches=pitches).map(lambda m: m[0])


def outdirs(folder: Path, kind: str) -> Path:
    """Where ``-o`` points: a new folder, a nested new one, an existing file, below a file."""
    (folder / "a_file").write_text("x")
    return {"new": folder / "out", "nested": folder / "a" / "b" / "out", "file": folder / "a_file",
            "below a file": folder / "a_file" / "out"}[kind]


SINGABLE = (48, 84)  # C3 to C6: a melody in here gets four voices (beyond: a known failure, see below)
OUTDIR_KINDS = st.sampled_from(["new", "new", "nested", "file", "below a file"])


@budget(0.6)
@given(melody_file(), st.one_of(melody_file(), any_bytes), number_texts(st.integers(0, 2**70)), OUTDIR_KINDS)
def test_cli_harmonize_keeps_the_melody_and_repeats_itself(tmp_path, capfd, good, other, seed, kind):
    folder = fresh(tmp_path)
    inputs = [folder / "good.mid", folder / "other.mid"]
    inputs[0].write_bytes(good)
    inputs[1].write_bytes(other)
    out = outdirs(folder, kind)
    args = ["harmonize", *map(str, inputs), "-o", str(out), "--seed", seed]
    code, _, err = run(args, capfd)
    errors = check_contract(code, err)
    event(f"exit {code}")
    if kind in ("file", "below a file") or as_int(seed) is None or as_int(seed) < 0:
        assert code == 2 and len(errors) == 1 and (folder / "a_file").read_text() == "x"
        return
    for path in inputs:
        try:
            melody = extract_melody(read_midi(path))
        except MidiFileError:
            assert [e for e in errors if e.startswith(f"error: {path}: ")] and not (out / path.name).exists()
            continue
        music = read_midi(out / path.name)
        assert music.notes(0) == melody.notes(0)  # the melody exactly
        if all(SINGABLE[0] <= n.pitch <= SINGABLE[1] for n in melody.notes(0)):  # else see the xfail test
            assert music.n_tracks == 4 and all(music.notes(k) for k in range(4))
    again = folder / "again"
    assert run([*args[:-4], "-o", str(again), "--seed", seed], capfd)[0] == code
    assert files_in(again) == files_in(out)
    assert all((again / name).read_bytes() == (out / name).read_bytes() for name in files_in(out))


def bounded_texts(valid: st.SearchStrategy) -> st.SearchStrategy[str]:
    """Like ``number_texts`` without arbitrary integers: a run stays short (no hour of iterations)
    and clear of the known overflows (the xfail tests at the end)."""
    return st.one_of(valid.map(str), valid.map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                     st.sampled_from(JUNK_NUMBERS))


TEMPERATURES = st.one_of(st.floats(1e-6, 1e6).map(repr), st.integers().map(str), st.sampled_from(JUNK_NUMBERS),
                         st.floats(allow_nan=True, allow_infinity=True).filter(lambda t: not 0 < t < 1e-6).map(repr))


@budget(0.6)
@given(melody_file(), bounded_texts(st.integers(-5, 60)), bounded_texts(st.integers(-5, 10**12)),
       number_texts(st.floats(0, 100)), TEMPERATURES, number_texts(st.integers(0, 2**70)), OUTDIR_KINDS)
def test_cli_enhance_options_and_zero_removal_keeps_every_note(tmp_path, capfd, melody, iterations, added,
                                                                removed, temperature, seed, kind):
    folder = fresh(tmp_path)
    (folder / "in.mid").write_bytes(melody)
    out = outdirs(folder, kind)
    args = ["enhance", str(folder / "in.mid"), "-o", str(out), "--iterations", iterations, "--max-notes-added",
            added, "--max-removed-pct", removed, "--temperature", temperature, "--seed", seed]
    code, _, err = run(args, capfd)
    errors = check_contract(code, err)
    event(f"exit {code}")
    if code == 2:
        assert len(errors) == 1 and not (out / "in.mid").exists() and not (folder / "a_file" / "in.mid").exists()
        return
    before, after = read_midi(folder / "in.mid"), read_midi(out / "in.mid")
    if float(removed) == 0:
        kept = before.sounding.any(axis=2)
        assert after.sounding.any(axis=2)[: len(kept)][kept].all()  # nothing removed or shortened
    again = folder / "again"
    assert run([*args[:2], "-o", str(again), *args[4:]], capfd)[0] == 0
    assert (again / "in.mid").read_bytes() == (out / "in.mid").read_bytes()


def _compose(folder: Path, melody: str, seconds: str, seed: str, kind: str, capfd) -> int:
    """Run ``compose`` with these options and check what it wrote; returns the exit code."""
    out = outdirs(folder, kind)
    args = ["compose", "--melody", melody, "--seconds", seconds, "--seed", seed, "-o", str(out)]
    code, _, err = run(args, capfd)
    errors = check_contract(code, err)
    event(f"exit {code}")
    if code == 2:
        assert len(errors) == 1
        assert files_in(out) == []  # nothing written
        assert (folder / "a_file").read_text() == "x"  # an existing file stays as it was
        return code
    names = files_in(out)
    stem = names[0].rsplit(".", 1)[0]
    assert names == sorted(f"{stem}{s}" for s in (".json", ".mid", ".mp3", ".png", ".wav"))
    assert json.loads((out / f"{stem}.json").read_text())["seed"] == int(seed)
    assert run(args, capfd)[0] == 0  # the same again: new names beside, the same bytes
    for suffix in (".mid", ".wav", ".png"):
        assert (out / f"{stem}-2{suffix}").read_bytes() == (out / f"{stem}{suffix}").read_bytes()
    return code


# compose's melodies: in a singer's octaves, from the first bar on (else see the xfail tests)
COMPOSE_TUNES = typed_tunes(octaves=(3, 5), rest_first=False).map(lambda t: t[0])
COMPOSE_FILES = melody_file(pitches=st.integers(*SINGABLE))


@budget(0.25)
@given(st.one_of(st.sampled_from(list(MELODIES)), COMPOSE_TUNES, st.text(max_size=30),
                 st.sampled_from(["file", "bad file", "missing.mid"])),
       st.one_of(st.floats(20, 30).map(repr), st.floats().map(repr), st.sampled_from(JUNK_NUMBERS)),
       number_texts(st.integers(0, 2**40)), OUTDIR_KINDS, st.data())
def test_cli_compose_any_options(tmp_path, capfd, melody, seconds, seed, kind, data):
    folder = fresh(tmp_path)
    if melody in ("file", "bad file"):
        (folder / "tune.mid").write_bytes(data.draw(COMPOSE_FILES) if melody == "file" else data.draw(any_bytes))
        melody = str(folder / "tune.mid")
    _compose(folder, melody, seconds, seed, kind, capfd)


@budget(0.04)
@given(st.one_of(st.sampled_from(list(MELODIES)), COMPOSE_TUNES, st.just("file")),
       st.floats(20, 40), st.integers(0, 2**40), st.sampled_from(["new", "nested"]), st.data())
def test_cli_compose_good_options_write_five_files_and_repeat_themselves(tmp_path, capfd, melody, seconds, seed,
                                                                         kind, data):
    folder = fresh(tmp_path)
    if melody == "file":
        (folder / "tune.mid").write_bytes(data.draw(COMPOSE_FILES))
        melody = str(folder / "tune.mid")
    _compose(folder, melody, repr(seconds), str(seed), kind, capfd)


# --- the studio's boxes --------------------------------------------------------------------

@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    from lab_utils.studio import Studio

    return Studio(outdir=tmp_path_factory.mktemp("studio"))


def _upload(name: str, content: bytes) -> tuple[dict]:
    """The value a FileUpload widget holds after the browser sent one file."""
    return ({"name": name, "type": "audio/midi", "size": len(content), "content": memoryview(content),
             "last_modified": datetime(2026, 1, 1, tzinfo=timezone.utc)},)


def _generate(studio, capsys):
    result = studio.generate()
    capsys.readouterr()  # outside a notebook the display goes to stdout
    if result is None:
        assert "\n" not in studio.status.value and "Traceback" not in studio.status.value
        assert re.fullmatch(r"<span style='color:#b00'>.+</span>", studio.status.value)
    else:
        assert result.music.notes(0) == result.melody.notes(0)  # the GAN keeps the melody
        assert all(path.stat().st_size > 0 for path in result.files.values())
    assert not studio.generate_button.disabled
    return result


@budget(0.5)
@given(st.one_of(st.text(max_size=40), typed_tunes().map(lambda t: t[0])))
def test_studio_text_box(studio, capsys, text):
    studio.source.value, studio.model.value, studio.typed.value = "typed notes", "GAN", text
    result = _generate(studio, capsys)
    if result is not None:
        typed = melody_from(text)[0].notes(0)
        end = result.melody.n_steps
        assert result.melody.notes(0) == [Note(n.start, n.pitch, min(n.length, end - n.start))
                                          for n in typed if n.start < end]


UPLOAD_NAMES = st.one_of(  # names of files a browser sends (for other names, see the xfail tests)
    st.sampled_from(["tune.mid", "My Song.MID", "ÄÖ ü.midi", "x", "twinkle", "C4.mid"]),
    st.text(st.characters(blacklist_categories=["Cs", "Cc", "Z"], blacklist_characters="/\\"), min_size=1,
            max_size=40).map(lambda n: n + ".mid"))


@budget(0.5)
@given(st.one_of(melody_file(), any_bytes, damaged_midi()), UPLOAD_NAMES)
def test_studio_upload_box(studio, capsys, tmp_path, content, name):
    studio.source.value, studio.model.value = "MIDI upload", "GAN"
    studio.upload.value = _upload(name, content)
    result = _generate(studio, capsys)
    try:
        _read(content, tmp_path)
    except MidiFileError:
        assert result is None
    else:
        assert result is not None, studio.status.value  # a good file always makes music


# --- no-clobber under a race ---------------------------------------------------------------

def test_two_compose_runs_at_once_into_one_folder_each_get_their_own_names(tmp_path):
    """The issue's case: two learners compose the same tune and seed into a shared folder at
    once, for 20 and 24 seconds. Both pieces are kept, each under the names its run reports."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    runs = {seconds: subprocess.Popen([sys.executable, "-m", "lab_utils", "compose", "--melody", "C4 D4 E4 F4 | G4 A4 G4-",
                                       "--seconds", str(seconds), "--seed", "1", "-o", str(tmp_path)],
                                      cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for seconds in (20, 24)}
    reported = {}
    for seconds, process in runs.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        reported[seconds] = {Path(line.strip()).suffix[1:]: Path(line.strip()) for line in out.splitlines()
                             if line.startswith("  ")}
    assert {paths["mid"].stem for paths in reported.values()} == {"my_melody-seed1", "my_melody-seed1-2"}
    assert sorted(p.name for paths in reported.values() for p in paths.values()) == files_in(tmp_path)  # 10, whole
    for seconds, paths in reported.items():
        info = json.loads(paths["json"].read_text())
        assert info["parameters"]["seconds"] == seconds and info["audio_seconds"] == seconds
        assert info["files"] == {kind: path.name for kind, path in paths.items()}
        assert soundfile.info(paths["wav"]).duration == pytest.approx(seconds, abs=0.01)  # its own audio
    assert reported[20]["mid"].read_bytes() != reported[24]["mid"].read_bytes()


@pytest.mark.parametrize("hard_links", [True, False])
def test_many_writers_racing_for_one_stem_never_share_a_name(tmp_path, monkeypatch, hard_links):
    if not hard_links:  # a file system without hard links: the exclusive-create path
        def no_links(source, target):
            raise PermissionError(1, "Operation not permitted")
        monkeypatch.setattr(os, "link", no_links)
    writers, start, won = 8, threading.Barrier(8), {}

    def writer(number: int) -> None:
        staging = Path(tempfile.mkdtemp(dir=tmp_path))
        staged = {}
        for kind in ("mid", "wav", "mp3", "png", "json"):
            staged[kind] = staging / kind
            staged[kind].write_text(f"writer {number}")
        start.wait()
        for paths in candidate_names(tmp_path / "out", "tune"):
            if rename_all_new({staged[kind]: paths[kind] for kind in staged}):
                won[number] = paths
                return

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "tune-2.json").write_text("earlier work")  # taken: no writer may have stem tune-2
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == writers and len({paths["mid"] for paths in won.values()}) == writers
    for number, paths in won.items():
        assert all(path.read_text() == f"writer {number}" for path in paths.values())
    assert (tmp_path / "out" / "tune-2.json").read_text() == "earlier work"
    assert not (tmp_path / "out" / "tune-2.mid").exists() and len(files_in(tmp_path / "out")) == 5 * writers + 1


def test_a_midi_file_written_without_overwrite_keeps_the_first_writers(tmp_path):
    rolls = [PianoRoll.from_notes([[Note(0, 60 + n, 4)]]) for n in range(6)]
    start, outcomes = threading.Barrier(len(rolls)), []

    def writer(roll: PianoRoll) -> None:
        start.wait()
        try:
            write_midi(roll, tmp_path / "x.mid", overwrite=False)
            outcomes.append(roll)
        except FileExistsError:
            outcomes.append(None)

    threads = [threading.Thread(target=writer, args=(roll,)) for roll in rolls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [roll for roll in outcomes if roll is not None]
    assert len(winners) == 1 and read_midi(tmp_path / "x.mid").notes(0) == winners[0].notes(0)
    assert files_in(tmp_path) == ["x.mid"]  # no temporary file left
    with pytest.raises(FileExistsError):
        rename_new(tmp_path / "x.mid", tmp_path / "x.mid")


# --- known failures in modules other engineers own (reproducers; see the report) ------------

def _melody(tmp_path: Path) -> Path:
    path = tmp_path / "tune.mid"
    write_midi(melody_from("C4 D4 E4 F4 G4- G4-")[0], path)
    return path


def test_enhance_with_a_tiny_temperature(tmp_path, capfd):
    check_contract(*run(["enhance", str(_melody(tmp_path)), "-o", str(tmp_path / "o"), "--temperature", "1e-300"], capfd)[::2])


def test_enhance_with_a_huge_note_budget(tmp_path, capfd):
    check_contract(*run(["enhance", str(_melody(tmp_path)), "-o", str(tmp_path / "o"),
                         "--max-notes-added", "1" + "0" * 400], capfd)[::2])


def test_a_melody_spanning_the_midi_range_still_gets_four_voices():
    from lab_utils.harmonize import load_harmonizer

    music = load_harmonizer()(PianoRoll.from_notes([[Note(0, 55, 1), Note(1, 0, 1)]]), 1)
    assert music.notes(0) == [Note(0, 55, 1), Note(1, 0, 1)]
    assert all(music.notes(k) for k in range(4))


def test_compose_a_melody_at_the_bottom_of_the_midi_range(tmp_path, capfd):
    check_contract(*run(["compose", "--melody", "C0", "--seconds", "20", "--seed", "1", "-o", str(tmp_path)], capfd)[::2])


def test_compose_a_melody_after_a_silent_bar(tmp_path, capfd):
    check_contract(*run(["compose", "--melody", "R R R R- G4", "--seconds", "20", "-o", str(tmp_path)], capfd)[::2])


def test_harmonize_never_overwrites_earlier_output(tmp_path, capfd):
    melody = _melody(tmp_path)
    assert run(["harmonize", str(melody), "-o", str(tmp_path / "o"), "--seed", "1"], capfd)[0] == 0
    first = (tmp_path / "o" / "tune.mid").read_bytes()
    check_contract(*run(["harmonize", str(melody), "-o", str(tmp_path / "o"), "--seed", "2"], capfd)[::2])
    assert (tmp_path / "o" / "tune.mid").read_bytes() == first  # an error, or the output beside it


def test_an_input_name_with_a_newline_is_still_one_line(tmp_path, capfd):
    code, _, err = run(["melody", str(tmp_path / "a\nb.mid"), "-o", str(tmp_path / "o")], capfd)
    assert code == 2 and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["..", ".", "x" * 300 + ".mid"])
def test_studio_upload_names_a_browser_may_send(tmp_path, capsys, name):
    from lab_utils.studio import Studio

    studio = Studio(outdir=tmp_path)
    studio.source.value, studio.upload.value = "MIDI upload", _upload(name, _melody(tmp_path).read_bytes())
    _generate(studio, capsys)
    studio.upload.value = _upload("next.mid", _melody(tmp_path).read_bytes())
    assert _generate(studio, capsys) is not None  # the studio still takes uploads


@pytest.mark.parametrize("name", ["tune.mid ", "C4 D4"])
def test_a_good_upload_makes_music_whatever_its_name(tmp_path, capsys, name):
    from lab_utils.studio import Studio

    studio = Studio(outdir=tmp_path)
    studio.source.value, studio.upload.value = "MIDI upload", _upload(name, _melody(tmp_path).read_bytes())
    assert _generate(studio, capsys) is not None, studio.status.value


def test_studio_shows_typed_text_as_text(tmp_path, capsys):
    from lab_utils.studio import Studio

    studio = Studio(outdir=tmp_path)
    studio.source.value, studio.typed.value = "typed notes", "C4 <b>x</b>"
    assert studio.generate() is None and "&lt;b&gt;" in studio.status.value
