"""The rest of the review of issue 17 on the style path (issue 26, item 3), each pinned by a test
that failed before its fix: ``compose --style`` on a band style keeps the drums out of the
organ bass and plays them as a kit on MIDI channel 10, a piano reduction keeps its alto, one
staff of four-voice chords gives its four voices, the studio uses the harmonizer it is given,
the teacher's checks and MuseGAN's figures read a band's bass role and leave its drums out
(while Bach's figures stay as the shipped reports hold them), and a run resumed after its style
was rebuilt trains in the pitch window saved with it, or says in one line why it cannot.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import mido
import numpy as np
import pytest

from conftest import run_cli
from lab_utils.files import REPOSITORY
from lab_utils.gan_config import CONFIGS, fit_crop
from lab_utils.metrics import TEACHER_FIGURES, musegan_figures, voice_leading_faults
from lab_utils.midi import DRUM_CHANNEL, STEPS_PER_BEAT, Note, PianoRoll, pitch_name, write_midi
from lab_utils.music_files import read_music_file
from lab_utils.pieces import PieceDataset
from lab_utils.samples import BAND_DRUMS, melody_roll, random_band_piece
from lab_utils.styles import assign_roles, build_style, folder_sources
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


def _score(bars: list[str], staves: int = 2) -> str:
    """A MusicXML score of one part (a piano) on two staves (or one), in 4/4, a 16th a division."""
    clefs = ("<staves>2</staves><clef number='1'><sign>G</sign><line>2</line></clef><clef number='2'><sign>F</sign>"
             "<line>4</line></clef>" if staves == 2 else "<clef><sign>G</sign><line>2</line></clef>")
    attributes = ("<attributes><divisions>4</divisions><key><fifths>0</fifths></key><time><beats>4</beats>"
                  f"<beat-type>4</beat-type></time>{clefs}</attributes>")
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


# --- 6. compose --style on a band style: its drums play as a kit on MIDI channel 10 -----------------

KIT_PROGRAM = 25  # the TR-808 kit of General MIDI 2: on channel 10 a program chooses the kit


@dataclass
class _KitHarmonizer:
    """A band style's harmonizer whose drum role plays the TR-808 kit."""

    style: str = "band"

    def __call__(self, melody: PianoRoll, seed: int = 0) -> PianoRoll:
        return replace(_band(melody), programs=[81, 0, 33, KIT_PROGRAM])


def test_compose_with_a_band_style_plays_its_drums_as_a_kit_on_channel_10():
    from lab_utils.compose import compose

    piece = compose(melody_roll("twinkle"), _KitHarmonizer(), _unchanged, seconds=40.0)
    kits = [part for part in piece.parts if part.is_drum]
    assert [(kit.name, kit.program) for kit in kits] == [("Drums", KIT_PROGRAM)]
    played = [s for s in piece.sections if s.name not in ("intro", "coda")]
    first, end = (played[0].start_bar * piece.steps_per_bar,
                  (played[-1].start_bar + played[-1].bars) * piece.steps_per_bar)
    hits = sorted((n.start, n.pitch, n.length) for n, _ in kits[0].notes)
    # the band's kick or hi-hat on every beat the harmonizer played, none in the intro or the coda
    assert [t for t, _, _ in hits] == list(range(first, end, STEPS_PER_BEAT))
    assert {p for _, p, _ in hits} == {BAND_DRUMS["kick"], BAND_DRUMS["hat"]} and {n for *_, n in hits} == {1}
    midi = mido.MidiFile(file=io.BytesIO(piece.midi_bytes()))
    kit_track = next(track for track in midi.tracks if track.name == "Drums")
    assert {m.channel for m in kit_track if m.type in ("note_on", "program_change")} == {DRUM_CHANNEL}
    assert [m.program for m in kit_track if m.type == "program_change"] == [KIT_PROGRAM]
    assert sum(m.type == "note_on" and m.velocity > 0 for m in kit_track) == len(hits)
    assert piece.roll().drums == [False] * 4 + [True] + [False] * 2  # the pad and starfield stay last, faint
    assert piece.voices().drums == [False] * 4
    assert piece.parameters.instruments["Drums"] == KIT_PROGRAM


# --- 7. a resumed run trains in the pitch window saved with its checkpoint -------------------------

def _band_files(folder: Path, bass_shift: int = 0) -> None:
    """Six ``random_band_piece``s as MIDI files in ``folder`` (written again where they are), their
    bass moved by ``bass_shift`` semitones."""
    folder.mkdir(parents=True, exist_ok=True)
    for seed in range(6):
        piece = random_band_piece(seed)
        tracks = [piece.notes(k) for k in range(piece.n_tracks)]
        tracks[2] = [n._replace(pitch=n.pitch + bass_shift) for n in tracks[2]]
        write_midi(PianoRoll.from_notes(tracks, n_steps=piece.n_steps, tempo=piece.tempo,
                                        time_signature=piece.time_signature, names=piece.names,
                                        programs=piece.programs, drums=piece.drums),
                   folder / f"song{seed:02d}.mid")


def _saved_window(run: Path, folder: str) -> tuple[int, int]:
    """The pitch window (lowest pitch, pitches) of the config saved in a run's ``folder``."""
    config = json.loads((run / folder / "config.json").read_text())["config"]
    return config["pitch_low"], config["n_pitches"]


@pytest.mark.slow  # trains twice (about 20 s)
def test_a_resume_after_a_rebuild_trains_in_the_checkpoints_pitch_window(tmp_path, style_home):
    from lab_utils.training import train_gan

    music, run = tmp_path / "band", tmp_path / "run"
    _band_files(music, bass_shift=-12)  # a bass an octave lower: the window reaches below C2

    def rebuilt() -> PieceDataset:
        return build_style("band", folder_sources(music), jobs=1, progress=False)[0]

    train_gan(run, iterations=1, sample_every=1, dataset=rebuilt(), verbose=0)
    window = _saved_window(run, "checkpoint")
    assert window[0] < CONFIGS["default"].pitch_low
    _band_files(music)
    dataset = rebuilt()  # the bass an octave higher again: a new run would take the default window
    assert fit_crop(CONFIGS["default"], dataset.voice_ranges("train")) == CONFIGS["default"]
    train_gan(run, iterations=2, sample_every=1, dataset=dataset, verbose=0, resume=True)
    assert _saved_window(run, "checkpoint") == _saved_window(run, "generator") == window
    assert json.loads((run / "checkpoint" / "state.json").read_text())["iteration"] == 2

    _band_files(music, bass_shift=-24)  # rebuilt with a bass under the saved window
    assert min(low for low, _ in rebuilt().voice_ranges("train")) < window[0]
    before = {path: path.read_bytes() for path in run.rglob("*") if path.is_file()}
    result = run_cli("train", "gan", "--data", "band", "--iterations", "3", "--sample-every", "1", "--resume",
                     "-o", str(run), env={"LAB_STYLES_DIR": str(style_home)})
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert f"{pitch_name(window[0])}-{pitch_name(sum(window) - 1)}" in result.stderr  # the saved window, named
    assert {path: path.read_bytes() for path in run.rglob("*") if path.is_file()} == before


# --- 8. one staff of four-voice chords gives its four voices, top to bottom ------------------------

HYMN = [[("C5", 4), ("D5", 4), ("E5", 4), ("D5", 4), ("C5", 16)],
        [("G4", 4), ("G4", 4), ("G4", 4), ("F4", 4), ("E4", 16)],
        [("E4", 4), ("G4", 4), ("C4", 4), ("B3", 4), ("G3", 16)],  # beat 2: alto and tenor on one G4, written once
        [("C3", 4), ("B2", 4), ("A2", 4), ("G2", 4), ("C3", 16)]]
HYMN_HELD_ALTO = [HYMN[0], [("G4", 4), ("G4", 4), ("G4", 8), ("E4", 16)], *HYMN[2:]]  # the alto holds beats 3-4


def _hymn_notes(line: list[tuple[str, int]]) -> list[Note]:
    starts = np.cumsum([0] + [steps for _, steps in line])
    return [Note(int(start), _midi(name), steps) for start, (name, steps) in zip(starts, line)]


def _one_track(lines: list[list[tuple[str, int]]], path: Path) -> None:
    """The voices as one MIDI track of a piano, as hymn MIDI files come (a unison struck once)."""
    notes = sorted({(n.start, n.pitch): n for line in lines for n in _hymn_notes(line)}.values())
    write_midi(PianoRoll.from_notes([notes], n_steps=32, names=["Piano"], programs=[0]), path)


def _one_staff(lines: list[list[tuple[str, int]]], path: Path) -> None:
    """The voices as chords on the one staff of a MusicXML piano part (a unison written once)."""
    chords = [sorted({_midi(name): name for name, _ in chord}.items(), reverse=True) for chord in zip(*lines)]
    lengths = [steps for _, steps in lines[0]]
    starts = np.cumsum([0] + lengths)
    bars = ["".join(_note(name, steps, 1, 1, chord=i > 0) for start, steps, chord in zip(starts, lengths, chords)
                    if start // 16 == b for i, (_, name) in enumerate(chord)) for b in range(2)]
    path.write_text(_score(bars, staves=1))


@pytest.mark.parametrize("written, lines", [("mid", HYMN_HELD_ALTO), ("musicxml", HYMN)])
def test_one_staff_of_four_voice_chords_gives_its_voices_top_to_bottom(tmp_path, written, lines):
    path = tmp_path / f"hymn.{written}"
    (_one_track if written == "mid" else _one_staff)(lines, path)
    piece = read_music_file(path)
    assert not isinstance(piece, str), piece
    assert len(piece.parts) == 1 and layout_of(piece) == "voices"
    roles = assign_roles(piece, "voices")
    assert not isinstance(roles, str), roles
    for role, line in zip(roles, lines):
        assert [(n.pitch, n.length) for n in role.notes] == [(_midi(name), steps) for name, steps in line]
