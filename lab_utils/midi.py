"""MIDI files <-> piano rolls on a 16th-note grid, with onsets kept.

A piano roll here is time x pitch x track, boolean, at ``STEPS_PER_BEAT`` steps per
quarter note. A boolean roll cannot tell two repeated quarter notes from one half note,
so every :class:`PianoRoll` carries a second roll of onsets beside the sounding one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pretty_midi

from .files import atomic_path

__all__ = [
    "STEPS_PER_BEAT",
    "EIGHTH",
    "bar_steps",
    "N_PITCHES",
    "MAX_BEATS",
    "MidiFileError",
    "Note",
    "PianoRoll",
    "read_midi",
    "read_midi_parts",
    "MidiPart",
    "MidiParts",
    "write_midi",
    "midi_channel",
    "to_pretty_midi",
    "top_line",
    "top_pitches",
    "extract_melody",
    "whole_bars",
    "slice_bars",
    "pitch_name",
    "beat_steps",
    "quarters_per_beat",
    "fits_beats_of",
    "beat_scale",
    "on_quarter_beats",
]

STEPS_PER_BEAT = 4
EIGHTH = STEPS_PER_BEAT // 2  # steps of an 8th: a shorter note is a 16th (a fragment); no edit leaves one
N_PITCHES = 128
MAX_BEATS = 20_000  # a longer file is refused (its rolls alone would take gigabytes): over 2 hours at 150 bpm
MELODY_NAME_HINTS = ("melody", "lead", "vocal", "voice", "soprano", "tune", "sing", "flute")


class MidiFileError(ValueError):
    """A MIDI file we cannot use; ``str(error)`` is the one-line reason for the user."""


class Note(NamedTuple):
    """One note on the step grid: onset step, MIDI pitch, length in steps."""

    start: int
    pitch: int
    length: int


def bar_steps(time_signature: tuple[int, int]) -> int:
    """16th steps in one bar of ``time_signature`` (4/4: 16, 3/4: 12, 6/8: 12, 4/2: 32)."""
    numerator, denominator = time_signature
    return numerator * STEPS_PER_BEAT * 4 // denominator


def beat_steps(time_signature: tuple[int, int]) -> int:
    """Steps in one beat of ``time_signature``: the denominator's note, dotted in compound metres
    (6/8, 9/8, 12/8: a dotted quarter; 3/2, 4/2: a half note)."""
    numerator, denominator = time_signature
    note = STEPS_PER_BEAT * 4 // denominator
    return 3 * note if denominator >= 8 and numerator % 3 == 0 and numerator > 3 else note


def quarters_per_beat(time_signature: tuple[int, int]) -> int:
    """How many quarters make one beat of ``time_signature``, where that is a whole number (2 in
    4/2 or 3/2; 1 in 4/4, 3/4 and the compound metres, whose dotted beat is no whole number)."""
    beat = beat_steps(time_signature)
    return beat // STEPS_PER_BEAT if beat % STEPS_PER_BEAT == 0 else 1


def fits_beats_of(roll: "PianoRoll", scale: int) -> bool:
    """Whether beats of ``scale`` quarters fit the roll: its bar is a whole number of them, and every
    note (and its pickup) starts on the grid of ``scale`` 16ths, so ``on_quarter_beats`` reads it
    note for note (a 3/4 tune does not fit half-note beats)."""
    starts = np.nonzero((roll.onsets & roll.sounding).any(axis=(1, 2)))[0]
    return (roll.steps_per_bar % (STEPS_PER_BEAT * scale) == 0 and roll.pickup_steps % scale == 0
            and not (starts % scale).any())


def beat_scale(roll: "PianoRoll", quarters: int) -> int:
    """Beats of ``quarters`` quarters where they fit the roll (``fits_beats_of``), else quarters (1)."""
    return quarters if fits_beats_of(roll, quarters) else 1


def on_quarter_beats(roll: "PianoRoll", scale: int) -> "PianoRoll":
    """The roll with each beat of its metre (``scale`` quarters) drawn as one quarter, note for note:
    a 4/2 piece read as 4/4 at half the length, so what is counted or decided per quarter beat is
    counted per beat of the piece's own metre."""
    if scale == 1:
        return roll
    n = roll.n_steps // scale * scale
    numerator, denominator = roll.time_signature
    return replace(roll, sounding=roll.sounding[:n:scale], time_signature=(numerator, denominator * scale),
                   onsets=roll.onsets[:n].reshape(n // scale, scale, *roll.onsets.shape[1:]).any(axis=1),
                   pickup_steps=roll.pickup_steps // scale)


@dataclass
class PianoRoll:
    """Tracks of a piece on the 16th-note grid.

    ``sounding[t, p, k]`` is True while pitch ``p`` sounds in track ``k`` at step ``t``;
    ``onsets[t, p, k]`` is True where such a note starts.
    """

    sounding: np.ndarray
    onsets: np.ndarray
    tempo: float = 100.0
    time_signature: tuple[int, int] = (4, 4)
    pickup_steps: int = 0
    names: list[str] = field(default_factory=list)
    programs: list[int] = field(default_factory=list)
    drums: list[bool] = field(default_factory=list)  # per track: a drum kit (MIDI channel 10)

    def __post_init__(self) -> None:
        if self.sounding.ndim == 2:
            self.sounding = self.sounding[:, :, None]
            self.onsets = self.onsets[:, :, None]
        self.sounding = self.sounding.astype(bool)
        self.onsets = self.onsets.astype(bool) & self.sounding
        k = self.n_tracks
        self.names = list(self.names) or [f"Track {i + 1}" for i in range(k)]
        self.programs = list(self.programs) or [0] * k
        self.drums = [bool(d) for d in self.drums] or [False] * k

    @property
    def n_steps(self) -> int:
        return self.sounding.shape[0]

    @property
    def n_tracks(self) -> int:
        return self.sounding.shape[2]

    @property
    def steps_per_bar(self) -> int:
        return bar_steps(self.time_signature)

    @property
    def seconds_per_step(self) -> float:
        return 60.0 / self.tempo / STEPS_PER_BEAT

    @property
    def seconds(self) -> float:
        return self.n_steps * self.seconds_per_step

    def notes(self, track: int = 0) -> list[Note]:
        """The notes of one track, sorted by onset then pitch."""
        return roll_to_notes(self.sounding[:, :, track], self.onsets[:, :, track])

    @classmethod
    def from_notes(
        cls, tracks: list[list[Note]], n_steps: int | None = None, **meta
    ) -> "PianoRoll":
        """Build a roll from one note list per track (a later onset cuts a held note)."""
        end = max((n.start + n.length for notes in tracks for n in notes), default=0)
        n_steps = end if n_steps is None else n_steps
        sounding = np.zeros((n_steps, N_PITCHES, len(tracks)), bool)
        onsets = np.zeros_like(sounding)
        for k, notes in enumerate(tracks):
            for note in sorted(notes):
                if note.start >= n_steps:
                    continue
                sounding[note.start : note.start + note.length, note.pitch, k] = True
                onsets[note.start, note.pitch, k] = True
        return cls(sounding, onsets, **meta)

    def to_multitrack(self):
        """The roll as a ``pypianoroll.Multitrack`` (the DeepComposer samples' type): resolution
        4 per beat, one ``BinaryTrack`` per track with its name and program, tempo and downbeats.

        pypianoroll keeps no onsets: two repeated quarter notes come back as one half note.
        """
        import pypianoroll

        downbeat = np.zeros(self.n_steps, bool)
        downbeat[self.pickup_steps % self.steps_per_bar :: self.steps_per_bar] = True
        tracks = [pypianoroll.BinaryTrack(name=name, program=program, pianoroll=self.sounding[:, :, k])
                  for k, (name, program) in enumerate(zip(self.names, self.programs))]
        return pypianoroll.Multitrack(resolution=STEPS_PER_BEAT, tempo=np.full(self.n_steps, float(self.tempo)),
                                      downbeat=downbeat, tracks=tracks)

    @classmethod
    def from_multitrack(cls, multitrack) -> "PianoRoll":
        """A ``pypianoroll.Multitrack`` on the 16th grid (any resolution: each 16th is read at its
        middle), drums left out; the meter and pickup come from its downbeats, the tempo from its
        first step. A note starts where a pitch begins to sound (pypianoroll keeps no onsets)."""
        pitched = [track for track in multitrack.tracks if not track.is_drum]
        if not pitched:
            raise MidiFileError("the multitrack has no pitched track")
        per_step = multitrack.resolution / STEPS_PER_BEAT  # its time steps in one of our 16ths
        n_steps = int(max(len(track.pianoroll) for track in pitched) / per_step)
        middles = ((np.arange(n_steps) + 0.5) * per_step).astype(int)  # each 16th read at its middle
        sounding = np.zeros((n_steps, N_PITCHES, len(pitched)), bool)
        for k, track in enumerate(pitched):
            inside = middles < len(track.pianoroll)
            sounding[inside, :, k] = track.pianoroll[middles[inside]] > 0
        onsets = sounding & ~np.concatenate([np.zeros((1, N_PITCHES, len(pitched)), bool), sounding[:-1]])
        bars = (np.round(np.flatnonzero(multitrack.downbeat) / per_step).astype(int) if multitrack.downbeat is not None
                else np.array([], int))
        bar = int(bars[1] - bars[0]) if len(bars) > 1 else 4 * STEPS_PER_BEAT
        meter = (bar // STEPS_PER_BEAT, 4) if bar % STEPS_PER_BEAT == 0 else (bar // 2, 8)
        tempo = float(multitrack.tempo[0]) if multitrack.tempo is not None and len(multitrack.tempo) else 100.0
        return cls(sounding, onsets, tempo=tempo, time_signature=meter, pickup_steps=int(bars[0]) if len(bars) else 0,
                   names=[track.name or f"Track {k + 1}" for k, track in enumerate(pitched)],
                   programs=[track.program for track in pitched])

    def track(self, k: int) -> "PianoRoll":
        """A one-track roll holding track ``k``."""
        return replace(
            self,
            sounding=self.sounding[:, :, k : k + 1],
            onsets=self.onsets[:, :, k : k + 1],
            names=[self.names[k]],
            programs=[self.programs[k]],
            drums=[self.drums[k]],
        )


DRUM_CHANNEL = 9  # General MIDI's channel 10
MELODIC_CHANNELS = [c for c in range(16) if c != DRUM_CHANNEL]


def midi_channel(track: int, is_drum: bool = False) -> int:
    """The MIDI channel (0-15) of the ``track``-th part: channel 10 for drums, the others in turn."""
    return DRUM_CHANNEL if is_drum else MELODIC_CHANNELS[track % len(MELODIC_CHANNELS)]


def roll_to_notes(sounding: np.ndarray, onsets: np.ndarray) -> list[Note]:
    """Notes of a 2-D (time, pitch) roll: a note starts at an onset or where sound begins."""
    starts = onsets & sounding
    starts[0] |= sounding[0]
    starts[1:] |= sounding[1:] & ~sounding[:-1]
    notes = []
    n_steps = sounding.shape[0]
    for t, p in zip(*np.nonzero(starts)):
        end = t + 1
        while end < n_steps and sounding[end, p] and not starts[end, p]:
            end += 1
        notes.append(Note(int(t), int(p), int(end - t)))
    return sorted(notes)


def _check_header(path: Path) -> None:
    """A file there, readable, starting with a MIDI header; else the reason as a MidiFileError."""
    try:
        if path.is_dir():
            raise MidiFileError("a folder, not a MIDI file")
        if not path.is_file():
            raise MidiFileError("not a regular file" if path.exists() else "no such file")
        with open(path, "rb") as file:
            head = file.read(4)
    except OSError as exc:  # a name too long, no permission, ...
        raise MidiFileError(exc.strerror or type(exc).__name__) from None
    if not head:
        raise MidiFileError("empty file")
    if head != b"MThd":
        raise MidiFileError("not a MIDI file (no MThd header)")


def _bar_steps(meter: pretty_midi.TimeSignature) -> Fraction:
    """A bar of ``meter`` in 16th steps (a fraction where it is off the grid)."""
    return Fraction(meter.numerator * STEPS_PER_BEAT * 4, meter.denominator)


def _main_time_signature(pm: pretty_midi.PrettyMIDI) -> tuple[tuple[int, int], int]:
    """The piece's meter and the length in steps of a pickup bar written as a short first bar."""
    changes = sorted(pm.time_signature_changes, key=lambda ts: ts.time)
    if not changes:
        return (4, 4), 0
    first = changes[0]
    meter, pickup = (first.numerator, first.denominator), 0
    if len(changes) > 1 and first.time == 0:  # one short bar, then the meter: a pickup
        second = changes[1]
        steps = round(pm.time_to_tick(second.time) * STEPS_PER_BEAT / pm.resolution)
        if 0 < steps == _bar_steps(first) < _bar_steps(second):
            meter, pickup = (second.numerator, second.denominator), steps
    if meter[0] * STEPS_PER_BEAT * 4 % meter[1]:
        raise MidiFileError(f"its meter {meter[0]}/{meter[1]} does not fit the 16th-note grid "
                            "(a bar must be whole 16th notes)")
    return meter, pickup


class MidiPart(NamedTuple):
    """One instrument of a MIDI file: its notes on the step grid, name, GM program, drum flag."""

    name: str
    program: int
    is_drum: bool
    notes: list[Note]


class MidiParts(NamedTuple):
    """Every instrument with notes in a MIDI file, and the file's meter, pickup and tempo."""

    parts: list[MidiPart]
    time_signature: tuple[int, int]
    pickup_steps: int
    tempo: float
    tempo_changes: int


def read_midi_parts(path: str | os.PathLike) -> MidiParts:
    """Every instrument of a type 0 or 1 MIDI file (drums included) as notes on the 16th grid.

    Times are quantized to 16th notes through the file's own ticks, so any tempo map is
    honoured. Raises :class:`MidiFileError` for anything unusable: not MIDI, damaged, no notes,
    a meter off the 16th grid, over ``MAX_BEATS`` long.
    """
    path = Path(path)
    _check_header(path)
    try:
        pm = pretty_midi.PrettyMIDI(str(path))
    except Exception as exc:  # mido and pretty_midi raise many kinds for damaged data
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MidiFileError(f"damaged or truncated MIDI data ({reason})") from None
    instruments = [inst for inst in pm.instruments if inst.notes]
    if not instruments:
        raise MidiFileError("no notes")
    last_tick = max(pm.time_to_tick(n.end) for inst in instruments for n in inst.notes)
    if last_tick / pm.resolution > MAX_BEATS:
        raise MidiFileError(f"too long: {last_tick / pm.resolution:.0f} beats (at most {MAX_BEATS})")
    ticks_per_step = pm.resolution / STEPS_PER_BEAT
    parts = []
    for inst in instruments:
        notes = []
        for n in inst.notes:
            start = round(pm.time_to_tick(n.start) / ticks_per_step)
            end = round(pm.time_to_tick(n.end) / ticks_per_step)
            notes.append(Note(start, n.pitch, max(1, end - start)))
        name = inst.name.strip() or ("Drums" if inst.is_drum else pretty_midi.program_to_instrument_name(inst.program))
        parts.append(MidiPart(name, inst.program, inst.is_drum, notes))
    tempi = pm.get_tempo_changes()[1]
    time_signature, pickup = _main_time_signature(pm)
    return MidiParts(parts, time_signature, pickup, round(float(tempi[0]), 3) if len(tempi) else 120.0,
                     max(0, len(set(np.round(tempi, 3).tolist())) - 1))


def read_midi(path: str | os.PathLike) -> PianoRoll:
    """Read a type 0 or 1 MIDI file into a :class:`PianoRoll` of its pitched tracks.

    Drum tracks are left out (``read_midi_parts`` keeps them). Raises :class:`MidiFileError`
    for anything unusable, also a file of drums only.
    """
    found = read_midi_parts(path)
    pitched = [part for part in found.parts if not part.is_drum]
    if not pitched:
        raise MidiFileError("only drum notes, no melody to use")
    return PianoRoll.from_notes(
        [part.notes for part in pitched],
        tempo=found.tempo,
        time_signature=found.time_signature,
        pickup_steps=found.pickup_steps,
        names=[part.name for part in pitched],
        programs=[part.program for part in pitched],
    )


def _pickup_signature(steps: int) -> tuple[int, int]:
    """A time signature whose bar lasts ``steps`` 16ths (denominator a power of two)."""
    bar = Fraction(steps, 16)
    denominator = max(bar.denominator, 4)
    return int(bar * denominator), denominator


def to_pretty_midi(roll: PianoRoll, velocities: list[int] | None = None) -> pretty_midi.PrettyMIDI:
    """The roll as a ``PrettyMIDI`` object: tempo, meter, named tracks, GM programs."""
    pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=roll.tempo)
    numerator, denominator = roll.time_signature
    main_start = 0.0
    if roll.pickup_steps:
        pn, pd = _pickup_signature(roll.pickup_steps)
        pm.time_signature_changes.append(pretty_midi.TimeSignature(pn, pd, 0.0))
        main_start = roll.pickup_steps * roll.seconds_per_step
    pm.time_signature_changes.append(pretty_midi.TimeSignature(numerator, denominator, main_start))
    step = roll.seconds_per_step
    for k in range(roll.n_tracks):
        velocity = velocities[k] if velocities else 80
        inst = pretty_midi.Instrument(program=roll.programs[k], name=roll.names[k], is_drum=roll.drums[k])
        for note in roll.notes(k):
            inst.notes.append(pretty_midi.Note(
                velocity, note.pitch, note.start * step, (note.start + note.length) * step))
        pm.instruments.append(inst)
    return pm


def write_midi(
    roll: PianoRoll,
    path: str | os.PathLike,
    velocities: list[int] | None = None,
    overwrite: bool = True,
) -> Path:
    """Write ``roll`` as a type 1 MIDI file with tempo, meter, track names and GM programs.

    The file appears whole or not at all (written to a temporary name, then renamed). Without
    ``overwrite``, an existing file is kept and ``FileExistsError`` raised, also when another
    writer takes the name while this one writes.
    """
    path = Path(path)
    pm = to_pretty_midi(roll, velocities)
    with atomic_path(path, overwrite=overwrite) as tmp:
        pm.write(tmp)
    return path


def top_pitches(sounding: np.ndarray) -> np.ndarray:
    """The highest sounding pitch at each step of a (steps, 128[, tracks]) roll, per track; -1 where silent."""
    top = N_PITCHES - 1 - np.argmax(sounding[:, ::-1], axis=1)
    return np.where(sounding.any(axis=1), top, -1)


def top_line(sounding: np.ndarray, onsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The highest sounding pitch at each step of a 2-D roll, as a monophonic roll.

    A new note starts where the top pitch changes or where the top pitch is struck again.
    """
    n_steps = sounding.shape[0]
    any_sound = sounding.any(axis=1)
    top = top_pitches(sounding)
    line = np.zeros_like(sounding, dtype=bool)
    starts = np.zeros_like(line)
    steps = np.nonzero(any_sound)[0]
    line[steps, top[steps]] = True
    previous = np.concatenate([[-1], top[:-1]])
    struck = onsets[np.arange(n_steps), np.maximum(top, 0)] & any_sound
    new = any_sound & ((top != previous) | struck)
    starts[np.nonzero(new)[0], top[new]] = True
    return line, starts


def _melody_score(roll: PianoRoll, k: int) -> float:
    """How much track ``k`` looks like the tune: high, mostly one line, busy, well named."""
    sounding = roll.sounding[:, :, k]
    active = sounding.any(axis=1)
    line, starts = top_line(sounding, roll.onsets[:, :, k])
    pitches = np.nonzero(line)[1]
    polyphony = sounding[active].sum(axis=1).mean()
    share_of_notes = starts.sum() / max(1, max(roll.onsets[:, :, j].sum() for j in range(roll.n_tracks)))
    score = pitches.mean() + 6.0 * (polyphony < 1.2) + 6.0 * min(1.0, 2 * share_of_notes)
    if any(hint in roll.names[k].lower() for hint in MELODY_NAME_HINTS):
        score += 24.0
    return float(score)


def extract_melody(roll: PianoRoll) -> PianoRoll:
    """The melody of a piece as one monophonic track.

    Chooses the track that looks most like a tune (see ``_melody_score``; a drum track only where
    there is nothing else) and takes its top line, so a track of chords gives the line of its
    highest notes.
    """
    pitched = [k for k in range(roll.n_tracks) if not roll.drums[k]] or range(roll.n_tracks)
    best = max(pitched, key=lambda k: _melody_score(roll, k))
    line, starts = top_line(roll.sounding[:, :, best], roll.onsets[:, :, best])
    return replace(roll, sounding=line[:, :, None], onsets=starts[:, :, None],
                   names=["Melody"], programs=[roll.programs[best]])


def whole_bars(roll: PianoRoll) -> PianoRoll:
    """A roll padded with rests to whole bars (a pickup becomes the end of a silent bar)."""
    bar = roll.steps_per_bar
    front = (bar - roll.pickup_steps % bar) % bar
    total = front + roll.n_steps
    total += (-total) % bar
    sounding = np.zeros((total, *roll.sounding.shape[1:]), bool)
    onsets = np.zeros_like(sounding)
    sounding[front : front + roll.n_steps] = roll.sounding
    onsets[front : front + roll.n_steps] = roll.onsets
    return replace(roll, sounding=sounding, onsets=onsets, pickup_steps=0)


def slice_bars(roll: PianoRoll, first: int, last: int) -> PianoRoll:
    """Bars ``first`` to ``last`` (excluded) of a roll without pickup (see ``whole_bars``)."""
    bar = roll.steps_per_bar
    part = slice(first * bar, last * bar)
    onsets = roll.onsets[part].copy()
    onsets[0] |= roll.sounding[part][0]  # a note tied over the cut starts again
    return replace(roll, sounding=roll.sounding[part], onsets=onsets)


def pitch_name(pitch: int) -> str:
    """Scientific pitch name of a MIDI number, e.g. 60 -> 'C4'."""
    return pretty_midi.note_number_to_name(int(pitch))
