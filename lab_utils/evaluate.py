"""Judge a harmonizer: its figures on melodies it never saw, beside Bach's own."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from .pieces import SPLITS, Piece, PieceDataset
from .metrics import (FIGURES, TEACHER_FIGURES, beat_pitches, distance_to_bach, enhancement_figures, estimate_key,
                      figures, key_scale, note_changes, reference_from, summarize, voice_leading_faults)
from .midi import STEPS_PER_BEAT, PianoRoll, pitch_name
from .motion import LOWER, MOTION_FIGURES, mean_motion, voice_motion
from .samples import MELODIES, RANDOM_TUNES, melody_roll, random_tune

if TYPE_CHECKING:
    from .arcnn import Enhancer

__all__ = ["ENHANCE_FIGURES", "evaluate_harmonizer", "format_table", "unseen_sets", "ablation",
           "ablation_table", "ablation_sentence", "nan_to_none", "evaluate_enhancer", "first_bars", "EvaluationError", "STYLE_FIGURES", "style_figures", "compare_styles", "cross_style", "markdown_table",
           "motion_sentences", "cross_style_sentence", "creative_risk_sentence"]


class EvaluationError(ValueError):
    """A style with no pieces to judge on; ``str(error)`` is the one line for the user."""


def _held_out(dataset: PieceDataset, split: str) -> list[Piece]:
    """The pieces of ``split`` to judge on; EvaluationError where it has none (its figures would be NaN)."""
    pieces = dataset.split(split)
    if not pieces:
        counts = ", ".join(f"{len(dataset.split(s))} {s}" for s in SPLITS)
        raise EvaluationError(f"style {dataset.name!r} has no {split} pieces to judge on ({len(dataset.pieces)} "
                              f"piece(s): {counts}; a piece's split follows its tune): build it from more music")
    return pieces


def _teacher(pieces: list[PianoRoll]) -> dict[str, float]:
    values = [voice_leading_faults(p) for p in pieces]
    return {f: float(np.nanmean([v[f] for v in values])) if any(not np.isnan(v[f]) for v in values) else float("nan")
            for f in TEACHER_FIGURES}


def unseen_sets(dataset: PieceDataset, split: str = "test") -> dict[str, list[PianoRoll]]:
    """Melodies the models never saw: a split's sopranos, the built-in tunes, random tunes in 3/4 and 6/8."""
    return {
        f"{split} melodies": [c.roll().track(0) for c in dataset.split(split)],
        "unseen tunes": [melody_roll(name) for name in MELODIES],
        "random tunes": [random_tune(seed, meter) for meter, seeds in RANDOM_TUNES.items() for seed in seeds],
    }


def evaluate_harmonizer(harmonizer: Callable[[PianoRoll], PianoRoll], dataset: PieceDataset,
                        split: str = "test") -> dict:
    """Figures of ``harmonizer`` on melodies it never saw (``unseen_sets``), beside the style's
    own pieces (Bach's chorales, or another style's; the keys keep the name ``bach``).

    Bach's mean and spread come from the split's chorales, so the distance to Bach of his own
    chorales is the yardstick (about 0.6). Beside the eight figures, the teacher's checks of
    ``metrics.voice_leading_faults``.
    """
    chorales = [c.roll() for c in _held_out(dataset, split)]
    bach = [figures(c) for c in chorales]
    reference = reference_from(bach)
    result = {"bach_reference": reference, "bach": summarize(bach, reference) | _teacher(chorales),
              "split": split, "n_chorales": len(chorales), "sets": {}, "style": dataset.name}
    for name, melodies in unseen_sets(dataset, split).items():
        music = [harmonizer(m) for m in melodies]
        values = [figures(p) for p in music]
        result["sets"][name] = summarize(values, reference) | _teacher(music)
        if name == "unseen tunes":  # in the order of MELODIES
            result["unseen_tunes_each"] = {tune: dict(v, distance=distance_to_bach(v, reference))
                                           for tune, v in zip(MELODIES, values)}
    return result


def format_table(result: dict) -> str:
    """The evaluation as a plain-text table: each figure on each unseen set, Bach mean +/- spread."""
    sets = list(result["sets"])
    rows = [f"{'figure':15s} " + " ".join(f"{name:>15s}" for name in sets) + f" {result['style'].title():>16s}"]
    for f in (*FIGURES, "distance", *TEACHER_FIGURES):
        if f in result["bach_reference"]:
            mean, spread = result["bach_reference"][f]
            bach = f"{mean:.3f} +/- {spread:.3f}"
        else:
            bach = f"{result['bach'][f]:.3f}"
        rows.append(f"{f:15s} " + " ".join(f"{result['sets'][name][f]:15.3f}" for name in sets) + f" {bach:>16s}")
    return "\n".join(rows)


def ablation(generators: dict[str, Callable[[PianoRoll], PianoRoll]], dataset: PieceDataset,
             split: str = "test", n_chorales: int | None = None) -> dict[str, dict[str, float]]:
    """The same decoder over different generators (e.g. untrained and trained) on a split's
    sopranos (the first ``n_chorales``, or all), and Bach's own chorales: how much of the music
    the GAN brings. Beside the figures, how the voices move (``motion.MOTION_FIGURES``)."""
    chorales = [c.roll() for c in _held_out(dataset, split)[:n_chorales]]
    reference = reference_from([figures(c) for c in chorales])
    rows = {}
    for name, harmonizer in generators.items():
        music = [harmonizer(c.track(0)) for c in chorales]
        rows[name] = summarize([figures(p) for p in music], reference) | _teacher(music) | mean_motion(music)
    rows["Bach"] = summarize([figures(c) for c in chorales], reference) | _teacher(chorales) | mean_motion(chorales)
    return rows


def ablation_table(rows: dict[str, dict[str, float]]) -> str:
    """Markdown: one column per generator (and Bach), one row per figure."""
    lines = ["| figure | " + " | ".join(rows) + " |", "|---|" + "---|" * len(rows)]
    for f in (*FIGURES, "distance", *TEACHER_FIGURES, *MOTION_FIGURES):
        lines.append(f"| {f} | " + " | ".join(f"{r[f]:.3f}" for r in rows.values()) + " |")
    return "\n".join(lines)


LEVEL = 0.01  # a gap to the composer's value under 1 % of it (at least 0.001) is none: "level" if both are
SHARE_LEVEL = 0.1  # training that closed or widened the untrained gap by under a tenth of it left it "level"
CLOSED_MOST = 3  # the figures an ablation's sentence names, where training closed most of the gap


def ablation_sentence(rows: dict[str, dict[str, float]], trained: str = "trained generator",
                      untrained: str = "untrained generator", composer: str = "Bach") -> str:
    """What an ``ablation`` table says, read from its numbers (its rows ``trained``, ``untrained``
    and ``"Bach"``, the style's own pieces): the distance to the composer with each generator; on
    how many figures the trained generator's voices sit nearer the composer's value than the
    untrained one's, farther, or level; where training closed most of the gap (as a share of the
    untrained gap); and which figures sit alike under both: both gaps negligible (``LEVEL``), or
    the gap changed by under ``SHARE_LEVEL`` of the untrained one (a share, so a small gap that
    training closed counts as closed)."""
    t, u, c = rows[trained], rows[untrained], rows["Bach"]
    nearer: list[tuple[float, str]] = []
    farther, level = [], []
    for f in (*FIGURES, *TEACHER_FIGURES, *MOTION_FIGURES):
        if np.isnan([t[f], u[f], c[f]]).any():
            continue
        gap_t, gap_u = abs(t[f] - c[f]), abs(u[f] - c[f])
        if max(gap_t, gap_u) <= LEVEL * max(abs(c[f]), 0.1) or abs(gap_t - gap_u) <= SHARE_LEVEL * gap_u:
            level.append(f)
        elif gap_t < gap_u:
            nearer.append((1 - gap_t / gap_u, f))
        else:
            farther.append(f)

    def values(f: str) -> str:
        return f"{f}, from {u[f]:.3f} to {t[f]:.3f} ({composer}: {c[f]:.3f})"

    counted = len(nearer) + len(farther) + len(level)
    said = [f"The distance to {composer}'s figures is {u['distance']:.2f} with the untrained generator and "
            f"{t['distance']:.2f} with the trained one ({composer}'s own: {c['distance']:.2f}). Of the {counted} "
            f"other rows, training moved {len(nearer)} nearer {composer}'s value, {len(farther)} farther, "
            f"and left {len(level)} level."]
    if nearer:
        best = [f for _, f in sorted(nearer, reverse=True)[:CLOSED_MOST]]
        said.append("It closed most of the gap on " + "; ".join(map(values, best)) + ".")
    if farther:
        said.append("Farther from " + composer + ": " + "; ".join(map(values, farther)) + ".")
    if level:
        said.append("About as near with either generator: " + ", ".join(level) + ".")
    return "\n".join(said)


STYLE_FIGURES = ("note_beats", "notes_per_beat", "chord_kinds", *FIGURES, *MOTION_FIGURES)  # how two styles differ


def style_figures(roll: PianoRoll) -> dict[str, float]:
    """The eight figures and three of a style's pace and vocabulary: the mean note length in
    beats, notes per beat per part, and how many different chords (pitch-class sets of three or
    more, on the beats) per 100 beats; and how the lower voices move (``motion.MOTION_FIGURES``)."""
    notes = [n for k in range(roll.n_tracks) for n in roll.notes(k)]
    beats = beat_pitches(roll)
    chords = {frozenset(p % 12 for p in row if p >= 0) for row in beats}
    return figures(roll) | {
        "note_beats": float(np.mean([n.length for n in notes]) / STEPS_PER_BEAT) if notes else float("nan"),
        "notes_per_beat": len(notes) * STEPS_PER_BEAT / max(1, roll.n_steps) / roll.n_tracks,
        "chord_kinds": 100.0 * sum(1 for c in chords if len(c) >= 3) / max(1, len(beats)),
    } | voice_motion(roll)


def compare_styles(groups: dict[str, list[PianoRoll]]) -> dict[str, dict[str, float]]:
    """Mean ``style_figures`` of each group of pieces (a corpus, a model's harmonizations)."""
    rows = {}
    for name, pieces in groups.items():
        values = [style_figures(p) for p in pieces]
        rows[name] = {f: float(np.nanmean([v[f] for v in values])) for f in STYLE_FIGURES}
    return rows


def cross_style(harmonizers: dict[str, Callable[[PianoRoll], PianoRoll]], datasets: dict[str, PieceDataset],
                melodies_from: str, split: str = "test", n_pieces: int | None = None) -> dict[str, dict[str, float]]:
    """Each harmonizer on the held-out melodies of one style: the mean distance of its pieces to
    each style's own figures (from that style's ``split``). A model of a style should land nearer
    its own style than the other's."""
    references = {name: reference_from([figures(c.roll()) for c in _held_out(d, split)])
                  for name, d in datasets.items()}
    melodies = [c.roll().track(0) for c in _held_out(datasets[melodies_from], split)[:n_pieces]]
    rows = {}
    for name, harmonizer in harmonizers.items():
        values = [figures(harmonizer(m)) for m in melodies]
        rows[name] = {f"to {ref}": float(np.mean([distance_to_bach(v, reference) for v in values]))
                      for ref, reference in references.items()}
    return rows


def markdown_table(rows: dict[str, dict[str, float]], digits: int = 3) -> str:
    """Rows of figures as a Markdown table: one column per row name, one line per figure."""
    keys = list(next(iter(rows.values())))
    lines = ["| | " + " | ".join(rows) + " |", "|---|" + "---|" * len(rows)]
    lines += [f"| {k} | " + " | ".join(f"{r[k]:.{digits}f}" for r in rows.values()) + " |" for k in keys]
    return "\n".join(lines)


def nan_to_none(value):
    """JSON has no NaN: nested NaNs become null."""
    if isinstance(value, dict):
        return {k: nan_to_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [nan_to_none(v) for v in value]
    return None if isinstance(value, float) and np.isnan(value) else value


def first_bars(roll: PianoRoll, bars: int = 8) -> PianoRoll:
    """The first ``bars`` bars of a roll (after its pickup)."""
    end = min(roll.n_steps, roll.pickup_steps + bars * roll.steps_per_bar)
    return PianoRoll(roll.sounding[:end], roll.onsets[:end], tempo=roll.tempo, names=roll.names,
                     programs=roll.programs, time_signature=roll.time_signature, pickup_steps=roll.pickup_steps)


ENHANCE_FIGURES = ("kept", "added_notes", "fragments", "far", "in_key", "consonant")


def evaluate_enhancer(enhancer: Enhancer, dataset: PieceDataset) -> dict:
    """The AR-CNN's figures on the first 8 bars of melodies it never saw (``unseen_sets``), with
    DeepComposer-like settings: 100 iterations keeping the melody (0 % removal) with at most 40
    notes added, and removal only (0 additions, up to 100 % of the notes removed)."""
    result = {"sets": {}, "remove_only_subset": {}}
    for name, melodies in unseen_sets(dataset).items():
        keep, subset = [], []
        for melody in melodies:
            before = first_bars(melody)
            keep.append(enhancement_figures(before, enhancer(before, iterations=100, max_notes_added=40,
                                                             max_removed_pct=0)[0]))
            after, _ = enhancer(before, iterations=100, max_notes_added=0, max_removed_pct=100)
            subset.append(not (after.sounding.any(axis=2) & ~before.sounding.any(axis=2)).any())
        result["sets"][name] = {f: float(np.nanmean([k[f] for k in keep])) for f in ENHANCE_FIGURES}
        result["remove_only_subset"][name] = float(np.mean(subset))
    return result


def creative_risk_sentence(before: PianoRoll, afters: dict[float, PianoRoll],
                           key: tuple[int, str] | None = None) -> str:
    """Which creative risk (temperature) put the lowest and the highest share of its added notes in
    key, read from ``afters`` (one enhancement of ``before`` per temperature) as
    ``plots.enhancement_table`` prints it (2 decimals, in ``key``, else the key of ``before``), and
    the out-of-key note the most straying one added most often: at low risk (below 1) the model
    repeats its favourite edits, so an out-of-key favourite is repeated too."""
    shares = {t: round(enhancement_figures(before, after, key)["in_key"], 2) for t, after in afters.items()}
    shares = {t: share for t, share in shares.items() if not np.isnan(share)}
    if len(shares) < 2:
        return "Fewer than two creative risks added notes: there are no in-key shares to compare."
    low, high = min(shares.values()), max(shares.values())
    if low == high:
        return f"Every creative risk put the same share of its added notes in key ({low:.2f})."
    strays = [t for t, share in shares.items() if share == low]
    keeps = [t for t, share in shares.items() if share == high]
    said = (f"In key: creative risk {' and '.join(map(str, strays))} strays most ({low:.2f} of the added notes "
            f"in key), {' and '.join(map(str, keeps))} least ({high:.2f}).")
    scale = key_scale(*(key or estimate_key(before)))
    stray = strays[0]
    added, _, _ = note_changes(before, afters[stray])
    out = Counter(p for _, p, _ in added if p % 12 not in scale)
    (pitch, repeats), *_ = out.most_common(1)
    often = f"{pitch_name(pitch)}, {repeats} of its {len(added)} added notes"
    if stray == min(afters) and stray < 1 and repeats > 1:  # below 1 the softmax is sharpened
        return (said + " At the lowest risk the sharpened softmax keeps drawing the model's favourite edits, and a "
                f"favourite out of key is repeated too: {often}.")
    if stray == max(afters) and stray > 1:  # above 1 it is flattened
        spread = f"; the most repeated: {often}" if repeats > 1 else ", none repeated"
        return (said + f" At the highest risk the flattened softmax draws unlikely edits too: its notes out of key "
                f"are {len(out)} different pitch{'es' if len(out) > 1 else ''}{spread}.")
    return said + f" At creative risk {stray} the note out of key added most is {often}."


def _lower_quarters(row: dict[str, float]) -> float:
    return float(np.mean([row[f"{v}_quarters"] for v in LOWER]))


def _lower_moves(row: dict[str, float]) -> float:
    return float(np.mean([row[f"{v}_moves"] for v in LOWER]))


def motion_sentences(rows: dict[str, dict[str, float]], pairs: dict[str, str]) -> str:
    """How each model's lower voices move beside its composer's, read from ``rows`` (from
    ``compare_styles``): ``pairs`` maps a model's row to its composer's row."""
    lines = []
    for model, composer in pairs.items():
        m, c = rows[model], rows[composer]
        lines.append(
            f"- {model}: alto, tenor and bass notes last {_lower_quarters(m):.1f} quarters on average "
            f"({composer}: {_lower_quarters(c):.1f}); a voice strikes a new note on {_lower_moves(m):.0%} of the beats "
            f"it sings ({composer}: {_lower_moves(c):.0%}); of the beats where any of them strikes, all three "
            f"together on {m['together']:.0%} ({composer}: {c['together']:.0%}) and one alone on {m['alone']:.0%} "
            f"({composer}: {c['alone']:.0%}).")
    return "\n".join(lines)


def cross_style_sentence(distances: dict[str, dict[str, dict[str, float]]]) -> str:
    """For each source of melodies, whether each model landed nearer its own style, read from
    ``{source: cross_style(...)}``; a model's own style is the one whose name its label starts with.
    A model whose style is none of them (the learner's own) gets its distances and the nearest style."""
    lines = []
    for source, rows in distances.items():
        for model, row in rows.items():
            styles = [name.removeprefix("to ") for name in row]
            own = next((s for s in styles if model.lower().startswith(s.lower())), None)
            if own is None:  # a model of another style (the learner's): how near it lands to each
                nearest = min(styles, key=lambda s: row[f"to {s}"])
                lines.append(f"- On {source}'s melodies {model} is at " + " and ".join(
                    f"{row[f'to {s}']:.2f} from {s}" for s in styles) + f": {'nearer' if len(styles) == 2 else 'nearest'} {nearest}.")
                continue
            other = min((s for s in styles if s != own), key=lambda s: row[f"to {s}"])
            nearer = row[f"to {own}"] < row[f"to {other}"]
            lines.append(f"- On {source}'s melodies the {model} is at {row[f'to {own}']:.2f} from {own} and "
                         f"{row[f'to {other}']:.2f} from {other}: {'nearer its own style' if nearer else 'nearer ' + other}.")
    return "\n".join(lines)
