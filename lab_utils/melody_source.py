"""Where a melody comes from: a built-in name, a MIDI file, or notes typed in the note language."""

from __future__ import annotations

from pathlib import Path

from .midi import MidiFileError, PianoRoll, extract_melody, read_midi
from .samples import MELODIES, melody_roll

__all__ = ["MelodyError", "melody_from"]


class MelodyError(ValueError):
    """A melody we cannot use; ``str(error)`` is the one-line reason for the user."""


def melody_from(spec: str) -> tuple[PianoRoll, str, str]:
    """A one-track melody from a built-in name, a MIDI file or typed notes: (roll, title, name)."""
    if spec in MELODIES:
        return melody_roll(spec), MELODIES[spec].title, spec
    path = Path(spec)
    if path.suffix.lower() in (".mid", ".midi") or _exists(path):
        try:
            return extract_melody(read_midi(path)), path.stem.replace("_", " "), path.stem
        except MidiFileError as exc:
            raise MelodyError(f"{spec}: {exc}") from None
    try:
        return melody_roll(spec), "A melody of my own", "my_melody"
    except ValueError as exc:
        raise MelodyError(f"melody {spec!r} is not a built-in name ({', '.join(MELODIES)}), a MIDI file "
                          f"or notes like 'C4 C4 G4 G4 A4 A4 G4-' ({exc})") from None


def _exists(path: Path) -> bool:
    """Whether a file is there; a typed tune too long to be a file name is not one."""
    try:
        return path.exists()
    except OSError:
        return False
