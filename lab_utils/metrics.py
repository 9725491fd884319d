"""Musical figures of a piano roll (four voices, or any), and the distance to a style's own.

Pure functions on rolls, with no dataset behind them: a style's reference figures (mean and
spread over its pieces) are read from that style (``chorales.bach_reference``, a style's
report) and passed in. Drum tracks (``PianoRoll.drums``) are left out of the figures and the
key: a drum's pitch names an instrument, not a note.

The figures are those of DESIGN.md ("How we judge the music"). They need onsets (a repeated
note is two notes) and minor keys with a raised 6th and 7th, which ``pypianoroll.metrics``
(boolean rolls, natural minor) cannot see, so they are computed here on the piano roll with
its onset roll. The key comes from music21's Krumhansl-Schmuckler analysis: its weights and its
rule, computed on 12 numbers with numpy, since importing music21 takes longer (0.7 s) than
everything else a command does before its first note (tests/test_metrics.py checks the answers
are music21's on every chorale).

``musegan_figures`` gives ``pypianoroll.metrics``' own figures (MuseGAN's) beside them, from its
functions where version 1.0.4 computes them right and by MuseGAN's definitions where it does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from itertools import combinations

import numpy as np

from .midi import EIGHTH, STEPS_PER_BEAT, PianoRoll, pitch_name, top_pitches

__all__ = ["FIGURES", "FigureReference", "figures", "estimate_key", "melody_key", "distance_to_bach", "reference_from",
           "stored_reference", "summarize", "key_scale", "CHORDS", "CHORD_SHAPES", "enhancement_figures", "beat_pitches",
           "TEACHER_FIGURES", "bass_track", "voice_leading_faults", "teacher_report", "beat_table", "note_changes", "MUSEGAN_FIGURES",
           "musegan_figures", "musegan_table"]

FigureReference = dict[str, tuple[float, float]]  # a figure's name -> its mean and spread in a style
FIGURES = ("in_key", "consonant", "chordal", "parallels", "long_notes", "voices",
           "block_attacks", "offbeat_motion")

MAJOR = {0, 2, 4, 5, 7, 9, 11}
MINOR = {0, 2, 3, 5, 7, 8, 10, 9, 11}  # natural minor plus the raised 6th and 7th
CONSONANT = {0, 3, 4, 5, 7, 8, 9}  # unison/octave, thirds, fourth, fifth, sixths
# Complete chords: each shape's name and its semitones above the root, triads then sevenths (the
# order is the decoder's chord labels: ``voice_leading.N_SHAPES`` per root)
CHORD_SHAPES = {"major": (0, 4, 7), "minor": (0, 3, 7), "diminished": (0, 3, 6), "augmented": (0, 4, 8),
                "seventh": (0, 4, 7, 10), "minor seventh": (0, 3, 7, 10), "major seventh": (0, 4, 7, 11),
                "half-diminished": (0, 3, 6, 10), "diminished seventh": (0, 3, 6, 9)}
CHORDS = [frozenset((root + i) % 12 for i in shape) for root in range(12) for shape in CHORD_SHAPES.values()]


# how near the best key's correlation a key ending on the melody's last note may be and still win:
# chosen on the training chorales, where the soprano's key then agrees with the whole chorale's on
# 78.5 % of them (75.6 % by the correlation alone; 0.05: 77.4 %, 0.2: 77.0 %)
FINAL_NOTE_MARGIN = 0.1
# music21.analysis.discrete.KrumhanslSchmuckler's weights: how well each degree of the scale,
# from the tonic up, fits a major or a minor key
KEY_PROFILES = {"major": (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88),
                "minor": (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)}


def _pitched(roll: PianoRoll) -> PianoRoll:
    """The roll without its drum tracks (the roll itself where it has none): a drum's pitch is an
    instrument, not a note, so no figure counts it."""
    if not any(roll.drums):
        return roll
    keep = [k for k in range(roll.n_tracks) if not roll.drums[k]]
    return replace(roll, sounding=roll.sounding[:, :, keep], onsets=roll.onsets[:, :, keep],
                   names=[roll.names[k] for k in keep], programs=[roll.programs[k] for k in keep],
                   drums=[False] * len(keep))


def _key_correlations(roll: PianoRoll) -> list[tuple[float, int, str]]:
    """(correlation, tonic, mode) of every key by music21's Krumhansl-Schmuckler rule, best first:
    how well each key's profile fits the quarter notes each pitch class sounds. The sums run in
    music21's order, so that near-ties fall as they do there; of equal correlations the higher
    tonic wins, and minor before major, as music21 sorts them."""
    weights = [0.0] * 12
    roll = _pitched(roll)
    for k in range(roll.n_tracks):
        for n in roll.notes(k):
            weights[n.pitch % 12] += n.length / STEPS_PER_BEAT
    if not any(weights):
        raise ValueError("no notes to find a key in")
    weights_mean = sum(weights) / 12
    candidates = []
    for mode, profile in KEY_PROFILES.items():
        profile_mean = sum(profile) / 12
        for tonic in range(12):
            top = profile_spread = weights_spread = 0.0
            for j in range(12):
                degree = profile[(j - tonic) % 12] - profile_mean
                top += degree * (weights[j] - weights_mean)
                profile_spread += degree ** 2
                weights_spread += (weights[j] - weights_mean) ** 2
            correlation = top / (profile_spread * weights_spread) ** 0.5 if weights_spread else 0.0
            candidates.append((correlation, tonic, mode))
    return sorted(candidates, reverse=True)


def estimate_key(roll: PianoRoll) -> tuple[int, str]:
    """Tonic pitch class and mode ('major' or 'minor') by music21's Krumhansl-Schmuckler rule
    (``_key_correlations``). Drum tracks are left out. Raises ValueError for a roll without
    pitched notes."""
    _, tonic, mode = _key_correlations(roll)[0]
    return tonic, mode


def melody_key(melody: PianoRoll) -> tuple[int, str]:
    """The key of a melody (its top line): of the keys whose Krumhansl-Schmuckler correlation is
    within ``FINAL_NOTE_MARGIN`` of the best, the best one whose tonic is the melody's last note,
    else ``estimate_key``'s. A tune's pitches alone often fit its relative minor or major as well
    (Mary Had a Little Lamb sounds E more than C, and ends on C); its last note says which."""
    candidates = _key_correlations(melody)
    line = top_pitches(_pitched(melody).sounding[:, :, 0])
    last = line[line >= 0][-1] % 12
    near = [(tonic, mode) for correlation, tonic, mode in candidates if correlation >= candidates[0][0] - FINAL_NOTE_MARGIN]
    return next(((tonic, mode) for tonic, mode in near if tonic == last), near[0])


def key_scale(tonic: int, mode: str) -> set[int]:
    """Pitch classes of a key's scale (minor keys with the raised 6th and 7th)."""
    return {(tonic + i) % 12 for i in (MAJOR if mode == "major" else MINOR)}


def beat_pitches(roll: PianoRoll) -> np.ndarray:
    """Sounding pitch of each voice on each beat, -1 where silent: (beats, voices)."""
    beats = np.arange(roll.pickup_steps % STEPS_PER_BEAT, roll.n_steps, STEPS_PER_BEAT)
    return top_pitches(roll.sounding[beats])


def figures(roll: PianoRoll, key: tuple[int, str] | None = None) -> dict[str, float]:
    """The eight figures of a piece whose track 0 is the melody, its drum tracks left out."""
    roll = _pitched(roll)
    scale = key_scale(*(key or estimate_key(roll)))
    notes = [n for k in range(roll.n_tracks) for n in roll.notes(k)]
    in_key = np.mean([n.pitch % 12 in scale for n in notes])
    long_notes = np.mean([n.length >= EIGHTH for n in notes])

    beats = beat_pitches(roll)
    melody, accompaniment = beats[:, 0], beats[:, 1:]
    pairs = [(m, a) for m, row in zip(melody, accompaniment) if m >= 0 for a in row if a >= 0]
    consonant = np.mean([(m - a) % 12 in CONSONANT for m, a in pairs]) if pairs else np.nan

    chord_beats = [frozenset(p % 12 for p in row if p >= 0) for row in beats]
    chord_beats = [pcs for pcs in chord_beats if len(pcs) >= 2]
    chordal = np.mean([any(pcs <= c for c in CHORDS) for pcs in chord_beats]) if chord_beats else np.nan

    moves = parallels = 0
    for i, j in combinations(range(roll.n_tracks), 2):
        a, b = beats[:, i], beats[:, j]
        both = (a[:-1] >= 0) & (b[:-1] >= 0) & (a[1:] >= 0) & (b[1:] >= 0)
        moved = both & (a[:-1] != a[1:]) & (b[:-1] != b[1:])  # parallel motion needs both to move
        before, after = (a[:-1] - b[:-1]) % 12, (a[1:] - b[1:]) % 12
        similar = np.sign(a[1:] - a[:-1]) == np.sign(b[1:] - b[:-1])
        perfect = moved & similar & (before == after) & np.isin(after, (0, 7))
        moves += int(moved.sum())
        parallels += int(perfect.sum())

    sounding_pitches = roll.sounding.any(axis=2)  # unisons count once
    active = sounding_pitches.any(axis=1)
    voices = sounding_pitches[active].sum(axis=1).mean() if active.any() else 0.0

    strikes = roll.onsets.any(axis=1).sum(axis=1)  # voices striking per step
    onset_steps = strikes > 0
    block = np.mean(strikes[onset_steps] >= 3) if onset_steps.any() else np.nan
    offbeats = np.arange(roll.pickup_steps % STEPS_PER_BEAT + 2, roll.n_steps, STEPS_PER_BEAT)
    offbeats = offbeats[active[offbeats]]
    offbeat = np.mean(onset_steps[offbeats]) if len(offbeats) else np.nan
    return {
        "in_key": float(in_key), "consonant": float(consonant), "chordal": float(chordal),
        "parallels": 100.0 * parallels / moves if moves else 0.0,
        "long_notes": float(long_notes), "voices": float(voices),
        "block_attacks": float(block), "offbeat_motion": float(offbeat),
    }


def reference_from(pieces: list[dict[str, float]]) -> FigureReference:
    """Mean and spread (standard deviation) of each figure over pieces, e.g. Bach's test split."""
    return {f: (float(np.nanmean([p[f] for p in pieces])), float(np.nanstd([p[f] for p in pieces])))
            for f in FIGURES}


def stored_reference(rolls: Iterable[PianoRoll]) -> FigureReference:
    """``reference_from`` the pieces' figures, to 4 decimals: what a style's report stores."""
    reference = reference_from([figures(roll) for roll in rolls])
    return {f: (round(mean, 4), round(spread, 4)) for f, (mean, spread) in reference.items()}


def distance_to_bach(values: dict[str, float], reference: FigureReference) -> float:
    """Mean over figures of |x - mean| / max(spread, 0.05), each term capped at 5, against a style's
    mean and spread (Bach's: ``chorales.bach_reference()``)."""
    terms = [min(5.0, abs(values[f] - mean) / max(spread, 0.05))
             for f, (mean, spread) in reference.items() if not np.isnan(values[f])]
    return float(np.mean(terms))


def summarize(pieces: list[dict[str, float]], reference: FigureReference) -> dict[str, float]:
    """Mean figures over pieces, plus the mean distance of the pieces to the reference."""
    means = {f: float(np.nanmean([p[f] for p in pieces])) for f in FIGURES}
    means["distance"] = float(np.mean([distance_to_bach(p, reference) for p in pieces]))
    return means


def _by_onset(roll: PianoRoll) -> dict[tuple[int, int], int]:
    """Every note's length by its (onset, pitch)."""
    return {(n.start, n.pitch): n.length for k in range(roll.n_tracks) for n in roll.notes(k)}


def note_changes(before: PianoRoll, after: PianoRoll) -> tuple[list[tuple[int, int, int]], list, list]:
    """The notes an edit added (start, pitch, length), removed and shortened ((start, pitch)):
    a note is known by its onset and pitch."""
    old, new = _by_onset(before), _by_onset(after)
    added = [(start, pitch, length) for (start, pitch), length in new.items() if (start, pitch) not in old]
    removed = [onset for onset in old if onset not in new]
    shortened = [onset for onset, length in old.items() if onset in new and new[onset] < length]
    return added, removed, shortened


def enhancement_figures(before: PianoRoll, after: PianoRoll, key: tuple[int, str] | None = None) -> dict[str, float]:
    """What an enhancement did, in notes: kept, added, removed, shortened, and how the added
    notes sound (in key, consonant with the melody, fragments, far from the music).

    A note is known by its onset and pitch. ``consonant`` is, on each beat where the input
    sounds, the share of added pitches sounding there that are consonant with the input's top
    note (the melody). ``fragments`` is the share of added notes shorter than an 8th; ``far``
    the share of added notes more than a fifth from every pitch the input sounds at their onset.
    """
    added, removed, shortened = note_changes(before, after)
    old, new = _by_onset(before), _by_onset(after)
    original = before.sounding.any(axis=2)
    added_cells = after.sounding.any(axis=2) & ~original
    scale = key_scale(*(key or estimate_key(before)))
    beats = np.arange(before.pickup_steps % STEPS_PER_BEAT, before.n_steps, STEPS_PER_BEAT)
    pairs = []
    for t in beats:
        melody = np.nonzero(original[t])[0]
        if len(melody):
            pairs += [(melody.max() - p) % 12 in CONSONANT for p in np.nonzero(added_cells[t])[0]]
    far = [not any(abs(pitch - p) <= 7 for p in np.nonzero(original[start])[0]) for start, pitch, _ in added]
    return {
        "kept": float(np.mean([onset in new and new[onset] == length for onset, length in old.items()])) if old else 1.0,
        "added_notes": len(added), "removed_notes": len(removed), "shortened_notes": len(shortened),
        "fragments": float(np.mean([length < EIGHTH for *_, length in added])) if added else 0.0,
        "far": float(np.mean(far)) if far else 0.0,
        "in_key": float(np.mean([pitch % 12 in scale for _, pitch, _ in added])) if added else float("nan"),
        "consonant": float(np.mean(pairs)) if pairs else float("nan"),
    }


TEACHER_FIGURES = ("crossings", "bass_still", "bass_steps", "tonic_ending")


def bass_track(roll: PianoRoll) -> int | None:
    """The track that carries the bass: the last that is not drums (a choir's bass; a band's bass
    role, listed before its drums), None where no pitched track sounds under the melody."""
    pitched = [k for k in range(1, roll.n_tracks) if not roll.drums[k]]
    return pitched[-1] if pitched else None


def voice_leading_faults(roll: PianoRoll, key: tuple[int, str] | None = None) -> dict[str, float]:
    """What a harmony teacher checks beside the eight figures, on a four-voice piece (or a band's
    parts: the bass is its bass role, ``bass_track``; drum tracks are left out).

    ``crossings``: share of beats where a lower voice sounds above a higher one.
    ``bass_still``: share of beat-to-beat moves with at least two upper voices changing pitch
    where the bass keeps its pitch. ``bass_steps``: share of the bass's changes of pitch from
    beat to beat that are steps (a 2nd). ``tonic_ending``: 1 where a melody that ends on its tonic
    ends (its last step) over a root-position tonic triad, 0 where it does not, NaN where the melody ends elsewhere.
    The key is the melody's own unless ``key`` is given.
    """
    tonic, _mode = key or melody_key(roll.track(0))
    roll = _pitched(roll)  # the bass track is then the last
    bass = bass_track(roll)
    if bass is None:
        raise ValueError("no part under the melody to check")
    beats = beat_pitches(roll)
    full = (beats >= 0).all(axis=1)
    crossings = float(np.mean((np.diff(beats[full], axis=1) > 0).any(axis=1))) if full.any() else np.nan
    both = full[:-1] & full[1:]
    moved = (beats[1:, :bass] != beats[:-1, :bass]).sum(axis=1) >= 2
    under = both & moved
    bass_still = float(np.mean(beats[1:, bass][under] == beats[:-1, bass][under])) if under.any() else np.nan
    bass_moves = np.abs(beats[1:, bass] - beats[:-1, bass])[both & (beats[1:, bass] != beats[:-1, bass])]
    bass_steps = float(np.mean(bass_moves <= 2)) if len(bass_moves) else np.nan
    melody = roll.notes(0)
    tonic_ending = np.nan
    if melody and melody[-1].pitch % 12 == tonic:
        last = roll.sounding[melody[-1].start + melody[-1].length - 1]  # (128, voices) as the piece ends
        lowest = np.nonzero(last[:, bass])[0]
        pcs = {int(p) % 12 for p in np.nonzero(last.any(axis=1))[0]}
        triads = ({tonic, (tonic + 4) % 12, (tonic + 7) % 12}, {tonic, (tonic + 3) % 12, (tonic + 7) % 12})
        tonic_ending = float(len(lowest) > 0 and lowest[0] % 12 == tonic and any(pcs <= t for t in triads))
    return {"crossings": crossings, "bass_still": bass_still, "bass_steps": bass_steps, "tonic_ending": tonic_ending}


def teacher_report(roll: PianoRoll) -> str:
    """The teacher's checks of a four-voice piece as sentences a beginner can read (``figures``'
    parallels and ``voice_leading_faults``), one per line."""
    faults, parallels = voice_leading_faults(roll), figures(roll)["parallels"]

    def share(value: float) -> str:
        return "does not apply" if np.isnan(value) else f"{value:.0%}"

    ending = {1.0: "yes", 0.0: "no"}.get(faults["tonic_ending"], "does not apply (the melody ends off its tonic)")
    return "\n".join([
        f"parallel fifths or octaves: {parallels:.1f} per 100 moves where two voices both change pitch",
        f"beats where a lower voice sounds above the voice over it (a crossing): {share(faults['crossings'])}",
        f"moves where two or more upper voices change pitch and the bass stands still: {share(faults['bass_still'])}",
        f"the bass's changes of pitch that are steps (a 2nd): {share(faults['bass_steps'])}",
        f"a melody ending on its tonic ends over the tonic chord with its root in the bass: {ending}"])


def beat_table(roll: PianoRoll) -> str:
    """The voices 8th by 8th as pitch names, as a harmony teacher reads them.

    A row per 8th note: ``3.2`` is bar 3, beat 2, ``3.2&`` the 8th after it; ``.`` marks a
    pitch held from the row above, ``-`` silence.
    """
    half = STEPS_PER_BEAT // 2
    steps = np.arange(roll.pickup_steps % half, roll.n_steps, half)
    rows = top_pitches(roll.sounding[steps])
    struck = roll.onsets[steps[:, None], np.maximum(rows, 0), np.arange(roll.n_tracks)[None, :]]
    per_bar = roll.steps_per_bar // half
    pickup = roll.pickup_steps // half
    lines = ["bar.beat " + " ".join(f"{n[:5]:>6s}" for n in roll.names)]
    for i, (row, new) in enumerate(zip(rows, struck)):
        bar, eighth = divmod(i - pickup, per_bar)
        label = f"{bar + 1}.{eighth // 2 + 1}" + ("&" if eighth % 2 else "")
        cells = ["-" if p < 0 else pitch_name(int(p)) if n or i == 0 or rows[i - 1, k] != p else "."
                 for k, (p, n) in enumerate(zip(row, new))]
        lines.append(f"{label:8s} " + " ".join(f"{c:>6s}" for c in cells))
    return "\n".join(lines)


# pypianoroll's metrics (those MuseGAN reported), in words; the notes say how each is computed
MUSEGAN_FIGURES = {
    "empty_beats": "empty beats: share of beats where no voice sounds",
    "pitches_used": "pitches used: different pitches in the piece",
    "pitch_classes_used": "pitch classes used: different note names (C, C#, D, ...)",
    "pitch_range": "pitch range: semitones from the lowest note to the highest",
    "polyphony": "polyphony: share of 16ths where 3 or more different pitches sound",
    "qualified_notes": "qualified notes: share of notes at least an 8th long",
    "in_scale": "in scale: share of the notes in the piece's key, each weighted by its length (minor: natural minor)",
    "tonal_distance": "tonal distance: how far apart two voices' notes lie on the circles of fifths and thirds",
}
_MUSEGAN_SOURCES = {
    "empty_beats": "pypianoroll, 1 − its value [a]",
    "pitches_used": "pypianoroll",
    "pitch_classes_used": "pypianoroll, pitches reordered [b]",
    "pitch_range": "pypianoroll",
    "polyphony": "pypianoroll",
    "qualified_notes": "computed here [c]",
    "in_scale": "pypianoroll, pitches reordered [b]",
    "tonal_distance": "computed here [d]",
}
_MUSEGAN_NOTES = (
    "[a] pypianoroll 1.0.4's `empty_beat_rate` returns the share of beats that are *not* empty.",
    "[b] pypianoroll 1.0.4 adds up each run of 10 neighbouring pitches as one \"pitch class\"; the pitches are "
    "handed to it reordered (the octaves of C first, then those of C#, ...) so that each run is one note name.",
    "[c] MuseGAN's definition, computed here because pypianoroll 1.0.4's `qualified_note_rate` fails on an "
    "on/off piano roll and pairs the start of one note with the end of another.",
    "[d] MuseGAN's definition, computed here because pypianoroll 1.0.4's `tonal_distance` applies the tonal map "
    "to the time steps of a beat instead of its 12 note names (at 4 steps per beat it stops with an error).",
)
# Harte, Sandler and Gasser's tonal map (MuseGAN's tonal distance): each pitch class to a point on the
# circle of fifths, of minor thirds and of major thirds, radii 1, 1 and 0.5
_TONAL_MAP = np.array([radius * f(np.arange(12) * turn * np.pi)
                       for radius, turn in ((1.0, 7 / 6), (1.0, 3 / 2), (0.5, 2 / 3)) for f in (np.sin, np.cos)])


def _by_pitch_class(roll2d: np.ndarray) -> np.ndarray:
    """The 120 lowest pitches reordered every C (MIDI 0, 12, ..., 108), then every C# (1, 13, ...), ...:
    pypianoroll 1.0.4 sums pitches 10i..10i+9 as pitch class i, which then holds exactly pitch class i."""
    if roll2d[:, 120:].any():
        raise ValueError("a pitch above B8 (MIDI 119): pypianoroll 1.0.4 cannot sort it into a pitch class")
    reordered = np.zeros_like(roll2d)
    reordered[:, :120] = roll2d[:, :120].reshape(-1, 10, 12).transpose(0, 2, 1).reshape(-1, 120)
    return reordered


def musegan_figures(roll: PianoRoll, key: tuple[int, str] | None = None) -> dict[str, float]:
    """pypianoroll's metrics (MuseGAN's) of a piece, one value per ``MUSEGAN_FIGURES`` key, its
    drum tracks left out.

    Taken from ``pypianoroll.metrics`` 1.0.4 on ``roll.to_multitrack()`` with its voices blended:
    ``pitches_used``, ``pitch_range``, ``polyphony`` (steps with more than 2 pitches), ``empty_beats``
    (1 - ``empty_beat_rate``, which returns the share of non-empty beats), and ``pitch_classes_used`` and
    ``in_scale`` on the pitches reordered by ``_by_pitch_class`` (its chroma groups neighbouring pitches).
    ``in_scale`` is in the piece's key (``estimate_key`` unless given), minor as the natural minor.
    Beats are whole beats from the first one after the pickup.

    Computed here, by MuseGAN's definitions, as pypianoroll 1.0.4's functions get them wrong:
    ``qualified_notes``, the share of notes lasting at least 2 steps (an 8th), a note being a pitch
    sounding without a break in one voice (no onsets: two repeated quarters are one half note);
    ``tonal_distance``, on each beat where both voices sound, the Euclidean distance between the
    two voices' tonal centroids (Harte et al.: the beat's pitch classes, weighted by how long they
    sound, mapped onto the circles of fifths, minor and major thirds), averaged over those beats
    and then over every pair of voices.
    """
    from pypianoroll import metrics as pm

    roll = _pitched(roll)
    tracks = [track.pianoroll for track in roll.to_multitrack().tracks]
    blend = np.any(tracks, axis=0)
    start = roll.pickup_steps % STEPS_PER_BEAT
    n_beats = (roll.n_steps - start) // STEPS_PER_BEAT
    beats = slice(start, start + n_beats * STEPS_PER_BEAT)
    tonic, mode = key or estimate_key(roll)
    by_pitch_class = _by_pitch_class(blend)

    lengths = []
    for track in tracks:  # pitch by pitch, so that each start pairs with its own end
        changes = np.diff(np.pad(track.astype(np.int8), ((1, 1), (0, 0))), axis=0).T
        lengths += list(np.nonzero(changes < 0)[1] - np.nonzero(changes > 0)[1])

    def centroids(track: np.ndarray) -> np.ndarray:  # (beats, 6); NaN where the voice is silent
        steps = track[beats].reshape(n_beats, STEPS_PER_BEAT, track.shape[1]).sum(axis=1)  # steps each pitch sounds
        chroma = np.pad(steps, ((0, 0), (0, 4))).reshape(n_beats, 11, 12).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (chroma / chroma.sum(axis=1, keepdims=True)) @ _TONAL_MAP.T

    points = [centroids(track) for track in tracks]
    pairs = [np.linalg.norm(points[i] - points[j], axis=1) for i, j in combinations(range(len(tracks)), 2)]
    pairs = [np.nanmean(d) for d in pairs if not np.isnan(d).all()]
    return {
        "empty_beats": 1.0 - float(pm.empty_beat_rate(blend[beats], STEPS_PER_BEAT)),
        "pitches_used": float(pm.n_pitches_used(blend)),
        "pitch_classes_used": float(pm.n_pitch_classes_used(by_pitch_class)),
        "pitch_range": float(pm.pitch_range(blend)),
        "polyphony": float(pm.polyphonic_rate(blend)),
        "qualified_notes": float(np.mean(np.array(lengths) >= EIGHTH)) if lengths else np.nan,
        "in_scale": float(pm.in_scale_rate(by_pitch_class, root=(tonic + 3) % 12, mode=mode)),  # root 0 = A
        "tonal_distance": float(np.mean(pairs)) if pairs else np.nan,
    }


def musegan_table(gan: list[PianoRoll], bach: list[PianoRoll]) -> str:
    """Markdown: pypianoroll's metrics (``musegan_figures``), mean ± spread over the GAN's pieces and
    over Bach's, a row per figure, with how each is computed and notes on pypianoroll 1.0.4's faults."""
    columns = [[musegan_figures(roll) for roll in pieces] for pieces in (gan, bach)]
    lines = [f"| figure | GAN ({len(gan)} pieces) | Bach ({len(bach)} chorales) | computed by |", "|---|---|---|---|"]
    for f, words in MUSEGAN_FIGURES.items():
        digits = 1 if f in ("pitches_used", "pitch_classes_used", "pitch_range") else 2
        cells = [f"{np.mean([v[f] for v in values]):.{digits}f} ± {np.std([v[f] for v in values]):.{digits}f}"
                 for values in columns]
        lines.append(f"| {words} | {cells[0]} | {cells[1]} | {_MUSEGAN_SOURCES[f]} |")
    return "\n".join(lines) + "\n\n" + "\n\n".join(_MUSEGAN_NOTES)
