"""The challenge's five judging criteria, each with a figure you can compute and a question
you answer by listening.

The figures are proxies, not verdicts: they say whether the piece does what Bach's chorales
do (metrics.py) and whether the sound is clean, and leave the judging to your ears. Each one can
fail: none reads a figure that the making of the track fixes in advance (``compose``'s own
count of copied notes, or the true peak that mastering holds at its ceiling).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .audio import SAMPLE_RATE
from .chorales import bach_reference
from .compose import Composition, in_words
from .export import render_audio
from .mastering import measure
from .midi import PianoRoll, whole_bars
from .pieces import PieceDataset
from .samples import MELODIES, melody_roll

__all__ = ["COMPOSE_TARGETS", "AUDIO_TARGETS", "evaluate_composer", "Criterion", "judge", "judging_table", "moved_most",
           "new_bars", "bar_novelty", "flat_tops", "FLAT_TOP_SAMPLES", "FLAT_TOP_RANGE_DB",
           "FLAT_TOP_TOLERANCE"]

# A peak cut flat (clipping): the wave stays at one level for FLAT_TOP_SAMPLES samples in a row,
# near the top. A wave turning at a peak has one sample at its top, or two about equal where the
# top falls between them; a third at that level means the top was cut off. "At one level": each
# sample within FLAT_TOP_TOLERANCE of the peak level from the one before (at 44.1 kHz, three
# samples of a smooth wave stay that close only if a tone below about 100 Hz makes the peak on
# its own). "Near the top": within FLAT_TOP_RANGE_DB of the loudest sample, where a clip cuts.
# "A top": the samples on either side of the stretch are quieter; a wave of many tones can pause at
# one level on its way up or down (a 634 Hz mixture held 0.593 for three samples, louder on both
# sides), and that is no clip. Mastering turns a clipped stretch down but cannot round it again.
FLAT_TOP_SAMPLES = 3
FLAT_TOP_RANGE_DB = 3.0
FLAT_TOP_TOLERANCE = 1e-4  # of the peak level: about 0.001 dB


# The challenge track's targets (issue 10): the four voices, the top line, the mastered audio
# The one table of targets for a composed piece: ``evaluate_composer``, ``judging`` and the tests read it.
COMPOSE_TARGETS = {"in_key": (0.90, 1.0), "consonant": (0.80, 1.0), "chordal": (0.75, 1.0), "parallels": (0.0, 2.0),
                   "originality": (0.5, 1.0), "offbeat_motion": (0.35, 0.85)}
AUDIO_TARGETS = {"integrated_lufs": (-16.0, -13.0), "true_peak_dbtp": (-60.0, -1.0), "max_window_dc": (0.0, 0.001),
                 "loudness_range_lu": (6.0, 60.0), "loudest_third": (1.0, 1.0)}

# What moves each criterion among the things Lab 7 lets you change (SEED, MELODY, SECONDS): the
# directions benchmarks/judging_levers.py measures (the shipped models, 7 built-in tunes x seeds
# 0-2 x 30, 60 and 90 s); its table has the figures.
MOVES = {
    "Originality": "`SECONDS`, up: a longer piece has more new bars (at 90 s every built-in tune met the target). "
                   "`MELODY` moves it too: where the Transformer goes on with the tune's own figures (Twinkle's "
                   "repeated notes) fewer bars count as new. `SEED` hardly moves it.",
    "Rhythm": "`SEED`, `MELODY` and `SECONDS` each move it a little, not in a way you can aim; longer pieces "
              "move a little more.",
    "Accompaniment and chord progression": "`SEED`, `MELODY` and `SECONDS` each move the share of one-chord beats a "
                                           "little, in no set direction; parallels stay near 0.",
    "Cleanliness of sound": "Nothing you can change here moves it: the mastering holds the peaks and the DC offset "
                            "in their targets.",
    "The feeling it leaves": "`MELODY`, `SECONDS` and `SEED` each move the loudness range by about 1 LU, well above "
                             "the target at every length (a longer piece has a longer quiet intro). Every built-in "
                             "tune ends on its tonic; a melody of your own that does not can miss it.",
}


@dataclass(frozen=True)
class Criterion:
    """One judging criterion: its proxy figure, the piece's value, a target (in words, and as the
    range of values it allows), a listening prompt, every figure it reads (by name, its value among
    them) and what in Lab 7 moves it."""

    name: str
    proxy: str
    value: float
    target: str
    met: bool
    listen: str
    figures: dict[str, float] = dataclasses.field(default_factory=dict)
    move: str = ""
    target_range: tuple[float, float] = (0.0, 0.0)


def _bars(roll: PianoRoll) -> dict[int, frozenset[tuple[int, int]]]:
    """The bars where the first track strikes a note, each as its notes (step in the bar, pitch):
    those struck in the bar and one held into it (as if struck on its first step, as a section's
    first bar strikes it again)."""
    sounding, onsets = roll.sounding[:, :, 0], roll.onsets[:, :, 0]
    bar = roll.steps_per_bar
    held_in = sounding & (np.arange(len(sounding)) % bar == 0)[:, None]
    bars: dict[int, set[tuple[int, int]]] = {}
    for step, pitch in zip(*np.nonzero(onsets | held_in)):
        bars.setdefault(int(step) // bar, set()).add((int(step) % bar, int(pitch)))
    struck = set(np.nonzero(onsets.any(axis=1))[0] // bar)
    return {b: frozenset(notes) for b, notes in bars.items() if b in struck}


def _moved(notes: frozenset[tuple[int, int]]) -> frozenset[tuple[int, int]]:
    """A bar's notes moved so that its lowest is pitch 0: two bars that are one moved up or down
    from the other give the same."""
    lowest = min(p for _, p in notes)
    return frozenset((step, p - lowest) for step, p in notes)


def bar_novelty(piece: Composition, melody: PianoRoll | None = None) -> dict[int, bool]:
    """For each of the top line's bars (those where it strikes a note), whether it is new: not a
    bar of ``melody``, the tune ``compose`` was given, note for note (the same notes at the same
    places in the bar, moved up or down or not at all). Without ``melody``, the piece's theme (the
    tune's opening as written) stands for the tune."""
    top = _bars(piece.voices())
    if melody is not None:
        tune = _bars(whole_bars(melody))
    else:
        themes = [s for s in piece.sections if s.name == "theme"]
        tune = {b: notes for b, notes in top.items() if any(s.start_bar <= b < s.start_bar + s.bars for s in themes)}
    known = {_moved(notes) for notes in tune.values()}
    return {b: _moved(notes) not in known for b, notes in top.items()}


def new_bars(piece: Composition, melody: PianoRoll | None = None) -> float:
    """The share of the top line's bars that are new (``bar_novelty``). A track that only plays the
    tune scores 0."""
    return _new_share(bar_novelty(piece, melody))


def _new_share(novelty: dict[int, bool]) -> float:
    return float(np.mean(list(novelty.values()))) if novelty else 0.0


def _counted_in(piece: Composition, bars: list[int]) -> str:
    """The kinds of section ``bars`` lie in, in the piece's order, in words ("the theme, the new phrase
    and the variation")."""
    kinds = list(dict.fromkeys(s.name for s in piece.sections for b in bars if s.start_bar <= b < s.start_bar + s.bars))
    return in_words([f"the {kind}" for kind in kinds])


def flat_tops(audio: np.ndarray) -> int:
    """How many times the wave is cut flat near the top (clipped): stretches of
    ``FLAT_TOP_SAMPLES`` or more samples in a row, in one channel, all within
    ``FLAT_TOP_RANGE_DB`` of the loudest sample, each within ``FLAT_TOP_TOLERANCE`` of the
    peak level from the one before, and louder than the samples on either side."""
    x = np.asarray(audio, np.float64).reshape(len(audio), -1)
    peak = float(np.abs(x).max()) if x.size else 0.0
    if peak == 0.0:
        return 0
    near_top = np.abs(x) >= peak * 10 ** (-FLAT_TOP_RANGE_DB / 20)
    level = (np.abs(np.diff(x, axis=0)) <= FLAT_TOP_TOLERANCE * peak) & near_top[1:] & near_top[:-1]
    count = 0
    for column, size in zip(level.T, np.abs(x).T):
        edges = np.diff(np.concatenate([[0], column.astype(np.int8), [0]]))
        # level steps first..last-1 join samples first..last: FLAT_TOP_SAMPLES samples take FLAT_TOP_SAMPLES - 1 steps
        for first, last in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            lowest = size[first:last + 1].min()
            before = size[first - 1] if first > 0 else 0.0
            after = size[last + 1] if last + 1 < len(size) else 0.0
            count += last - first >= FLAT_TOP_SAMPLES - 1 and before < lowest and after < lowest
    return int(count)


def judge(piece: Composition, audio: np.ndarray, melody: PianoRoll | None = None) -> list[Criterion]:
    """The five criteria for a composed piece and its audio; ``melody`` is the tune it was
    composed from (without it, originality compares the top line with the piece's theme)."""
    voices = piece.voices()
    values = piece.figures()
    bach = {k: mean for k, (mean, _) in bach_reference().items()}
    novelty = bar_novelty(piece, melody)
    new = _new_share(novelty)
    sound = measure(audio, SAMPLE_RATE)
    clipped = flat_tops(audio)
    lowest = {k: low for k, (low, _) in COMPOSE_TARGETS.items()}
    most_parallels, ceiling, most_dc = (COMPOSE_TARGETS["parallels"][1], AUDIO_TARGETS["true_peak_dbtp"][1],
                                        AUDIO_TARGETS["max_window_dc"][1])
    flowing = COMPOSE_TARGETS["offbeat_motion"]
    tonic, _ = piece.parameters.key  # the tune's key, as the figures read it (new phrases visit the dominant)
    final_bass = voices.notes(3)[-1].pitch % 12 if voices.notes(3) else -1
    compared = "your melody" if melody is not None else "your theme (the melody's opening)"
    clean = bool(clipped == 0) and sound.true_peak_dbtp <= ceiling and sound.max_window_dc < most_dc
    seconds = len(audio) / SAMPLE_RATE
    return [
        Criterion("Originality", f"share of the bars where the top line (the harpsichord) strikes a note, "
                  f"{len(novelty)} here, in {_counted_in(piece, list(novelty)) or 'no section'}, that are new: not a "
                  f"bar of {compared} note for note, even moved up or down: {sum(novelty.values())} of {len(novelty)}",
                  new, f"at least {lowest['originality']:.2f}", new >= lowest["originality"],
                  "Could you sing the tune back? What did the variation add that the theme did not have?",
                  {"originality": new}, MOVES["Originality"], COMPOSE_TARGETS["originality"]),
        Criterion("Rhythm", "share of off-beat 8ths that move (Bach: %.2f)" % bach["offbeat_motion"],
                  values["offbeat_motion"], f"{flowing[0]:g} to {flowing[1]:g}", flowing[0] <= values["offbeat_motion"] <= flowing[1],
                  "Does the pulse flow, and do the slow-downs at phrase ends feel like breathing?",
                  {"offbeat_motion": values["offbeat_motion"]}, MOVES["Rhythm"], flowing),
        Criterion("Accompaniment and chord progression",
                  "beats that are one chord (Bach: %.2f); parallels per 100 moves: %.1f" % (bach["chordal"], values["parallels"]),
                  values["chordal"], f"at least {lowest['chordal']:.2f}, parallels at most {most_parallels:g}",
                  values["chordal"] >= lowest["chordal"] and values["parallels"] <= most_parallels,
                  "Do the lower voices support the tune? Does the bass lead somewhere?",
                  {"chordal": values["chordal"], "parallels": values["parallels"]},
                  MOVES["Accompaniment and chord progression"], COMPOSE_TARGETS["chordal"]),
        Criterion("Cleanliness of sound", "peaks cut flat by clipping (the wave held at one level for 3 samples or "
                  "more near the top, quieter on both sides: mastering turns them down but cannot round them again); true peak %.1f dBTP; "
                  "largest DC offset of a second: %.4f; notes at least an 8th: %.2f"
                  % (sound.true_peak_dbtp, sound.max_window_dc, values["long_notes"]), clipped,
                  f"none, peak at most {ceiling:g} dBTP, no DC", clean,
                  "Any crackle on loud notes, clicks, harsh clashes or muddy low notes? Is the tune clear above the pad?",
                  {"clipped_peaks": clipped, "true_peak_dbtp": sound.true_peak_dbtp, "max_window_dc": sound.max_window_dc,
                   "long_notes": values["long_notes"]}, MOVES["Cleanliness of sound"], (0.0, 0.0)),
        Criterion("The feeling it leaves", "short-term loudness range in LU; loudest 10 s from %.0f s of %.0f; ends on the "
                  "tonic: %s" % (sound.loudest_10s_start, seconds, "yes" if final_bass == tonic else "no"),
                  sound.loudness_range_lu, f"at least {AUDIO_TARGETS['loudness_range_lu'][0]:g} LU and a tonic ending",
                  sound.loudness_range_lu >= AUDIO_TARGETS["loudness_range_lu"][0] and final_bass == tonic,
                  "Close your eyes at the last chord: Baroque chapel, or a ship drifting past a planet?",
                  {"loudness_range_lu": sound.loudness_range_lu, "tonic_ending": float(final_bass == tonic),
                   "loudest_10s_at": sound.loudest_10s_start / seconds if seconds else 0.0},
                  MOVES["The feeling it leaves"], AUDIO_TARGETS["loudness_range_lu"]),
    ]


def judging_table(criteria: list[Criterion]) -> str:
    """The criteria as Markdown for a notebook, narrow enough to read: a table of five columns
    (criterion, what its figure counts, value, target, met), then for each criterion what to
    listen for and what in Lab 7 moves it."""
    rows = ["| criterion | the figure (a proxy) | value | target | met |", "|---|---|---|---|---|"]
    rows += [f"| **{c.name}** | {c.proxy} | {c.value:.2f} | {c.target} | {'yes' if c.met else 'no'} |"
             for c in criteria]
    rows += ["", "**Listen for, and how to move each figure:**", ""]
    rows += [f"- **{c.name}.** *Listen for:* {c.listen} *How to move it:* {c.move}" for c in criteria]
    return "\n".join(rows)


def moved_most(mine: list[Criterion], theirs: list[Criterion]) -> str:
    """Which criterion's figure moved most between two pieces' judgings (``judge``'s lists, in the
    same order), each change measured against the width of the criterion's own target range, since
    the figures come in different units (a share, a count, LU). A figure whose target is one value
    (no clipped peaks) counts as moved most whenever it changed at all."""
    def share(a: Criterion, b: Criterion) -> float:
        low, high = a.target_range
        change = abs(b.value - a.value)
        return change / (high - low) if high > low else (math.inf if change else 0.0)

    a, b = max(zip(mine, theirs), key=lambda pair: share(*pair))
    moved = share(a, b)
    if moved == 0.0:
        return "moved most: none, every figure is the same for both"
    low, high = a.target_range
    of = (f"{moved:.0%} of its {low:g}-{high:g} target range" if high > low
          else f"its target is {low:g}, so any change counts")
    return f"moved most: {a.name}, {a.value:.2f} → {b.value:.2f} ({of})"


def _piece_figures(piece, melody: PianoRoll, audio: bool) -> dict[str, float]:
    """A composition's figures: its four voices in the tune's key, its originality (judging's:
    ``new_bars``: the share of the top line's bars that are not a bar of ``melody``, the tune it was composed
    from), and with ``audio`` the mastered audio's (``loudest_third`` is 1 where the loudest
    10 s start in the last third)."""
    values = dict(piece.figures(), originality=new_bars(piece, melody))
    if audio:
        sound = render_audio(piece)
        seconds = len(sound) / SAMPLE_RATE
        values |= dataclasses.asdict(measure(sound, SAMPLE_RATE)) | {"seconds": seconds}
        values["loudest_third"] = float(values["loudest_10s_start"] >= seconds * 2 / 3 - 0.5)
    return values


def evaluate_composer(composer: Callable[[PianoRoll, int], object], dataset: PieceDataset,
                      seeds: tuple[int, ...] = (0, 1, 2), n_unseen: int = 10, audio: bool = True) -> dict:
    """Figures of the challenge track (``composer(melody, seed)`` returns a ``Composition``) on
    the built-in tunes with several seeds and on sopranos of the test split, and the share of
    pieces that meet every target of ``COMPOSE_TARGETS`` (and, with ``audio``, ``AUDIO_TARGETS``)."""
    targets = COMPOSE_TARGETS | (AUDIO_TARGETS if audio else {})

    def meets(values: dict[str, float]) -> bool:
        return all(low <= values[f] <= high for f, (low, high) in targets.items())

    tunes = {name: melody_roll(name) for name in MELODIES}
    pieces = {f"{name} seed {seed}": _piece_figures(composer(melody, seed), melody, audio)
              for name, melody in tunes.items() for seed in seeds}
    sopranos = {c.id: c.roll().track(0) for c in dataset.split("test")[:n_unseen]}
    unseen = {name: _piece_figures(composer(melody, 0), melody, audio) for name, melody in sopranos.items()}
    keys = (*targets, "voices", *(("loudest_10s_start", "seconds") if audio else ()))
    return {
        "tunes": {name: {k: v[k] for k in keys} for name, v in pieces.items()},
        "test_sopranos": {name: {k: v[k] for k in keys} for name, v in unseen.items()},
        "mean_tunes": {k: float(np.mean([v[k] for v in pieces.values()])) for k in keys},
        "mean_test_sopranos": {k: float(np.mean([v[k] for v in unseen.values()])) for k in keys},
        "meet_targets": {"tunes": float(np.mean([meets(v) for v in pieces.values()])),
                         "test_sopranos": float(np.mean([meets(v) for v in unseen.values()]))},
        "targets": targets,
    }
