"""A classifier two-sample test: can a classifier tell a harmonizer's voices from the composer's own?

Under the same held-out melodies, the harmonizer's alto, tenor and bass and the composer's (with
the composer's soprano on both sides) are cut into two-bar windows on the bar lines. Each window
is described by plain musical features (``FEATURES``): rates counted on the beats of the piece's
metre (how the bass moves, chords, motion between voices, spacing, rhythm). A logistic regression
on standardized features is cross-validated with folds grouped by piece, so the windows of one
piece never sit in both the training and the test folds. 50 % means indistinguishable; the
features that tell the two sides apart best say what gives the voices away.

Two calibrations (``calibrate``) bracket the scale: the composer against itself (two halves of
the pieces, about 50 %) and a plain rule-based harmonizer (``rule_based_harmonizer``, about 100 %).
Features and classifier settings were chosen on Bach's validation split.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .metrics import CHORD_SHAPES, estimate_key
from .midi import Note, PianoRoll, beat_steps, top_pitches
from .motion import LOWER, STEP

__all__ = ["FEATURES", "WINDOW_BARS", "FOLDS", "TOP_FEATURES", "TABLE_HEADER", "Giveaway", "TwoSampleResult",
           "windows", "window_features", "piece_features", "feature_table", "grouped_folds",
           "two_sample_test", "told_apart",
           "rule_based_harmonizer", "composer_against_itself", "calibrate", "describe", "table_row", "yardstick",
           "to_json", "verdict", "CHECKLIST", "Check", "checklist", "CHECKLIST_HEADER", "checklist_rows", "TRAINED", "UNTRAINED", "RAW", "ITSELF", "TRIADS"]

WINDOW_BARS = 2  # bars per window: the GAN's own window; one bar gives half as many, noisier rates
FOLDS = 5  # cross-validation folds (grouped by piece); fewer folds train on less, more give noisier folds
# Inverse L2 strength of the logistic regression, chosen on the valid split: with 0.01, 1 and 10 instead
# it told the trained model from Bach 0.892, 0.905 and 0.898 of the time (0.1: 0.909), Bach from himself alike
LOGISTIC_C = 0.1
TOP_FEATURES = 3  # features reported as what gives the voices away
BASS_OCTAVE = 40  # the rule-based harmonizer's bass sings the chord's root in E2..D#3 (MIDI 40-51)
SUSPENSION_INTERVALS = (1, 2, 5, 10, 11)  # semitones above the bass (mod 12) that a held note must resolve from
LEAP = 5  # semitones: a move of a 4th or more is a leap (a 3rd is a skip, a 2nd a step)
SYMMETRIC = ("augmented", "diminished seventh")  # chords whose pitch classes do not tell their root
_CHORDS = {frozenset((root + i) % 12 for i in shape): (name, -1 if name in SYMMETRIC else root)
           for name, shape in CHORD_SHAPES.items() for root in range(12)}

# Each feature of a window and what it counts. "Moves" are pairs of consecutive beats on which the
# voice (or both voices of a pair) sounds; "full beats" are beats on which all four voices sound.
FEATURES = {
    "bass_repeats": "share of bass moves that strike the same pitch again",
    "bass_holds": "share of bass moves that hold the pitch (tied over the beat)",
    "bass_steps": "share of the bass's changes of pitch that are steps (a 2nd)",
    "bass_leaps": "share of the bass's changes of pitch that leap a 4th or more",
    "bass_octaves": "share of the bass's changes of pitch that leap an octave",
    "bass_still": "share of moves with 2+ upper voices changing pitch where the bass keeps its pitch",
    "alto_repeats": "share of alto moves that strike the same pitch again",
    "tenor_repeats": "share of tenor moves that strike the same pitch again",
    "alto_moves": "share of alto moves that change pitch",
    "tenor_moves": "share of tenor moves that change pitch",
    "inner_leaps": "share of the alto's and tenor's changes of pitch that leap a 4th or more",
    "wide_leaps": "share of the lower voices' changes of pitch wider than an octave",
    "similar_motion": "share of pair moves with both voices changing pitch that go the same way",
    "parallel_motion": "share of pair moves with both voices changing pitch by the same interval",
    "oblique_motion": "share of pair moves with a change of pitch where only one voice changes",
    "parallel_perfects": "share of pair moves with both changing pitch: 5ths/8ves in similar motion",
    "contrary_perfects": "share of pair moves with both changing pitch: 5ths/8ves in contrary motion",
    "crossings": "share of full beats where a lower voice sounds above the one above it",
    "unisons": "share of full beats where two neighbouring voices sing the same pitch",
    "spacing_sa": "mean semitones from alto to soprano on full beats",
    "spacing_at": "mean semitones from tenor to alto on full beats",
    "spacing_tb": "mean semitones from bass to tenor on full beats",
    "wide_upper": "share of full beats with soprano-alto or alto-tenor wider than an octave",
    "bass_register": "mean MIDI pitch of the bass on full beats",
    "two_pcs": "share of full beats sounding only one or two pitch classes",
    "major_triads": "share of full beats sounding a complete major triad",
    "minor_triads": "share of full beats sounding a complete minor triad",
    "diminished": "share of full beats sounding a complete diminished triad",
    "sevenths": "share of full beats sounding a complete seventh chord",
    "other_chords": "share of full beats with 3+ pitch classes that form no major, minor or diminished triad or seventh",
    "root_position": "share of full beats with a complete chord (not a symmetric one) whose bass sings its root",
    "six_four": "share of full beats with a complete triad whose bass sings its fifth",
    "suspensions": "held dissonances against the bass resolving down by step, per upper voice and beat",
    "rests": "share of steps where the soprano sings and a lower voice rests",
    **{f"{v}_notes": f"{v} notes struck per beat" for v in LOWER},
    **{f"{v}_eighths": f"{v} notes struck off the beat on 8th positions, per beat" for v in LOWER},
    **{f"{v}_sixteenths": f"{v} notes struck on 16th positions, per beat" for v in LOWER},
}

# A harmony teacher's checklist: (feature, the lowest and highest rate allowed, as multiples of the
# composer's own rate). A bass that stands still under moving voices, leaps wider than an octave and
# consecutive fifths or octaves are faults when more frequent than the composer's; voices that never
# cross are as foreign to a chorale as voices that cross all the time.
CHECKLIST = (("bass_still", 0.0, 1.5), ("wide_leaps", 0.0, 1.5), ("parallel_perfects", 0.0, 1.5),
             ("contrary_perfects", 0.0, 1.5), ("crossings", 0.5, 1.5))

TABLE_HEADER = "| harmonizer | accuracy | spread | windows | gives it away (composer -> model) |\n|---|---|---|---|---|"


@dataclass(frozen=True)
class Giveaway:
    """One feature that tells the model's windows from the composer's."""

    feature: str  # a key of FEATURES
    composer: float  # its mean over the composer's windows
    model: float  # its mean over the model's windows
    separability: float  # alone, the area under its ROC curve, folded to 0.5 (no help) .. 1 (tells all apart)


@dataclass(frozen=True)
class TwoSampleResult:
    """How well a classifier tells a model's windows from the composer's."""

    name: str
    accuracy: float  # balanced accuracy, mean over the folds: 0.5 indistinguishable, 1.0 always told apart
    spread: float  # standard deviation of the accuracy over the folds
    n_windows: int  # windows of both sides together
    n_pieces: int
    giveaways: tuple[Giveaway, ...]  # the TOP_FEATURES most separable features, most separable first
    rates: dict[str, tuple[float, float]]  # every feature's mean over the (composer's, model's) windows


def windows(roll: PianoRoll, bars: int = WINDOW_BARS) -> list[PianoRoll]:
    """Whole windows of ``bars`` bars from the first bar line (the pickup and a last partial
    window are left out), each a roll of its own that starts on a bar line."""
    length = bars * roll.steps_per_bar
    return [PianoRoll(roll.sounding[s : s + length], roll.onsets[s : s + length], tempo=roll.tempo,
                      time_signature=roll.time_signature, names=roll.names, programs=roll.programs)
            for s in range(roll.pickup_steps, roll.n_steps - length + 1, length)]


def _rate(hits: np.ndarray, where: np.ndarray) -> float:
    """Share of ``where`` that ``hits``; NaN where there is nothing to count."""
    return float(hits[where].mean()) if where.any() else float("nan")


def _chord_features(pitches: np.ndarray) -> dict[str, float]:
    """Chord types on full beats (rows of four pitches, soprano first)."""
    counts = dict.fromkeys(("two_pcs", "major_triads", "minor_triads", "diminished", "sevenths", "other_chords",
                            "root_position", "six_four"), 0.0)
    for row in pitches:
        pcs = frozenset(int(p) % 12 for p in row)
        if len(pcs) <= 2:
            counts["two_pcs"] += 1
            continue
        name, root = _CHORDS.get(pcs, ("other", -1))
        kind = {"major": "major_triads", "minor": "minor_triads", "diminished": "diminished"}.get(
            name, "sevenths" if len(pcs) == 4 and name != "other" else "other_chords")
        counts[kind] += 1
        bass = int(row[3]) % 12
        counts["root_position"] += root >= 0 and bass == root
        counts["six_four"] += len(pcs) == 3 and root >= 0 and bass == (root + CHORD_SHAPES[name][2]) % 12
    n = len(pitches)
    return {k: v / n if n else float("nan") for k, v in counts.items()}


def _suspensions(roll: PianoRoll, steps: np.ndarray, pitches: np.ndarray, beat: int) -> float:
    """Held dissonances against the bass resolving down by step within the next beat, per upper
    voice and beat (``window_features``' "suspensions")."""
    found = counted = 0
    for b, t in enumerate(steps):
        if t == 0 or pitches[b, 3] < 0:
            continue
        for v in range(3):
            p = pitches[b, v]
            if p < 0:
                continue
            counted += 1
            held = roll.sounding[t - 1, p, v] and not roll.onsets[t, p, v]
            if not held or (p - pitches[b, 3]) % 12 not in SUSPENSION_INTERVALS:
                continue
            line = top_pitches(roll.sounding[t : t + beat + 1, :, v])
            after = line[line != p]
            found += bool(len(after)) and 0 < p - after[0] <= STEP
    return found / counted if counted else float("nan")


def window_features(roll: PianoRoll) -> dict[str, float]:
    """The ``FEATURES`` of one four-voice window (soprano, alto, tenor, bass) that starts on a
    bar line, counted on the beats of its metre; NaN where a rate has nothing to count."""
    if roll.n_tracks != 4:
        raise ValueError(f"a window has four voices (soprano, alto, tenor, bass), not {roll.n_tracks}")
    beat = beat_steps(roll.time_signature)
    steps = np.arange(0, roll.n_steps, beat)
    pitches = top_pitches(roll.sounding[steps])  # (beats, 4), -1 where silent
    struck = roll.onsets[steps[:, None], np.maximum(pitches, 0), np.arange(4)] & (pitches >= 0)
    sung = pitches >= 0
    both = sung[:-1] & sung[1:]  # (moves, 4)
    change = np.diff(pitches, axis=0)
    moved = both & (change != 0)
    again = both & (change == 0)
    size = np.abs(change)
    values: dict[str, float] = {}
    for v, name in enumerate(LOWER, start=1):
        values[f"{name}_repeats"] = _rate(again[:, v] & struck[1:, v], both[:, v])
    values["bass_holds"] = _rate(again[:, 3] & ~struck[1:, 3], both[:, 3])
    values["bass_steps"] = _rate(size[:, 3] <= STEP, moved[:, 3])
    values["bass_leaps"] = _rate(size[:, 3] >= LEAP, moved[:, 3])
    values["bass_octaves"] = _rate(size[:, 3] == 12, moved[:, 3])
    full_move = both.all(axis=1)
    upper_moving = full_move & (moved[:, :3].sum(axis=1) >= 2)
    values["bass_still"] = _rate(again[:, 3], upper_moving)
    for v, name in ((1, "alto"), (2, "tenor")):
        values[f"{name}_moves"] = _rate(moved[:, v], both[:, v])
    values["inner_leaps"] = _rate(size[:, 1:3] >= LEAP, moved[:, 1:3])
    values["wide_leaps"] = _rate(size[:, 1:] > 12, moved[:, 1:])

    pair_moves = similar = parallel = perfect_similar = perfect_contrary = some_change = oblique = 0
    for i, j in combinations(range(4), 2):
        together = both[:, i] & both[:, j]
        two = together & moved[:, i] & moved[:, j]
        one = together & (moved[:, i] ^ moved[:, j])
        same_way = np.sign(change[:, i]) == np.sign(change[:, j])
        perfect = np.isin((pitches[1:, i] - pitches[1:, j]) % 12, (0, 7)) & (
            (pitches[1:, i] - pitches[1:, j]) % 12 == (pitches[:-1, i] - pitches[:-1, j]) % 12)
        pair_moves += int(two.sum())
        similar += int((two & same_way).sum())
        parallel += int((two & (change[:, i] == change[:, j])).sum())
        perfect_similar += int((two & same_way & perfect).sum())
        perfect_contrary += int((two & ~same_way & perfect).sum())
        some_change += int((two | one).sum())
        oblique += int(one.sum())
    for key, count in (("similar_motion", similar), ("parallel_motion", parallel),
                       ("parallel_perfects", perfect_similar), ("contrary_perfects", perfect_contrary)):
        values[key] = count / pair_moves if pair_moves else float("nan")
    values["oblique_motion"] = oblique / some_change if some_change else float("nan")

    full = pitches[sung.all(axis=1)]
    gaps = -np.diff(full, axis=1) if len(full) else np.zeros((0, 3))  # soprano-alto, alto-tenor, tenor-bass
    any_full = np.ones(len(full), bool)
    values["crossings"] = _rate((gaps < 0).any(axis=1), any_full)
    values["unisons"] = _rate((gaps == 0).any(axis=1), any_full)
    for k, key in enumerate(("spacing_sa", "spacing_at", "spacing_tb")):
        values[key] = float(gaps[:, k].mean()) if len(full) else float("nan")
    values["wide_upper"] = _rate((gaps[:, :2] > 12).any(axis=1), any_full)
    values["bass_register"] = float(full[:, 3].mean()) if len(full) else float("nan")
    values |= _chord_features(full)
    values["suspensions"] = _suspensions(roll, steps, pitches, beat)

    soprano = roll.sounding[:, :, 0].any(axis=1)
    voices = roll.sounding[:, :, 1:].any(axis=1)  # (steps, 3)
    values["rests"] = _rate(~voices, np.repeat(soprano[:, None], 3, axis=1))
    n_beats = len(steps)
    position = np.arange(roll.n_steps) % beat
    for v, name in enumerate(LOWER, start=1):
        starts = roll.onsets[:, :, v].any(axis=1)
        values[f"{name}_notes"] = starts.sum() / n_beats
        values[f"{name}_eighths"] = (starts & (position > 0) & (position % 2 == 0)).sum() / n_beats
        values[f"{name}_sixteenths"] = (starts & (position % 2 == 1)).sum() / n_beats
    return {key: float(values[key]) for key in FEATURES}


def piece_features(roll: PianoRoll, bars: int = WINDOW_BARS) -> np.ndarray:
    """``window_features`` of each window of a four-voice piece: (windows, len(FEATURES))."""
    rows = [list(window_features(w).values()) for w in windows(roll, bars)]
    return np.array(rows, float).reshape(len(rows), len(FEATURES))


def _separability(x: np.ndarray, y: np.ndarray) -> float:
    """Area under one feature's ROC curve between the labels, folded to 0.5..1; NaNs left out."""
    known = ~np.isnan(x)
    if len(set(y[known])) < 2 or np.ptp(x[known]) == 0:
        return 0.5
    auc = roc_auc_score(y[known], x[known])
    return float(max(auc, 1 - auc))


def feature_table(composer: Sequence[PianoRoll], model: Sequence[PianoRoll], composer_groups: Sequence[int],
                  model_groups: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The windows of both sides as the classifier sees them.

    Parameters
    ----------
    composer, model
        Four-voice pieces of each side.
    composer_groups, model_groups
        A group number per piece: the windows of one group always fall in the same fold (the
        composer's piece and the model's harmonization of its melody share a number).

    Returns
    -------
    features : np.ndarray
        (windows, len(FEATURES)) ``window_features``, NaN where a rate has nothing to count.
    labels : np.ndarray
        0 for the composer's windows, 1 for the model's.
    groups : np.ndarray
        Each window's group number.
    """
    features, labels, groups = [], [], []
    for label, (pieces, numbers) in enumerate(((composer, composer_groups), (model, model_groups))):
        for piece, number in zip(pieces, numbers, strict=True):
            rows = piece_features(piece)
            features.append(rows)
            labels.append(np.full(len(rows), label))
            groups.append(np.full(len(rows), number))
    return np.vstack(features), np.concatenate(labels), np.concatenate(groups)


def grouped_folds(groups: np.ndarray, folds: int = FOLDS) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) window indices of each fold; a group's windows all fall in one test fold."""
    splitter = GroupKFold(n_splits=min(folds, len(set(groups.tolist()))))
    return list(splitter.split(np.zeros((len(groups), 1)), groups=groups))


def _cross_validate(x: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int) -> np.ndarray:
    """Balanced accuracy on each fold of ``grouped_folds``."""
    scores = []
    for train, test in grouped_folds(groups, folds):
        model = make_pipeline(SimpleImputer(keep_empty_features=True), StandardScaler(),
                              LogisticRegression(C=LOGISTIC_C, class_weight="balanced", max_iter=1000))
        model.fit(x[train], y[train])
        with warnings.catch_warnings():  # a fold holding one side only scores that side's hit rate
            warnings.simplefilter("ignore", UserWarning)
            scores.append(balanced_accuracy_score(y[test], model.predict(x[test])))
    return np.array(scores)


def _result(name: str, table: tuple[np.ndarray, np.ndarray, np.ndarray], n_pieces: int,
            folds: int) -> TwoSampleResult:
    """Cross-validate a ``feature_table`` and find its giveaways (see ``TwoSampleResult``)."""
    x, y, groups = table
    if len(set(y.tolist())) < 2 or len(set(groups.tolist())) < 2:
        raise ValueError("both sides need windows (two bars or more) from at least two groups of pieces")
    scores = _cross_validate(x, y, groups, folds)
    separable = [_separability(x[:, k], y) for k in range(len(FEATURES))]
    with warnings.catch_warnings():  # a feature with nothing to count on one side is NaN there
        warnings.simplefilter("ignore", RuntimeWarning)
        means = [np.nanmean(x[y == label], axis=0) for label in (0, 1)]
    order = np.argsort(separable, kind="stable")[::-1][:TOP_FEATURES]
    giveaways = tuple(Giveaway(list(FEATURES)[k], float(means[0][k]), float(means[1][k]), separable[k])
                      for k in order)
    rates = {feature: (float(means[0][k]), float(means[1][k])) for k, feature in enumerate(FEATURES)}
    return TwoSampleResult(name, float(scores.mean()), float(scores.std()), len(x), n_pieces, giveaways, rates)


def _with_soprano(voices: PianoRoll, piece: PianoRoll) -> PianoRoll:
    """``voices``' alto, tenor and bass under ``piece``'s soprano."""
    if voices.n_tracks != 4 or voices.n_steps != piece.n_steps:
        raise ValueError(f"the harmonizer gave {voices.n_tracks} tracks of {voices.n_steps} steps for a melody "
                         f"of {piece.n_steps}: four tracks as long as the melody are needed")
    sounding = np.concatenate([piece.sounding[:, :, :1], voices.sounding[:, :, 1:]], axis=2)
    onsets = np.concatenate([piece.onsets[:, :, :1], voices.onsets[:, :, 1:]], axis=2)
    return PianoRoll(sounding, onsets, tempo=piece.tempo, time_signature=piece.time_signature,
                     pickup_steps=piece.pickup_steps, names=piece.names, programs=piece.programs)


def two_sample_test(pieces: Sequence[PianoRoll], harmonizer: Callable[[PianoRoll], PianoRoll],
                    name: str = "model", folds: int = FOLDS) -> TwoSampleResult:
    """Harmonize each held-out piece's melody (track 0) and tell the voices from the composer's.

    Parameters
    ----------
    pieces
        The composer's four-voice pieces (soprano, alto, tenor, bass), held out from training;
        e.g. ``[c.roll() for c in load_dataset().split("test")]``.
    harmonizer
        A melody (one-track roll) -> four voices with the melody as track 0, as long as the
        melody (``harmonize.load_harmonizer()``). Its alto, tenor and bass are judged under the
        composer's own soprano.
    name
        What the result is called.
    folds
        Folds of the cross-validation, grouped by piece (``grouped_folds``).

    Returns
    -------
    TwoSampleResult
        The accuracy is balanced (the mean of the two sides' hit rates: unequal numbers of
        windows cannot lift it); the giveaways are ranked by per-feature separability (each
        feature alone, the folded area under its ROC curve), not by the classifier's
        coefficients, which share their weight among correlated features.
    """
    return told_apart(pieces, [harmonizer(p.track(0)) for p in pieces], name, folds)


def told_apart(pieces: Sequence[PianoRoll], harmonized: Sequence[PianoRoll], name: str = "model",
               folds: int = FOLDS) -> TwoSampleResult:
    """``two_sample_test`` on harmonizations already made: ``harmonized[i]`` has the melody of
    ``pieces[i]`` (what training watches after each chunk, without harmonizing twice)."""
    model = [_with_soprano(voices, piece) for voices, piece in zip(harmonized, pieces, strict=True)]
    numbers = list(range(len(pieces)))
    return _result(name, feature_table(pieces, model, numbers, numbers), len(pieces), folds)


def composer_against_itself(pieces: Sequence[PianoRoll], folds: int = FOLDS) -> TwoSampleResult:
    """The composer's pieces in two halves (alternating in the given order), one half labelled
    'model': about 50 % where the test is fair. A piece of each half shares a group with its
    neighbour of the other, so every fold holds both sides."""
    first, second = list(pieces[0::2]), list(pieces[1::2])
    table = feature_table(first, second, range(len(first)), range(len(second)))
    return _result(ITSELF, table, len(pieces), folds)


def rule_based_harmonizer(melody: PianoRoll) -> PianoRoll:
    """A plain harmonizer that should be told apart from Bach: on each beat, the first of the
    key's I, V and IV triads holding the melody's pitch (else the major triad on it) in root
    position, struck anew every beat: alto and tenor the chord tones next below the melody, the
    bass the root in MIDI 40-51; the voices rest where the melody does on the beat."""
    tonic, mode = estimate_key(melody)
    third = 4 if mode == "major" else 3
    primary = [(tonic, (0, third, 7)), (tonic + 7, (0, 4, 7)), (tonic + 5, (0, third, 7))]  # I, V, IV: root, shape
    beat = beat_steps(melody.time_signature)
    line = top_pitches(melody.sounding[:, :, 0])
    voices: list[list[Note]] = [[], [], []]
    for t in range(melody.pickup_steps % beat, melody.n_steps, beat):
        top = int(line[t])
        if top < 0:
            continue
        root, shape = next(((r, s) for r, s in primary if (top - r) % 12 in s), (top, (0, 4, 7)))
        chord = {(root + i) % 12 for i in shape}
        alto, tenor = [p for p in range(top - 1, 0, -1) if p % 12 in chord][:2]
        bass = BASS_OCTAVE + (root - BASS_OCTAVE) % 12
        bass -= 12 * max(0, (bass - tenor) // 12 + 1)  # below the tenor
        for voice, pitch in zip(voices, (alto, tenor, bass)):
            voice.append(Note(t, pitch, min(beat, melody.n_steps - t)))
    return PianoRoll.from_notes([melody.notes(0), *voices], n_steps=melody.n_steps, tempo=melody.tempo,
                                time_signature=melody.time_signature, pickup_steps=melody.pickup_steps,
                                names=["Soprano", "Alto", "Tenor", "Bass"])


def calibrate(pieces: Sequence[PianoRoll], folds: int = FOLDS) -> tuple[TwoSampleResult, TwoSampleResult]:
    """The two ends of the scale on ``pieces``: the composer against itself (about 50 %) and the
    ``rule_based_harmonizer`` (about 100 %)."""
    return (composer_against_itself(pieces, folds),
            two_sample_test(pieces, rule_based_harmonizer, TRIADS, folds))


def _giveaway_text(g: Giveaway) -> str:
    return f"{g.feature.replace('_', ' ')} {g.composer:.3g} -> {g.model:.3g}"


def describe(result: TwoSampleResult) -> str:
    """One paragraph: how often the classifier tells the voices apart, and what gives them away."""
    told = "; ".join(f"{_giveaway_text(g)} ({FEATURES[g.feature]}; alone: AUC {g.separability:.2f})"
                     for g in result.giveaways)
    return (f"{result.name}: a classifier tells its voices from the composer's {result.accuracy:.1%} of the time "
            f"(+/- {result.spread:.1%} over folds; 50 % means indistinguishable) on {result.n_windows} two-bar "
            f"windows of {result.n_pieces} held-out pieces. What gives it away, composer -> model: {told}.")


def table_row(result: TwoSampleResult) -> str:
    """One Markdown row under ``TABLE_HEADER``."""
    told = "; ".join(_giveaway_text(g) for g in result.giveaways)
    return f"| {result.name} | {result.accuracy:.3f} | {result.spread:.3f} | {result.n_windows} | {told} |"


TRAINED, UNTRAINED, RAW = "trained generator + decoder", "untrained generator + decoder", "raw generator output"
ITSELF, TRIADS = "composer vs itself", "rule-based triads"  # the two calibrations' names


def yardstick(pieces: Sequence[PianoRoll], harmonizers: dict[str, Callable[[PianoRoll], PianoRoll]],
              folds: int = FOLDS) -> list[TwoSampleResult]:
    """The headline figure: each of ``harmonizers`` told from the composer's held-out ``pieces``,
    between the two calibrations (the composer against itself first, the rule-based triads last)."""
    itself, triads = calibrate(pieces, folds)
    return [itself, *(two_sample_test(pieces, h, name, folds) for name, h in harmonizers.items()), triads]


@dataclass(frozen=True)
class Check:
    """One line of the teacher's ``CHECKLIST``: a rate in the model's windows against the composer's."""

    feature: str
    composer: float
    model: float
    lowest: float  # the bounds, as multiples of the composer's rate
    highest: float

    @property
    def ratio(self) -> float:
        """The model's rate over the composer's (NaN where the composer's is 0)."""
        return self.model / self.composer if self.composer else float("nan")

    @property
    def passed(self) -> bool:
        return self.lowest * self.composer <= self.model <= self.highest * self.composer


def checklist(result: TwoSampleResult) -> list[Check]:
    """The teacher's ``CHECKLIST`` read from a two-sample result's rates."""
    return [Check(feature, *result.rates[feature], lowest, highest) for feature, lowest, highest in CHECKLIST]


CHECKLIST_HEADER = "| check | composer | model | model / composer | allowed | held |\n|---|---|---|---|---|---|"


def checklist_rows(checks: Sequence[Check]) -> str:
    """Markdown rows under ``CHECKLIST_HEADER``."""
    return "\n".join(f"| {FEATURES[c.feature]} | {c.composer:.4f} | {c.model:.4f} | {c.ratio:.2f} | "
                     f"{c.lowest:g}x-{c.highest:g}x | {'yes' if c.passed else 'no'} |" for c in checks)


def to_json(result: TwoSampleResult) -> dict:
    """A result as ``evaluate --json`` writes it."""
    return {"accuracy": result.accuracy, "spread": result.spread, "windows": result.n_windows,
            "pieces": result.n_pieces, "giveaways": [dict(vars(g), meaning=FEATURES[g.feature])
                                                    for g in result.giveaways],
            "checklist": {c.feature: {"composer": c.composer, "model": c.model, "ratio": c.ratio,
                                      "allowed": [c.lowest, c.highest], "held": c.passed}
                          for c in checklist(result)}}


def verdict(rows: Sequence[TwoSampleResult], composer: str = "Bach") -> str:
    """What a ``yardstick`` says, in sentences read from its numbers: how often the trained model
    is told from the composer against the calibrations (at or below the composer against himself:
    no easier to tell than the composer's own pieces from each other), what training brought
    (the same decoder over an untrained generator), where those rows are there, and whether the
    composer against himself sits so far above chance (over 60 %) that the figures are rough."""
    by_name = {row.name: row for row in rows}
    trained, untrained, itself = by_name.get(TRAINED), by_name.get(UNTRAINED), by_name[ITSELF]
    ends = f"{composer} against {composer} {itself.accuracy:.1%}, rule-based triads {by_name[TRIADS].accuracy:.1%}"
    rough = (f" {composer} against {composer} should sit near 50 % (chance); at {itself.accuracy:.1%} on "
             f"{itself.n_windows} windows, read these figures as rough." if itself.accuracy > 0.6 else "")
    if trained is None:
        return f"Calibration: {ends}.{rough}"
    if trained.accuracy <= itself.accuracy:
        said = (f"A classifier tells the trained model's lower voices from {composer}'s {trained.accuracy:.1%} of the "
                f"time ({ends}): on these pieces the model's voices are no easier to tell from {composer}'s than "
                f"{composer}'s own pieces from each other.")
    else:
        said = (f"A classifier tells the trained model's lower voices from {composer}'s {trained.accuracy:.1%} of the "
                f"time ({ends}; nearer the first is better).")
    if untrained is not None:
        gain = untrained.accuracy - trained.accuracy
        said += (f" Over an untrained generator the same decoder is told apart {untrained.accuracy:.1%} of the time: "
                 + (f"training brought the voices {gain * 100:.1f} points nearer {composer}'s."
                    if gain > trained.spread else
                    f"training has not brought them measurably nearer (the folds spread by {trained.spread:.1%})."))
    return said + rough
