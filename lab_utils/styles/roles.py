"""The four roles of a piece (the melody and three parts under it), by the rule of ``styles``'s
docstring or a folder's mapping file, and each role's kind learned from the data."""

from __future__ import annotations

import json
from collections import Counter
from fnmatch import fnmatch
from itertools import combinations, groupby
from pathlib import Path

import numpy as np

from ..midi import MELODY_NAME_HINTS, MidiPart, Note
from ..music_files import ReadPiece
from ..pieces import CHOIR_ROLES
from .places import StyleError
from .sources import Source

__all__ = ["MAPPING_FILE", "BAND_ROLES", "LAYOUTS", "layout_of", "assign_roles", "role_kinds", "load_mapping",
           "choice_for", "role_programs"]

MAPPING_FILE = "roles.json"  # in the music folder: overrides the role rule, per file name pattern
BAND_ROLES = ("Melody", "Accompaniment", "Bass", "Drums")
VOICE_NAMES = {"soprano": 0, "cantus": 0, "superius": 0, "treble": 0, "alto": 1, "altus": 1,
               "contratenor": 1, "tenor": 2, "bass": 3, "bassus": 3, "basso": 3}
BASS_PROGRAMS = range(32, 40)  # General MIDI's bass family (programs 33-40 counted from 1)
POLYPHONIC_SHARE = 0.05  # a part sounding two pitches at once this share of its time is not one voice
CHORDS_SHARE = 0.15  # a role whose notes start together this share of its onsets plays chords
STAFF_SHARE = 0.5  # a staff sounding k notes at once at least this share of its time holds k voices
# voices per part of a keyboard reduction, in order: two staves of two voices (soprano and alto, tenor
# and bass; one of them perhaps in two parts), or all four on one staff
STAFF_VOICES = ((1, 1, 2), (2, 2), (4,))
LAYOUTS = ("voices", "band")


def _mean_pitch(part: MidiPart) -> float:
    return float(np.average([n.pitch for n in part.notes], weights=[n.length for n in part.notes]))


def _at_once(notes: list[Note]) -> np.ndarray:
    """How many of a part's notes sound at each step where it sounds."""
    count = np.zeros(max((n.start + n.length for n in notes), default=0), np.int32)
    for n in notes:
        count[n.start : n.start + n.length] += 1
    return count[count > 0]


def _polyphony(notes: list[Note]) -> float:
    """Share of a part's sounding steps where it sounds two or more pitches."""
    at_once = _at_once(notes)
    return float(np.mean(at_once >= 2)) if len(at_once) else 0.0


def _voices_held(notes: list[Note]) -> int:
    """How many voices a staff holds: the most notes it sounds at once at least ``STAFF_SHARE`` of
    its sounding time (one for a part that sings, or is silent)."""
    at_once = _at_once(notes)
    return max([k for k in range(2, at_once.max(initial=1) + 1) if np.mean(at_once >= k) >= STAFF_SHARE], default=1)


def _singing(parts: list[MidiPart]) -> bool:
    return all(not p.is_drum and _polyphony(p.notes) < POLYPHONIC_SHARE for p in parts)


def layout_of(piece: ReadPiece) -> str:
    """``voices`` where the four named voices, or else all parts, sing one note at a time, or where
    the parts are a keyboard reduction of four voices (``_reduction``); else ``band``."""
    named = _named_voices(piece.parts)
    return "voices" if _singing(named or piece.parts) or (named is None and _reduction(piece.parts)) else "band"


def _lines(notes: list[Note], count: int) -> list[list[Note]] | None:
    """A staff's notes as ``count`` lines that each sing one note at a time, top to bottom, or None
    where more notes sound at once. A note goes to a line that is free as it starts (new notes
    high to low into free lines top to bottom, so a held note keeps its line); where fewer notes
    start than lines are free, the free lines share them (``_shared``: a unison written once)."""
    lines: list[list[Note]] = [[] for _ in range(count)]
    ends = [0] * count
    for start, together in groupby(sorted(notes, key=lambda n: (n.start, -n.pitch)), key=lambda n: n.start):
        starting = list(together)
        free = [i for i in range(count) if ends[i] <= start]
        if len(starting) > len(free):
            return None
        for line, note in zip(free, _shared(starting, [lines[i][-1].pitch if lines[i] else None for i in free])):
            lines[line].append(note)
            ends[line] = note.start + note.length
    return lines


def _shared(starting: list[Note], last: list[int | None]) -> list[Note]:
    """A note for each free line (top to bottom; ``last``: the pitch each sang before, if any)
    from the notes ``starting`` together (high to low), in order, each note to at least one line:
    where fewer notes start than lines are free, the lines that move least share a note (a unison
    written once: alto and tenor on one G4 share it, not soprano and alto); at a tie the notes
    spread evenly over the lines."""
    n, k = len(starting), len(last)
    spread = [starting[j * n // k] for j in range(k)]
    options = [[starting[i] for i, (a, b) in enumerate(zip((0, *cuts), (*cuts, k))) for _ in range(a, b)]
               for cuts in combinations(range(1, k), n - 1)]

    def moves(notes: list[Note]) -> int:
        return sum(abs(note.pitch - before) for note, before in zip(notes, last) if before is not None)

    return min(options, key=lambda notes: (moves(notes), notes != spread))


def _reduction(parts: list[MidiPart]) -> list[MidiPart] | None:
    """The four voices of a keyboard reduction (a piano or organ score of a chorale, MusicXML with
    one part on two staves or on one, the voices as chords or as voices of a staff, a hymn's MIDI
    track): each part, no drums, holds as many voices as ``_voices_held`` counts, in one of the
    ``STAFF_VOICES`` layouts, each split into its lines top to bottom (``_lines``). None where the
    parts are no such reduction (a melody over three-note chords is a band)."""
    if any(p.is_drum for p in parts):
        return None
    counts = [_voices_held(p.notes) for p in parts]
    if tuple(sorted(counts)) not in STAFF_VOICES:
        return None
    voices = []
    for part, count in zip(parts, counts):
        lines = _lines(part.notes, count)
        if lines is None:
            return None
        voices += [part._replace(name=f"{part.name} {i + 1}", notes=line) for i, line in enumerate(lines)]
    return voices


def _top_notes(notes: list[Note]) -> list[Note]:
    """One note per onset, the highest: a voice's divisi chord becomes its top note."""
    top: dict[int, Note] = {}
    for n in notes:
        if n.start not in top or n.pitch > top[n.start].pitch:
            top[n.start] = n
    return [top[s] for s in sorted(top)]


def _named_voices(parts: list[MidiPart]) -> list[MidiPart] | None:
    """The parts named soprano, alto, tenor and bass (or cantus, altus, ...), top to bottom, where
    exactly one part carries each name (a chorale's instruments beside them are left out)."""
    by_voice: dict[int, list[MidiPart]] = {}
    for part in parts:
        first = part.name.lower().replace(".", " ").split()[:1]
        if first and first[0] in VOICE_NAMES:
            by_voice.setdefault(VOICE_NAMES[first[0]], []).append(part)
    if sorted(by_voice) == [0, 1, 2, 3] and all(len(found) == 1 for found in by_voice.values()):
        return [by_voice[v][0] for v in range(4)]
    return None


def _blend(parts: list[MidiPart]) -> MidiPart:
    """Several parts as one: every note (a pitch struck twice at once kept once), the program
    of the part with the most notes."""
    notes = sorted({(n.start, n.pitch): n for part in parts for n in part.notes}.values())
    program = max(parts, key=lambda p: len(p.notes)).program if parts else 0
    return MidiPart(" + ".join(p.name for p in parts), program, any(p.is_drum for p in parts), notes)


def _one_line(part: MidiPart) -> MidiPart:
    return part._replace(notes=_top_notes(part.notes))


def _by_mapping(piece: ReadPiece, choice: list) -> list[MidiPart] | str:
    """The four roles a mapping file names: per role a part name or index, a list of them, or null."""
    roles = []
    for entry in choice:
        wanted = [] if entry is None else entry if isinstance(entry, list) else [entry]
        chosen = []
        for item in wanted:
            found = [p for i, p in enumerate(piece.parts)
                     if (isinstance(item, int) and not isinstance(item, bool) and i == item)
                     or (isinstance(item, str) and p.name == item)]
            if not found:
                return f"mapping: it names {item!r}, which is not a part here"
            chosen += found
        roles.append(_blend(chosen))
    return roles


def assign_roles(piece: ReadPiece, layout: str, choice: list | None = None) -> list[MidiPart] | str:
    """The four roles of one piece, each a part (blended where several make it), by the module's
    rule (or a mapping's ``choice``), or why it has none."""
    if choice is not None:
        roles = _by_mapping(piece, choice)
    elif layout == "voices":
        named = _named_voices(piece.parts)
        voices = named or (piece.parts if _singing(piece.parts) else _reduction(piece.parts) or piece.parts)
        if len(voices) != 4:
            return (f"voices: {len(voices)}, only four-voice pieces are used ({MAPPING_FILE} can "
                    "choose four)" if len(voices) > 4 else f"voices: only {len(voices)}, four are needed")
        roles = [_one_line(p) for p in named or sorted(voices, key=_mean_pitch, reverse=True)]
    else:
        pitched = [p for p in piece.parts if not p.is_drum]
        drums = [p for p in piece.parts if p.is_drum]
        if not pitched:
            return "only drums"
        named = [p for p in pitched if any(h in p.name.lower() for h in MELODY_NAME_HINTS)]
        melody = max(named or pitched, key=_mean_pitch)
        rest = [p for p in pitched if p is not melody]
        bass_family = [p for p in rest if p.program in BASS_PROGRAMS]
        if bass_family:
            bass = min(bass_family, key=_mean_pitch)
        else:  # the lowest other part if it is a line: a piano's chords are no bass
            lowest = min(rest, key=_mean_pitch, default=None)
            bass = lowest if lowest is not None and _singing([lowest]) else None
        others = [p for p in rest if p is not bass]
        roles = [_one_line(melody), _blend(others), bass or _blend([]), _blend(drums)]
    if isinstance(roles, str):
        return roles
    if not roles[0].notes:
        return "no melody"
    return roles


def role_kinds(pieces: list[np.ndarray], drum_roles: set[int]) -> tuple[str, ...]:
    """Each role's kind learned from the pieces' note rows (role, start, pitch, length):
    ``drums``, ``chords`` where its notes start together at least ``CHORDS_SHARE`` of its
    onsets, else ``voice``."""
    kinds = []
    for role in range(4):
        if role in drum_roles:
            kinds.append("drums")
            continue
        onsets = together = 0
        for rows in pieces:
            _, counts = np.unique(rows[rows[:, 0] == role, 1], return_counts=True)
            onsets, together = onsets + len(counts), together + int((counts > 1).sum())
        kinds.append("chords" if onsets and together / onsets >= CHORDS_SHARE else "voice")
    return tuple(kinds)


def load_mapping(sources: list[Source], folder: Path | None) -> dict[str, list]:
    """The folder's ``roles.json`` (file name pattern -> four roles), checked; {} if none."""
    path = folder / MAPPING_FILE if folder else None
    if path is None or not path.is_file():
        return {}
    try:
        mapping = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StyleError(f"{path}: not a readable JSON mapping ({type(exc).__name__})") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, list) and len(v) == 4 for v in mapping.values()):
        raise StyleError(f"{path}: expected {{\"file pattern\": [melody, part, part, part]}} with four roles each")
    return mapping


def choice_for(label: str, mapping: dict[str, list]) -> list | None:
    for pattern, choice in mapping.items():
        if fnmatch(label, pattern) or fnmatch(Path(label).name, pattern):
            return choice
    return None


def role_programs(pieces: list, layout: str) -> tuple[int, ...]:
    """Each role's most common General MIDI program, counted by notes; voices sing (the choir)."""
    if layout == "voices":
        return CHOIR_ROLES.programs
    programs = []
    for role in range(4):
        found = Counter()
        for *_, role_programs in pieces:
            program, notes = role_programs[role]
            found[program] += notes
        programs.append(found.most_common(1)[0][0] if found else 0)
    return tuple(programs)


