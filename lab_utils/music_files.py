"""Reading one music file of any kind into its parts: MIDI (pretty_midi), MusicXML, kern and
ABC (music21). What a style's dataset is built from (``styles``)."""

from __future__ import annotations

import importlib.util
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .midi import STEPS_PER_BEAT, MidiFileError, MidiPart, Note, read_midi_parts

__all__ = ["ReadPiece", "read_music_file", "corpus_dir", "MUSIC_SUFFIXES", "MIDI_SUFFIXES", "SCORE_SUFFIXES"]

MIDI_SUFFIXES = {".mid", ".midi"}
SCORE_SUFFIXES = {".xml", ".musicxml", ".mxl", ".krn", ".abc"}
MUSIC_SUFFIXES = MIDI_SUFFIXES | SCORE_SUFFIXES
SCORE_TEMPO = 80.0  # a score without a metronome mark is heard at this tempo


@dataclass
class ReadPiece:
    """One file's parts as notes on the 16th grid, with its meter, pickup, tempo and key."""

    parts: list[MidiPart]
    time_signature: tuple[int, int]
    pickup_steps: int
    tempo: float
    tempo_changes: int  # how many times the tempo changes (harmless: the grid counts beats)
    key: str  # "G major", "E minor": music21's Krumhansl-Schmuckler analysis

    def __post_init__(self) -> None:  # plain Python numbers, whatever the reader handed over
        self.time_signature = (int(self.time_signature[0]), int(self.time_signature[1]))
        self.pickup_steps, self.tempo, self.tempo_changes = int(self.pickup_steps), float(self.tempo), int(self.tempo_changes)

    @property
    def n_steps(self) -> int:
        return max((n.start + n.length for p in self.parts for n in p.notes), default=0)

    def to_json(self) -> dict:
        return {"parts": [[p.name, int(p.program), bool(p.is_drum), [[int(x) for x in n] for n in p.notes]]
                          for p in self.parts],
                "time_signature": list(self.time_signature), "pickup_steps": self.pickup_steps,
                "tempo": self.tempo, "tempo_changes": self.tempo_changes, "key": self.key}

    @classmethod
    def from_json(cls, data: dict) -> "ReadPiece":
        parts = [MidiPart(name, int(program), bool(drum), [Note(*n) for n in notes])
                 for name, program, drum, notes in data["parts"]]
        return cls(parts, tuple(data["time_signature"]), int(data["pickup_steps"]), float(data["tempo"]),
                   int(data["tempo_changes"]), str(data["key"]))


def corpus_dir() -> Path:
    """music21's bundled corpus folder, found without importing music21 (it is slow)."""
    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("music21 is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "corpus"


def _key_name(tonic: str, mode: str) -> str:
    return f"{tonic.replace('-', 'b')} {mode}"


def _read_midi(path: Path) -> ReadPiece:
    from music21 import analysis, note, stream

    found = read_midi_parts(path)
    weights = Counter()
    for part in found.parts:
        if not part.is_drum:
            for n in part.notes:
                weights[n.pitch % 12] += n.length
    if not weights:
        raise MidiFileError("only drums")
    profile = stream.Stream([note.Note(60 + pc, quarterLength=w / STEPS_PER_BEAT) for pc, w in sorted(weights.items())])
    key = analysis.discrete.KrumhanslSchmuckler().getSolution(profile)
    return ReadPiece(found.parts, found.time_signature, found.pickup_steps, found.tempo, found.tempo_changes,
                     _key_name(key.tonic.name, key.mode))


def _read_score(path: Path) -> ReadPiece | str:
    """A score's parts (repeats expanded, ties joined, grace notes left out), or why not."""
    from music21 import converter, meter, repeat, tempo

    score = converter.parse(str(path))
    parts = list(getattr(score, "parts", []))
    if not parts:
        return "no parts"
    try:
        expanded = [p.expandRepeats() for p in parts]
    except (repeat.ExpanderException, Exception):  # repeat marks music21 cannot expand: the written form
        expanded = parts
    signatures = list(expanded[0].recurse().getElementsByClass(meter.TimeSignature))
    if not signatures:
        return "no time signature"
    time_signature = (signatures[0].numerator, signatures[0].denominator)
    measures = list(expanded[0].getElementsByClass("Measure"))
    pickup = 0
    if len(measures) > 1 and (measures[0].paddingLeft or measures[0].number == 0):
        pickup = round(float(measures[1].offset) * STEPS_PER_BEAT)
    read = []
    for part in expanded:
        notes = []
        for n in part.stripTies().flatten().notes:
            length = round(float(n.quarterLength) * STEPS_PER_BEAT)
            if length <= 0:
                continue  # grace notes
            start = round(float(n.offset) * STEPS_PER_BEAT)
            notes.extend(Note(start, p.midi, length) for p in sorted(n.pitches, key=lambda q: -q.midi))
        instrument = part.getInstrument(returnDefault=True)
        program = instrument.midiProgram if instrument.midiProgram is not None else 52
        read.append(MidiPart((part.partName or "").strip() or f"Part {len(read) + 1}", program, False, notes))
    read = [p for p in read if p.notes]
    if not read:
        return "no notes"
    marks = list(score.recurse().getElementsByClass(tempo.MetronomeMark))
    bpm = marks[0].getQuarterBPM() if marks and marks[0].getQuarterBPM() else SCORE_TEMPO
    key = score.analyze("key")
    return ReadPiece(read, time_signature, pickup, float(bpm), max(0, len({m.getQuarterBPM() for m in marks}) - 1),
                     _key_name(key.tonic.name, key.mode))


def read_music_file(path: str | Path) -> ReadPiece | str:
    """The parts of one MIDI, MusicXML, kern or ABC file, or a one-line reason it cannot be used."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            return "unreadable: an empty file"
        if path.suffix.lower() in MIDI_SUFFIXES:
            return _read_midi(path)
        if path.suffix.lower() in SCORE_SUFFIXES:
            return _read_score(path)
        return f"unreadable: not a music file ({path.suffix or 'no suffix'})"
    except MidiFileError as exc:
        return "only drums" if "only drums" in str(exc) else f"unreadable: {exc}"
    except RecursionError:
        return "unreadable: nested too deeply to parse"
    except Exception as exc:  # music21's parsers raise many kinds for damaged files: reported, never fatal
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        return f"unreadable: {type(exc).__name__} ({reason})"
