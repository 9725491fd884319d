"""The rest of the review of issue 17 on the style path (issue 26, item 3), each pinned by a test
that failed before its fix: ``compose --style`` on a band style keeps the drums out of the
organ bass, a piano reduction keeps its alto, the studio uses the harmonizer it is given, and
the teacher's checks and MuseGAN's figures read a band's bass role and leave its drums out,
while Bach's figures stay as the shipped reports hold them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from lab_utils.files import REPOSITORY
from lab_utils.metrics import TEACHER_FIGURES, musegan_figures, voice_leading_faults
from lab_utils.midi import Note, PianoRoll
from lab_utils.music_files import read_music_file
from lab_utils.samples import BAND_DRUMS, melody_roll
from lab_utils.styles import assign_roles
from lab_utils.styles.roles import BAND_ROLES, layout_of

BAND_DRUM_FLAGS = [False, False, False, True]
BASS_PITCHES = (45, 43, 41, 43)  # A2 G2 F2 G2, by step, one a beat
CHORDS = ((60, 64, 67), (60, 65, 69))  # the accompaniment: C major and F major by turns, a chord a beat


def _band(melody: PianoRoll) -> PianoRoll:
    """A band's four roles under ``melody``: chords, a bass moving by step on every beat, drums
    (kick and hi-hat by turns; ``BAND_DRUMS``) on every beat."""
    beats = range(0, melody.n_steps, 4)
    chords = [Note(t, p, 4) for i, t in enumerate(beats) for p in CHORDS[i % 2]]
    bass = [Note(t, BASS_PITCHES[i % len(BASS_PITCHES)], 4) for i, t in enumerate(beats)]
    kit = [Note(t, BAND_DRUMS["hat" if i % 2 else "kick"], 1) for i, t in enumerate(beats)]
    return PianoRoll.from_notes([melody.notes(0), chords, bass, kit], n_steps=melody.n_steps, tempo=melody.tempo,
                                time_signature=melody.time_signature, pickup_steps=melody.pickup_steps,
                                names=list(BAND_ROLES), programs=[81, 0, 33, 0], drums=BAND_DRUM_FLAGS)


# --- 1. compose --style on a band style: the drums never become pitched notes ----------------------

@dataclass
class _BandHarmonizer:
    """What a band style's harmonizer hands ``compose``: melody, chords, bass and drums."""

    style: str = "band"

    def __call__(self, melody: PianoRoll, seed: int = 0) -> PianoRoll:
        return _band(melody)


def _unchanged(roll: PianoRoll, **_controls) -> tuple[PianoRoll, None]:
    return roll, None  # an enhancer that adds nothing: the variations keep their written notes


def test_compose_with_a_band_style_keeps_the_drums_out_of_the_organ_bass():
    from lab_utils.compose import compose

    piece = compose(melody_roll("twinkle"), _BandHarmonizer(), _unchanged, seconds=40.0)
    last_beat = max(n.start for n, _ in piece.parts[0].notes)  # the closing chord starts here
    organ = {n.pitch for n, _ in piece.parts[3].notes if n.start < last_beat}
    assert organ == set(BASS_PITCHES)  # the bass role, not the kit
    strings = {n.pitch for part in piece.parts[1:3] for n, _ in part.notes if n.start < last_beat}
    assert strings == {p for chord in CHORDS for p in chord}
    drum_keys = set(BAND_DRUMS.values())  # (the closing chord may have its root on C2, the kick's key)
    assert not any(n.pitch in drum_keys for part in piece.parts[:4] for n, _ in part.notes if n.start < last_beat)
    assert piece.voices().drums == [False] * 4


# --- 2. a piano reduction in MusicXML keeps all four voices ----------------------------------------

SOPRANO = [("C5", 4), ("D5", 4), ("E5", 4), ("F5", 4), ("G5", 16)]
ALTO = [("A4", 8), ("C5", 4), ("A4", 4), ("G5", 16)]  # a half note under two quarters; a closing unison
ALTO_IN_CHORDS = [("A4", 4), ("B4", 4), ("C5", 4), ("A4", 4), ("G5", 16)]  # the soprano's rhythm
TENOR = [("E4", 4), ("F4", 4), ("G4", 4), ("F4", 4), ("D4", 16)]
BASS = [("A3", 4), ("G3", 4), ("C3", 4), ("D3", 4), ("G2", 16)]
STEPS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
TYPES = {4: "quarter", 8: "half", 16: "whole"}


def _midi(name: str) -> int:
    return 12 * (int(name[1]) + 1) + STEPS[name[0]]


def _note(name: str, steps: int, voice: int, staff: int, chord: bool = False) -> str:
    return (f"<note>{'<chord/>' if chord else ''}<pitch><step>{name[0]}</step><octave>{name[1]}</octave></pitch>"
            f"<duration>{steps}</duration><voice>{voice}</voice><type>{TYPES[steps]}</type><staff>{staff}</staff></note>")


def _bars(line: list[tuple[str, int]]) -> list[list[tuple[str, int]]]:
    bars, now = [[], []], 0
    for name, steps in line:
        bars[now // 16].append((name, steps))
        now += steps
    return bars


def _score(bars: list[str]) -> str:
    """A MusicXML score of one part (a piano) on two staves, in 4/4, a 16th a division."""
    attributes = ("<attributes><divisions>4</divisions><key><fifths>0</fifths></key><time><beats>4</beats>"
                  "<beat-type>4</beat-type></time><staves>2</staves><clef number='1'><sign>G</sign><line>2</line>"
                  "</clef><clef number='2'><sign>F</sign><line>4</line></clef></attributes>")
    measures = "".join(f"<measure number='{i + 1}'>{attributes if i == 0 else ''}{bar}</measure>"
                       for i, bar in enumerate(bars))
    return ("<?xml version='1.0' encoding='UTF-8'?><score-partwise version='3.1'><part-list><score-part id='P1'>"
            f"<part-name>Piano</part-name></score-part></part-list><part id='P1'>{measures}</part></score-partwise>")


def _as_voices() -> str:
    """Soprano and alto as voices 1 and 2 of the upper staff, tenor and bass as 5 and 6 of the lower."""
    back = "<backup><duration>16</duration></backup>"
    lines = [(SOPRANO, 1, 1), (ALTO, 2, 1), (TENOR, 5, 2), (BASS, 6, 2)]
    return _score([back.join("".join(_note(n, s, voice, staff) for n, s in _bars(line)[b]) for line, voice, staff in lines)
                   for b in range(2)])


def _as_chords() -> str:
    """Each staff's two voices struck together as chords; a unison is written once."""
    back = "<backup><duration>16</duration></backup>"
    bars = []
    for b in range(2):
        staves = ["".join(_note(hi, s, 1, staff) + (_note(lo, s, 1, staff, chord=True) if lo != hi else "")
                          for (hi, s), (lo, _) in zip(_bars(upper)[b], _bars(lower)[b]))
                  for upper, lower, staff in ((SOPRANO, ALTO_IN_CHORDS, 1), (TENOR, BASS, 2))]
        bars.append(back.join(staves))
    return _score(bars)


@pytest.mark.parametrize("written", ["voices", "chords"])
def test_a_piano_reduction_keeps_its_four_voices(tmp_path, written):
    path = tmp_path / f"reduction-{written}.musicxml"
    path.write_text(_as_voices() if written == "voices" else _as_chords())
    piece = read_music_file(path)
    assert not isinstance(piece, str), piece
    assert layout_of(piece) == "voices"
    roles = assign_roles(piece, "voices")
    assert not isinstance(roles, str), roles
    expected = [SOPRANO, ALTO if written == "voices" else ALTO_IN_CHORDS, TENOR, BASS]
    for role, line in zip(roles, expected):
        assert [(n.pitch, n.length) for n in role.notes] == [(_midi(name), steps) for name, steps in line]


def test_a_piano_with_a_melody_over_chords_stays_a_band():
    from lab_utils.midi import MidiPart
    from lab_utils.music_files import ReadPiece

    melody = [Note(4 * i, 72 + i % 3, 4) for i in range(8)]
    chords = [Note(4 * i, p, 4) for i in range(8) for p in CHORDS[0]]
    piece = ReadPiece([MidiPart("Right hand", 0, False, melody), MidiPart("Left hand", 0, False, chords)],
                      (4, 4), 0, 100.0, 0, "C major")
    assert layout_of(piece) == "band"  # three notes at once are chords, not voices


# --- 3. the studio uses the harmonizer it is given -----------------------------------------------

@dataclass
class _OwnHarmonizer:
    """A learner's own run, of a style no model in models/ has."""

    folder: Path
    style: str = "my-band"
    calls: list[int] = field(default_factory=list)

    def __call__(self, melody: PianoRoll, seed: int = 0) -> PianoRoll:
        self.calls.append(seed)
        return _band(melody)


def test_the_studio_uses_a_harmonizer_it_is_given_that_is_not_shipped(tmp_path):
    from lab_utils.studio import Studio

    own = _OwnHarmonizer(tmp_path / "runs" / "gan-my-band")
    studio = Studio(own, outdir=tmp_path / "studio")
    assert studio.style.value in studio.style.options and "my-band" in studio.style.value
    assert "bach" in studio.style.options  # the shipped styles stay a choice
    studio.source.value, studio.sample.value, studio.model.value, studio.bars.value = "sample", "twinkle", "GAN", 2
    result = studio.generate()
    assert own.calls == [0] and result.music.drums == BAND_DRUM_FLAGS


def test_the_studio_given_the_shipped_model_lists_it_under_its_style(tmp_path):
    from lab_utils.harmonize import load_harmonizer
    from lab_utils.studio import Studio

    shipped = load_harmonizer()
    studio = Studio(shipped, outdir=tmp_path)
    assert studio.style.value == "bach" and "bach (" not in " ".join(studio.style.options)
    assert studio._models()[0] is shipped


# --- 4. and 5. the teacher's checks and MuseGAN's figures: the bass role, no drums ----------------

def test_the_teachers_checks_read_a_bands_bass_role_not_its_drum_kit():
    band = _band(melody_roll("twinkle"))
    faults = voice_leading_faults(band)
    assert faults["bass_still"] == 0.0 and faults["bass_steps"] == 1.0  # the bass moves by step on every beat
    assert faults == voice_leading_faults(_without_drums(band))


def _without_drums(roll: PianoRoll) -> PianoRoll:
    keep = [k for k in range(roll.n_tracks) if not roll.drums[k]]
    return PianoRoll.from_notes([roll.notes(k) for k in keep], n_steps=roll.n_steps, tempo=roll.tempo,
                                time_signature=roll.time_signature, names=[roll.names[k] for k in keep],
                                programs=[roll.programs[k] for k in keep])


def test_a_band_ending_on_its_tonic_is_judged_by_its_bass():
    melody = melody_roll("twinkle")  # ends on C
    band = _band(melody)
    end = melody.n_steps - 4
    notes = [band.notes(k) for k in range(4)]
    notes[1] = [n for n in notes[1] if n.start < end] + [Note(end, p, 4) for p in CHORDS[0]]  # C major ...
    notes[2] = [n for n in notes[2] if n.start < end] + [Note(end, 48, 4)]  # ... over C3
    band = PianoRoll.from_notes(notes, n_steps=band.n_steps, tempo=band.tempo, time_signature=band.time_signature,
                                names=band.names, programs=band.programs, drums=BAND_DRUM_FLAGS)
    assert voice_leading_faults(band)["tonic_ending"] == 1.0


def test_musegan_figures_leave_the_drums_out():
    band = _band(melody_roll("twinkle"))
    with_kit, without_kit = musegan_figures(band), musegan_figures(_without_drums(band))
    assert with_kit == pytest.approx(without_kit, nan_ok=True)


def test_bachs_teacher_figures_are_those_the_shipped_evaluation_holds():
    from lab_utils.chorales import load_dataset

    stored = json.loads((REPOSITORY / "models" / "gan" / "evaluation.json").read_text())
    chorales = [c.roll() for c in load_dataset(progress=False).split(stored["split"])]
    values = [voice_leading_faults(c) for c in chorales]
    for f in TEACHER_FIGURES:
        assert float(np.nanmean([v[f] for v in values])) == pytest.approx(stored["bach"][f], rel=1e-12), f
