"""Where a melody comes from: a built-in name, a MIDI file, or notes typed in the note language."""

from __future__ import annotations

from pathlib import Path

from .files import shown
from .midi import MidiFileError, PianoRoll, extract_melody, read_midi
from .samples import MELODIES, looks_like_notes, melody_roll

__all__ = ["MelodyError", "melody_from"]


class MelodyError(ValueError):
    """A melody we cannot use; ``str(error)`` is the one-line reason for the user."""


def melody_from(spec: str) -> tuple[PianoRoll, str, str]:
    """A one-track melody from a built-in name, a MIDI file or typed notes: (roll, title, name).

    A ``MelodyError`` says which of the three went wrong: no melody at all, a word that is no
    built-in name and no file, a file that is not a usable MIDI file, or which typed note is bad.
    """
    text = spec.strip()
    choices = f"a built-in name ({', '.join(MELODIES)}), a MIDI file, or notes like 'C4 C4 G4 G4 A4 A4 G4-'"
    if not text:
        raise MelodyError(f"no melody given: {choices}")
    if text in MELODIES:
        return melody_roll(text), MELODIES[text].title, text
    path = Path(text)
    one_word = len(text.split()) == 1  # typed notes are separated by any white space
    if path.suffix.lower() in (".mid", ".midi") or (one_word and _exists(path)):
        try:
            return extract_melody(read_midi(path)), path.stem.replace("_", " "), path.stem
        except MidiFileError as exc:
            raise MelodyError(f"{shown(text)}: {exc}") from None
    if one_word and not looks_like_notes(text):
        raise MelodyError(f"melody {text!r} is not {choices}")
    try:
        return melody_roll(text), "A melody of my own", "my_melody"
    except ValueError as exc:
        raise MelodyError(f"typed melody: {exc}") from None


def _exists(path: Path) -> bool:
    """Whether a file is there; a typed tune too long to be a file name is not one."""
    try:
        return path.exists()
    except OSError:
        return False
