"""Music being edited note by note: what the AR-CNN's cell flips become.

The AR-CNN scores 16th-note cells, but a listener hears notes. A flip of an empty cell adds a
note of at least an 8th (the 8th the cell falls in); a flip of a sounding cell removes its note
when the cell lies in the note's first 8th, or else shortens the note from its end to whole 8ths,
so no 16th fragment and no hole inside a held note is ever left. The controls count notes:
``added`` notes the model put in, ``removed`` input notes taken away or shortened. An edit may
also take back a note the model added, or cut an input note it already shortened once more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .midi import EIGHTH, STEPS_PER_BEAT, Note, PianoRoll

__all__ = ["EditCounts", "EditableNotes", "kept_phrase", "controls_phrase"]


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


@dataclass
class EditCounts:
    """How far an enhancement has moved from its input, in notes, and what its edits did."""

    added: int = 0  # notes the model added (and did not take back)
    removed: int = 0  # input notes removed or shortened
    iterations: int = 0  # edits made: each adds, takes back, removes or shortens one note
    taken_back: int = 0  # notes the model added and later removed again
    cut_again: int = 0  # edits of input notes already shortened (shortened more, or removed)

    def phrase(self, asked: int | None = None) -> str:
        """What the edits did, in a few words read from the counts ("100 edits: 70 notes added, 30
        of them taken back again, so 40 stay; none of the input's notes removed or shortened");
        ``asked``: the iterations asked for, named when fewer edits were made."""
        said = _count(self.iterations, "edit")
        if asked is not None and self.iterations < asked:
            said += f" (fewer than the {asked} asked: enhance stops early when the controls allow no more edits)"
        if self.taken_back:
            said += (f": {_count(self.added + self.taken_back, 'note')} added, {self.taken_back} of them taken back "
                     f"again, so {self.added} stay{'s' if self.added == 1 else ''}")
        else:
            said += f": {_count(self.added, 'note') if self.added else 'no note'} added"
        said += f"; {self.removed or 'none'} of the input's notes removed or shortened"
        if self.cut_again:
            said += f", {_count(self.cut_again, 'edit')} cut such a note again"
        return said


@dataclass
class _EditedNote:
    track: int
    start: int
    pitch: int  # a column of the grid
    length: int
    from_input: bool
    alive: bool = True
    edited: bool = False  # an input note removed or shortened: counted once
    kept: bool = False  # never removed or shortened (a note of the user's melody)


class EditableNotes:
    """Notes on a (steps, columns) grid, each owning the cells it sounds in.

    ``first_eighth`` is the step where 8th notes begin (the pickup's offset); with
    ``off_beats_only`` new notes start only between beats (so they never sound on a beat, and
    the voices' beat-to-beat voice leading is untouched).
    """

    def __init__(self, n_steps: int, n_columns: int, first_eighth: int = 0, off_beats_only: bool = False,
                 first_beat: int = 0) -> None:
        self.owner = np.full((n_steps, n_columns), -1, np.int64)
        self.notes: list[_EditedNote] = []
        self.counts = EditCounts()
        self.first_eighth = first_eighth
        self.off_beats_only = off_beats_only
        self.first_beat = first_beat

    def put(self, note: _EditedNote) -> None:
        """Place a note (cells it would share with another note stay the other's)."""
        self.notes.append(note)
        cells = self.owner[note.start : note.start + note.length, note.pitch]
        cells[cells < 0] = len(self.notes) - 1

    @property
    def cells(self) -> np.ndarray:
        return self.owner >= 0

    def _slot(self, t: np.ndarray) -> np.ndarray:
        """The first step of the 8th each step falls in."""
        return t - (t - self.first_eighth) % EIGHTH

    def allowed(self, start: int, end: int, pitch_window: np.ndarray, can_add: bool,
                can_remove_input: bool) -> np.ndarray:
        """(end - start, columns): cells whose flip is an allowed edit within the controls."""
        owner = self.owner[start:end]
        removable = np.array([not n.kept and ((not n.from_input) or n.edited or can_remove_input)
                              for n in self.notes] + [False])
        on = removable[owner]  # owner -1 indexes the trailing False
        if not can_add:
            return on & (owner >= 0)
        steps = np.arange(start, end)
        slot = self._slot(steps)
        inside = (slot >= 0) & (slot + EIGHTH <= self.owner.shape[0])
        if self.off_beats_only:
            inside &= (slot - self.first_beat) % STEPS_PER_BEAT != 0
        slot = np.clip(slot, 0, self.owner.shape[0] - EIGHTH)
        free = np.ones(owner.shape, bool)
        for k in range(EIGHTH):
            free &= self.owner[slot + k] < 0
        off = free & inside[:, None] & pitch_window[None, :]
        return np.where(owner >= 0, on, off)

    def flip(self, t: int, column: int, track: int = 0) -> None:
        """The edit a flip of cell (t, column) stands for (see the module's docstring)."""
        self.counts.iterations += 1
        index = self.owner[t, column]
        if index < 0:
            slot = int(self._slot(np.array([t]))[0])
            self.put(_EditedNote(track, slot, column, EIGHTH, from_input=False))
            self.counts.added += 1
            return
        note = self.notes[index]
        keep = (t - note.start) // EIGHTH * EIGHTH
        self.owner[note.start + keep : note.start + note.length, column] = -1
        for k, other in enumerate(self.notes):  # a unison in another track still sounds there
            if other is not note and other.alive and other.pitch == column:
                cells = self.owner[other.start : other.start + other.length, column]
                cells[cells < 0] = k
        if keep == 0:
            note.alive = False
            if not note.from_input:
                self.counts.added -= 1
                self.counts.taken_back += 1
        note.length = keep
        if note.from_input and note.edited:
            self.counts.cut_again += 1
        elif note.from_input:
            note.edited = True
            self.counts.removed += 1

    def tracks(self, n_tracks: int, column_offset: int) -> list[list[Note]]:
        """The surviving notes per track, pitches moved back by ``column_offset``."""
        out: list[list[Note]] = [[] for _ in range(n_tracks)]
        for note in self.notes:
            if note.alive and note.length > 0:
                out[note.track].append(Note(note.start, note.pitch + column_offset, note.length))
        return out

    @classmethod
    def from_roll(cls, roll: PianoRoll, low: int, n_columns: int, off_beats_only: bool,
                  kept_track: int | None = None) -> "EditableNotes":
        """A roll's notes in the columns ``low`` .. ``low + n_columns - 1`` (notes outside stay
        out of reach and are not edited); the notes of ``kept_track`` are never removed or shortened."""
        edits = cls(roll.n_steps, n_columns, first_eighth=roll.pickup_steps % EIGHTH,
                    off_beats_only=off_beats_only, first_beat=roll.pickup_steps % STEPS_PER_BEAT)
        for k in range(roll.n_tracks):
            for n in roll.notes(k):
                if low <= n.pitch < low + n_columns:
                    edits.put(_EditedNote(k, n.start, n.pitch - low, n.length, from_input=True, kept=k == kept_track))
        return edits


def kept_phrase(before: list[Note], after: list[Note]) -> str:
    """How many of ``before``'s notes (a melody) ``after`` still holds whole, same start, pitch
    and length, in a few words read from the counts: "all 30 kept", "27 of 30 kept, 3 removed
    or shortened", "none of 30 kept"."""
    kept = len(set(before) & set(after))
    if kept == len(before):
        return f"all {kept} kept"
    if kept == 0:
        return f"none of {len(before)} kept"
    return f"{kept} of {len(before)} kept, {len(before) - kept} removed or shortened"


def controls_phrase(max_notes_added: int, max_removed_pct: float) -> str:
    """What ``enhance``'s two ceilings allow an edit to do, read from the settings: why a setting
    keeps, or loses, the input's notes."""
    if max_notes_added == 0 and max_removed_pct == 0:
        return "no note may be added and none of the input's notes removed, so no edit is allowed"
    if max_notes_added == 0:
        return (f"no note may be added (at most 0), so every edit removes or shortens one of the input's notes "
                f"(up to {max_removed_pct:g} % of them)")
    if max_removed_pct == 0:
        return (f"0 % removal: none of the input's notes may be removed or shortened, so every edit adds a note "
                f"(at most {max_notes_added} stay) or takes back one the model added")
    return (f"up to {max_notes_added} notes may be added and up to {max_removed_pct:g} % of the input's notes "
            "removed or shortened: the model chooses which")
