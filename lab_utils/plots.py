"""Pictures and tables a beginner reads at a glance: piano rolls, dataset statistics, curves and
what an edit did. In the pictures a note is a box; a *bar* is always a measure (grey lines)."""

from __future__ import annotations

import csv
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from .metrics import enhancement_figures, note_changes
from .midi import (EIGHTH, STEPS_PER_BEAT, Note, PianoRoll, bar_steps, beat_steps, pitch_name, read_midi, roll_to_notes,
                   top_pitches)
from .pieces import ARCNN_HOP_BARS, ARCNN_WINDOW_STEPS, GAN_WINDOW_STEPS, VOICES, Piece, PieceDataset

if TYPE_CHECKING:
    from .harmonize import Harmonizer

__all__ = ["VOICE_COLOURS", "pitch_range", "plot_pianoroll", "plot_multitrack", "plot_windows", "plot_dataset_stats",
           "dataset_sentences", "meter_sentence", "window_meters_sentence", "roll_overlap_sentence",
           "short_note_share", "note_lengths_sentence", "read_log", "epochs_from_one", "plot_losses",
           "plot_curves", "last_epoch_sentences", "plot_figures_vs_bach", "training_animation", "plot_enhancement", "plot_enhancements",
           "enhancement_table", "plot_corruption", "plot_generator_scores", "clear_favourites",
           "generator_score_examples"]

VOICE_COLOURS = ("#d62728", "#ff7f0e", "#2ca02c", "#1f77b4", "#9467bd", "#8c564b")


LABELLED_PITCH_CLASSES = ((0, 4, 7), (0,))  # C, E and G on a short range; only the Cs on a wide one


def pitch_range(rolls: list[PianoRoll], margin: int = 2) -> tuple[int, int]:
    """The lowest and highest pitch any of ``rolls`` sounds, widened by ``margin`` (G3-G#5 if silent)."""
    used = np.nonzero(np.any([r.sounding.any(axis=(0, 2)) for r in rolls], axis=0))[0]
    return (int(used.min()) - margin, int(used.max()) + margin) if len(used) else (55, 80)


def _roll_axes(roll: PianoRoll, ax: plt.Axes | None, margin: int,
               pitches: tuple[int, int] | None = None) -> plt.Axes:
    """Axes sized to the roll's pitches (or ``pitches``), with bar lines, bar numbers and pitch
    names on C, E and G (middle C is C4)."""
    if ax is None:
        width = min(16.0, max(6.0, roll.n_steps / 16))
        _, ax = plt.subplots(figsize=(width, 4.5))
    low, high = pitches or pitch_range([roll], margin)
    for bar_line in range(roll.pickup_steps, roll.n_steps + 1, roll.steps_per_bar):
        ax.axvline(bar_line, color="grey", linewidth=0.6, alpha=0.6)
    labelled = LABELLED_PITCH_CLASSES[high - low > 24]
    ticks = [p for p in range(low, high + 1) if p % 12 in labelled]
    ax.set_yticks(ticks, [pitch_name(p) for p in ticks])
    ax.set_ylim(low - 0.5, high + 0.5)
    ax.set_xlim(0, roll.n_steps)
    bar_ticks = list(range(roll.pickup_steps, roll.n_steps, roll.steps_per_bar))
    step = max(1, len(bar_ticks) // 16)
    ax.set_xticks(bar_ticks[::step], [str(i + 1) for i in range(0, len(bar_ticks), step)])
    ax.set_xlabel("bar")
    ax.set_ylabel("pitch")
    return ax


def _draw_notes(ax: plt.Axes, notes, face: str, edge: str = "black", linewidth: float = 0.3,
                alpha: float = 0.85) -> None:
    for note in notes:
        ax.add_patch(Rectangle((note.start, note.pitch - 0.4), note.length - 0.25, 0.8,
                               facecolor=face, edgecolor=edge, linewidth=linewidth, alpha=alpha))


def plot_pianoroll(roll: PianoRoll, ax: plt.Axes | None = None, title: str | None = None,
                   margin: int = 2, background: int = 0, pitches: tuple[int, int] | None = None) -> plt.Axes:
    """Draw every note as a box, one colour per track, with bar lines and pitch names; the
    legend sits outside the axes, to the right, so it hides no note.

    Repeated notes show as separate boxes with a small gap, as a singer would sing them. The
    last ``background`` tracks (an accompaniment) are drawn faint, behind the others.
    ``pitches`` (lowest, highest) fixes the pitch axis, for pictures meant to be compared.
    """
    ax = _roll_axes(roll, ax, margin, pitches)
    colours = [VOICE_COLOURS[k % len(VOICE_COLOURS)] for k in range(roll.n_tracks)]
    order = list(range(roll.n_tracks - background, roll.n_tracks)) + list(range(roll.n_tracks - background))
    for k in order:
        _draw_notes(ax, roll.notes(k), colours[k], alpha=0.35 if k >= roll.n_tracks - background else 0.85)
    _legend_outside(ax, [Patch(color=c, label=name) for c, name in zip(colours, roll.names)])
    if title:
        ax.set_title(title)
    return ax


def _legend_outside(ax: plt.Axes, handles: list) -> None:
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8, frameon=False,
              borderaxespad=0.0)


def plot_multitrack(multitrack, margin: int = 2) -> plt.Figure:
    """A ``pypianoroll.Multitrack`` drawn readably with pypianoroll's own ``plot_pianoroll``: one
    row per track, each cut to the pitches it uses (``margin`` semitones around them) so that a
    note is a box, not a hairline, with the track's name beside it, bar lines and bar numbers.
    Like the Multitrack itself, it shows two repeated notes as one long note (it keeps no onsets)."""
    import pypianoroll
    from matplotlib.colors import ListedColormap

    tracks = [track for track in multitrack.tracks if track.pianoroll.any()]
    n_steps = max(len(track.pianoroll) for track in tracks)
    downbeats = multitrack.get_downbeat_steps()
    fig, axes = plt.subplots(len(tracks), 1, figsize=(min(16.0, max(8.0, n_steps / 16)), 1.6 * len(tracks) + 0.8),
                             sharex=True, squeeze=False, layout="constrained")
    for k, (ax, track) in enumerate(zip(axes[:, 0], tracks)):
        colour = ListedColormap(["white", VOICE_COLOURS[k % len(VOICE_COLOURS)]])
        pypianoroll.plot_pianoroll(ax, track.pianoroll, resolution=multitrack.resolution, downbeats=downbeats,
                                   cmap=colour, xtick="off", xticklabel=False, ytick="off", label="off",
                                   grid_axis="off", extent=(0, len(track.pianoroll), -0.5, 127.5))
        used = np.nonzero(track.pianoroll.any(axis=0))[0]
        low, high = int(used.min()) - margin, int(used.max()) + margin
        ax.set_ylim(low - 0.5, high + 0.5)
        ticks = [p for p in range(low, high + 1) if p % 12 in LABELLED_PITCH_CLASSES[high - low > 24]]
        ax.set_yticks(ticks, [pitch_name(p) for p in ticks], fontsize=8)
        ax.set_ylabel(track.name, rotation=0, ha="right", va="center")
    step = max(1, len(downbeats) // 16)
    axes[-1, 0].set_xticks(downbeats[::step], [str(i + 1) for i in range(0, len(downbeats), step)])
    axes[-1, 0].tick_params(axis="x", labelbottom=True)
    axes[-1, 0].set_xlabel("bar (black lines: bar lines)")
    return fig


def plot_windows(windows: np.ndarray, onsets: np.ndarray | None = None, n: int = 4,
                 title: str = "", names: list[str] | None = None,
                 meters: list[tuple[int, int]] | None = None) -> plt.Figure:
    """The first ``n`` training windows side by side, as the model sees them (``names``: the
    roles, default soprano, alto, tenor, bass). Each window starts on a bar line; ``meters``
    (each window's time signature, default 4/4) places and numbers its bars, and is named in
    its title: a 32-step window is two bars of 4/4 but one bar of 4/2."""
    n = min(n, len(windows))
    fig, axes = plt.subplots(1, n, figsize=(4 * n, 3.2), squeeze=False)
    for i, ax in enumerate(axes[0]):
        sounding = windows[i] > 0 if windows[i].dtype != bool else windows[i]
        if sounding.ndim == 2:
            sounding = sounding[:, :, None]
        starts = onsets[i] if onsets is not None else np.zeros_like(sounding)
        meter = tuple(meters[i]) if meters else (4, 4)
        roll = PianoRoll(sounding, starts, time_signature=meter,
                         names=(names or list(VOICES)) if sounding.shape[2] == 4 else ["all voices"])
        plot_pianoroll(roll, ax=ax, title=f"window {i + 1}" + (f", in {_meter(meter)}" if meters else ""))
        if i:
            ax.get_legend().remove()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_dataset_stats(dataset: PieceDataset) -> plt.Figure:
    """Voice ranges, keys, lengths and windows per split of the chorale dataset."""
    fig, axes = plt.subplots(2, 2, figsize=(13, 8))
    notes = np.concatenate([c.notes for c in dataset.pieces])
    ax = axes[0, 0]
    ax.violinplot([notes[notes[:, 0] == v, 2] for v in range(len(VOICES))], showextrema=True)
    ax.set_xticks(range(1, len(VOICES) + 1), VOICES)
    ticks = list(range(36, 85, 12))
    ax.set_yticks(ticks, [pitch_name(p) for p in ticks])
    ax.set_title("what each voice sings (pitch range)")

    ax = axes[0, 1]
    keys = Counter(c.key for c in dataset.pieces).most_common(14)
    ax.barh([k for k, _ in keys][::-1], [n for _, n in keys][::-1],
            color=["#1f77b4" if "major" in k else "#9467bd" for k, _ in keys][::-1])
    ax.set_title("most common keys (blue major, purple minor)")
    ax.set_xlabel("chorales")

    ax = axes[1, 0]
    ax.hist([c.bars for c in dataset.pieces], bins=20, color="#2ca02c")
    ax.set_xlabel("bars (repeats expanded)")
    ax.set_ylabel("chorales")
    ax.set_title("how long the chorales are")

    ax = axes[1, 1]
    splits = ("train", "valid", "test")
    counts = [dataset.gan_windows(s)[0].shape[0] for s in splits]
    ax.bar(splits, counts, color=["#2ca02c", "#ff7f0e", "#d62728"])
    for i, (s, c) in enumerate(zip(splits, counts)):
        ax.text(i, c, f"{len(dataset.split(s))} chorales\n{c} windows", ha="center", va="bottom")
    ax.set_ylim(0, max(counts) * 1.25)
    ax.set_title(f"GAN windows ({GAN_WINDOW_STEPS} steps) per split")
    fig.tight_layout()
    return fig


SAME_SHARE = 0.1  # two counts within this share of their total are "about as many"


def dataset_sentences(dataset: PieceDataset, pieces: str = "chorales") -> list[str]:
    """What ``plot_dataset_stats`` shows, read from the numbers: the modes of the keys (and whether
    about as many of each), how long most pieces last, and how many are in each meter."""
    modes = Counter(piece.key.split()[-1] for piece in dataset.pieces).most_common()
    total = len(dataset.pieces)
    counted = ", ".join(f"{n} in {mode}" for mode, n in modes)
    if len(modes) < 2:
        verdict = "all in one"
    elif modes[0][1] - modes[1][1] <= SAME_SHARE * total:
        verdict = "about as many of each"
    else:
        verdict = f"more in {modes[0][0]}"
    bars = np.array([piece.bars for piece in dataset.pieces])
    low, high = int(np.floor(np.percentile(bars, 10))), int(np.ceil(np.percentile(bars, 90)))
    within = np.mean((bars >= low) & (bars <= high))
    meters = Counter(piece.time_signature for piece in dataset.pieces).most_common()
    return [f"keys: {counted} ({verdict})",
            f"lengths: {100 * within:.0f} % of the {pieces} last {low} to {high} bars "
            f"(the shortest {bars.min():.3g}, the longest {bars.max():.3g})",
            "time signatures: " + ", ".join(f"{n} in {_meter(m)}" for m, n in meters)]


def _meter(meter: tuple[int, int]) -> str:
    return f"{meter[0]}/{meter[1]}"


FRACTIONS = {Fraction(1, 4): "¼", Fraction(1, 3): "⅓", Fraction(1, 2): "½", Fraction(2, 3): "⅔", Fraction(3, 4): "¾"}


def _bars(steps: int, meter: tuple[int, int]) -> str:
    """``steps`` counted in bars of ``meter``: "1 bar", "2 bars", "2⅔ bars", or "1.4 bars" where no
    simple fraction fits."""
    bars = Fraction(steps, bar_steps(meter))
    whole, part = divmod(bars, 1)
    if not part:
        return f"{whole} bar" + ("s" if whole != 1 else "")
    return (f"{whole or ''}{FRACTIONS[part]}" if part in FRACTIONS else f"{float(bars):.2g}") + " bars"


def meter_sentence(piece: Piece, bars: int = 2) -> str:
    """A piece's meter in steps, and what its first ``bars`` bars (``Piece.opening_steps``) hold."""
    per_bar = piece.steps_per_bar
    pickup = (f"a pickup of {piece.pickup_steps} steps (notes before the first bar line) and"
              if piece.pickup_steps else "no pickup (it starts on a bar line), so")
    return (f"{piece.id} is in {_meter(piece.time_signature)}: {per_bar // beat_steps(piece.time_signature)} beats "
            f"a bar, {per_bar} steps a bar. It has {pickup} its first {bars} bars end at step "
            f"{piece.opening_steps(bars)}.")


def window_meters_sentence(meters: list[tuple[int, int]], steps: int = GAN_WINDOW_STEPS,
                           what: str = "training windows", pieces: str = "chorales") -> str:
    """How many windows of ``steps`` come from pieces in each meter (``meters``: each window's),
    and how many bars that length is in each."""
    counts = Counter(tuple(m) for m in meters).most_common()
    parts = [f"{n:,} from {pieces} in {_meter(m)} ({_bars(steps, m)} each)" for m, n in counts]
    return f"Of the {len(meters):,} {what} ({steps} steps each): " + "; ".join(parts) + "."


def roll_overlap_sentence(sources: list[tuple[Piece, int]], n_pieces: int, what: str = "training rolls",
                          pieces: str = "chorales") -> str:
    """Where the AR-CNN's rolls come from (``sources``: ``PieceDataset.arcnn_roll_sources``, of a
    split of ``n_pieces``) and whether a piece's consecutive rolls overlap."""
    per_piece = Counter(piece.id for piece, _ in sources)
    most = max(per_piece.values(), default=0)
    bars = ARCNN_WINDOW_STEPS // bar_steps((4, 4))
    origin = (f"all {n_pieces} {pieces}" if len(per_piece) == n_pieces else
              f"{len(per_piece)} of the {n_pieces} {pieces} (the others are too short for a whole roll)")
    if most > 1:
        overlap = (f"{min(per_piece.values())} to {most} rolls each: a new roll starts every {ARCNN_HOP_BARS} bars, so "
                   f"consecutive rolls of one piece overlap (in 4/4 two neighbours share {bars - ARCNN_HOP_BARS} of "
                   f"their {bars} bars)")
    else:
        overlap = "one roll each, so no two rolls overlap"
    return f"The {len(sources):,} {what} come from {origin}, {overlap}."


def short_note_share(dataset: PieceDataset) -> float:
    """The share of all the dataset's notes (every voice of every piece) shorter than an 8th:
    its 16ths. ``metrics.figures``' long notes and the AR-CNN's fragments draw the same line."""
    lengths = np.concatenate([piece.notes[:, 3] for piece in dataset.pieces])
    return float(np.mean(lengths < EIGHTH))


def note_lengths_sentence(dataset: PieceDataset, composer: str = "Bach") -> str:
    """One sentence from ``short_note_share``: how many notes last an 8th or longer, how many are 16ths."""
    share = short_note_share(dataset)
    notes = sum(len(piece.notes) for piece in dataset.pieces)
    return (f"Of {composer}'s {notes:,} notes here, {100 * (1 - share):.1f} % last an 8th or longer "
            f"and {100 * share:.1f} % are 16ths (shorter than an 8th).")


def read_log(path: str | Path) -> dict[str, np.ndarray]:
    """A training CSV log (Keras CSVLogger) as columns of floats."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    columns = {key: np.array([_number(r[key]) for r in rows]) for key in (rows[0] if rows else {})}
    return {key: values for key, values in columns.items() if not np.isnan(values).all()}


def epochs_from_one(log: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A Keras log (``read_log``) with its epochs counted from 1, as the live plot and
    ``runs.describe_curves`` count them (Keras logs the first epoch as 0)."""
    return {**log, "epoch": log["epoch"] + 1} if "epoch" in log else log


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:  # CSVLogger writes "NA" for columns it has no value for
        return float("nan")


CURVE_TITLES = {
    "critic_loss": "critic loss", "generator_loss": "generator loss",
    "wasserstein": "Wasserstein estimate (real - fake)", "distance": "distance to the composer's figures",
    "told_apart": "told apart from the composer's own voices", "loss": "training loss (KL)",
    "val_loss": "validation loss (KL)", "val_bits_per_note": "bits per note on the validation tunes",
}
CURVE_UNITS = {"wasserstein": "critic score difference", "distance": "distance (0 = the composer's mean)",
               "told_apart": "classifier's accuracy", "val_bits_per_note": "bits per note (lower: better)"}  # else "loss"
CHANCE = 0.5  # a classifier that cannot tell two sides apart is right half of the time
MARKED_POINTS = 40  # curves with this many points or fewer are drawn with a dot on each


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Each point averaged with its neighbours, ``window // 2`` on each side: centred, so a dip
    stays where it was logged (a trailing average moves it later). Near the ends the window
    shrinks to as many points as there are on both sides, so the first and last points stay as
    logged."""
    half = window // 2
    return np.array([np.mean(values[i - r : i + r + 1])
                     for i in range(len(values)) for r in [min(half, i, len(values) - 1 - i)]])


def plot_curves(log: dict[str, np.ndarray], keys: tuple[str, ...], smooth: int = 3,
                band: tuple[float, float] | None = None, band_label: str = "") -> plt.Figure:
    """One panel per logged value against iterations (or epochs: the log's own, counted from 1, or
    1, 2, ... where it has none): what was logged (grey where a smoothed line is drawn over it,
    averaging each point with its neighbours: ``smooth``, an odd number of points, centred on it); up to
    ``MARKED_POINTS`` points each get a dot, so that a run of one epoch shows its one value.
    ``band`` (lowest, highest) is drawn on every panel as a grey band with dashed edges, named
    ``band_label`` (e.g. the loss of a model with no idea). A panel of one line has no legend."""
    keys = [k for k in keys if k in log]
    x = log.get("iteration", log.get("epoch", np.arange(1, len(log[keys[0]]) + 1)))
    marker = "o" if len(x) <= MARKED_POINTS else None
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.8), squeeze=False)
    for ax, key in zip(axes[0], keys):
        if smooth > 1:
            ax.plot(x, log[key], color="darkgrey", label="logged")
        ax.plot(x, _smooth(log[key], smooth), color="#1f77b4", marker=marker, markersize=4,
                label=f"average of {smooth} neighbouring points" if smooth > 1 else "logged")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(x) == 1:  # one epoch: its own tick, not 0.945 ... 1.065
            ax.set_xticks(x)
        ax.set_title(CURVE_TITLES.get(key, key.replace("_", " ")))
        ax.set_xlabel("iteration" if "iteration" in log else "epoch")
        ax.set_ylabel(CURVE_UNITS.get(key, "loss"))
        if key == "told_apart":  # the goal: voices a classifier cannot tell from the composer's own
            ax.axhline(CHANCE, color="#2ca02c", linestyle="--", label="chance: the composer against himself")
            ax.set_ylim(0.4, 1.02)
        if band is not None:
            ax.axhspan(*band, facecolor="grey", alpha=0.2, edgecolor="grey", linestyle="--", label=band_label)
        if key == "val_bits_per_note" and "val_markov_bits_per_note" in log:  # the baseline to beat
            ax.axhline(float(log["val_markov_bits_per_note"][-1]), color="#d62728", linestyle="--",
                       label="the Markov baseline")
        if len(ax.get_legend_handles_labels()[0]) > 1:
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def last_epoch_sentences(log: dict[str, np.ndarray], train: str = "loss", valid: str = "val_loss") -> list[str]:
    """Two sentences on a training log's last epoch: which of the training and validation losses
    is higher, and whether each still fell in that epoch (so a longer run would likely help)."""
    t, v = log[train], log[valid]
    order = "above" if t[-1] > v[-1] else "below" if t[-1] < v[-1] else "level with"
    sentences = [f"at the last epoch the training loss ({t[-1]:.3g}) is {order} the validation loss ({v[-1]:.3g})"]
    if len(v) < 2:
        return [*sentences, "only one epoch is logged, so neither loss has a direction yet"]
    moves = [f"the {name} loss {'fell' if c[-1] < c[-2] else 'did not fall'} ({c[-2]:.3g} to {c[-1]:.3g})"
             for name, c in (("training", t), ("validation", v))]
    verdict = ("a longer run would likely lower the validation loss further" if v[-1] < v[-2]
               else "more of the same training may not lower the validation loss")
    return [*sentences, f"in the last epoch {moves[0]} and {moves[1]}, so {verdict}"]


def plot_losses(log: dict[str, np.ndarray], smooth: int = 3) -> plt.Figure:
    """The GAN's critic and generator losses and Wasserstein estimate, smoothed."""
    return plot_curves(log, ("critic_loss", "generator_loss", "wasserstein"), smooth)


FIGURE_UNITS = {"in_key": "share of notes", "consonant": "share of pairs on beats", "chordal": "share of beats",
                "parallels": "per 100 moves", "long_notes": "share of notes", "voices": "voices sounding",
                "block_attacks": "share of note starts", "offbeat_motion": "share of off-beat 8ths"}


def plot_figures_vs_bach(log: dict[str, np.ndarray], reference: dict[str, tuple[float, float]]) -> plt.Figure:
    """Each musical figure during training (red: the harmonizations the log measured), with Bach's
    mean (dark green) and spread (green band), and in the last panel how often a classifier told
    the voices from Bach's (chance dashed), or for a log written before that was measured, the
    distance to the style's figures; a legend under the panels names the lines."""
    x = log.get("iteration", np.arange(1, len(log["in_key"]) + 1))
    names = [name for name in reference if name in log]
    summary = "told_apart" if "told_apart" in log else "distance"
    fig, axes = plt.subplots(2, (len(names) + 2) // 2, figsize=(16, 6.5))
    for ax, name in zip(axes.flat, [*names, summary]):
        ax.plot(x, log[name], marker=".", color="#d62728")
        if name == "told_apart":
            ax.axhline(CHANCE, color="green", linestyle="--")
        elif name != "distance":
            mean, spread = reference[name]
            ax.axhspan(mean - spread, mean + spread, color="green", alpha=0.15)
            ax.axhline(mean, color="darkgreen")
        ax.set_title(CURVE_TITLES.get(name, name.replace("_", " ")))
        ax.set_xlabel("iteration")
        ax.set_ylabel(FIGURE_UNITS.get(name) or CURVE_UNITS[name])
    for ax in list(axes.flat)[len(names) + 1:]:
        ax.set_visible(False)
    handles = [Line2D([], [], marker=".", color="#d62728", label="the GAN's harmonizations, as the log measured them"),
               Line2D([], [], color="darkgreen", label="Bach's mean"),
               Patch(color="green", alpha=0.15, label="Bach's mean ± spread")]
    if summary == "told_apart":
        handles.append(Line2D([], [], color="green", linestyle="--", label="chance (last panel)"))
    fig.legend(handles=handles, loc="lower center", ncols=len(handles), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def training_animation(samples: str | Path, gif: str | Path, seconds_per_frame: float = 0.6) -> Path:
    """An animated GIF of the sample piano rolls written during training, one frame each."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    files = sorted(Path(samples).glob("iteration_*.mid"))
    if not files:
        raise FileNotFoundError(f"no samples in {samples}")
    rolls = [read_midi(f) for f in files]
    pitches = pitch_range(rolls)  # one pitch axis for every frame
    fig, ax = plt.subplots(figsize=(10, 4))

    def draw(i: int):
        ax.clear()
        plot_pianoroll(rolls[i], ax=ax, title=f"after {files[i].stem.split('_')[1].lstrip('0')} iterations",
                       pitches=pitches)
        fig.tight_layout()
        return []

    animation = FuncAnimation(fig, draw, frames=len(rolls))
    gif = Path(gif)
    gif.parent.mkdir(parents=True, exist_ok=True)
    animation.save(gif, writer=PillowWriter(fps=1 / seconds_per_frame))
    plt.close(fig)
    return gif


def _draw_layers(ax: plt.Axes, struck: np.ndarray, layers: list[tuple[str, np.ndarray, str, str, float]]) -> None:
    """Each layer (legend label, cells, face, edge, line width) as boxes, with its legend outside."""
    for _, mask, face, edge, width in layers:
        _draw_notes(ax, roll_to_notes(mask, struck & mask), face, edge, width)
    _legend_outside(ax, [Patch(facecolor=face, edgecolor=edge, label=label) for label, _, face, edge, _ in layers])


def plot_enhancement(before: PianoRoll, after: PianoRoll, ax: plt.Axes | None = None,
                     title: str | None = None, pitches: tuple[int, int] | None = None) -> plt.Axes:
    """One piano roll: notes kept (blue), added by the model (green), removed or cut (red outline).

    The legend counts notes as the studio and ``enhance`` do (``metrics.note_changes``): a
    shortened note is one note, however its cut part is drawn. ``pitches`` (lowest, highest)
    fixes the pitch axis, for pictures meant to be compared."""
    original = before.sounding.any(axis=2)
    result = after.sounding.any(axis=2)
    struck = before.onsets.any(axis=2) | after.onsets.any(axis=2)
    both = PianoRoll((original | result)[:, :, None], struck[:, :, None],
                     time_signature=before.time_signature, pickup_steps=before.pickup_steps)
    ax = _roll_axes(both, ax, 2, pitches)
    added, removed, shortened = note_changes(before, after)
    _draw_layers(ax, struck, [
        ("kept", original & result, "#1f77b4", "black", 0.3),
        (f"added ({len(added)} notes)", result & ~original, "#2ca02c", "black", 0.3),
        (f"removed or shortened ({len(removed) + len(shortened)} notes)", original & ~result, "none", "#d62728", 1.2)])
    if title:
        ax.set_title(title)
    return ax


def plot_enhancements(before: PianoRoll, afters: dict[str, PianoRoll]) -> plt.Figure:
    """``plot_enhancement`` of each version in ``afters`` (title: its label), one row each on one
    pitch axis: as many rows as versions, each legend beside its row."""
    pitches = pitch_range([before, *afters.values()])
    fig, axes = plt.subplots(len(afters), 1, figsize=(12, 2.9 * len(afters)), sharex=True, squeeze=False,
                             layout="constrained")
    for ax, (label, after) in zip(axes[:, 0], afters.items()):
        plot_enhancement(before, after, ax=ax, title=label, pitches=pitches)
        ax.label_outer()
    return fig


def _share(value: float) -> str:
    return "–" if np.isnan(value) else f"{value:.2f}"


def enhancement_table(before: PianoRoll, afters: dict[str | float, PianoRoll], label: str = "setting",
                      key: tuple[int, str] | None = None) -> str:
    """``metrics.enhancement_figures`` of each version as a Markdown table, one row per label (in
    ``key``, else the key of ``before``); a share of added notes that has no notes to count (none
    added) shows as "–", said under the table."""
    rows = [f"| {label} | notes added | removed | shortened | 16ths among added | in key | consonant with melody |",
            "|---|---|---|---|---|---|---|"]
    empty = []
    for name, after in afters.items():
        f = enhancement_figures(before, after, key)
        rows.append(f"| {name} | {f['added_notes']} | {f['removed_notes']} | {f['shortened_notes']} | "
                    f"{_share(f['fragments']) if f['added_notes'] else '–'} | {_share(f['in_key'])} | "
                    f"{_share(f['consonant'])} |")
        if not f["added_notes"]:
            empty.append(name)
    if empty:
        rows.append("\n– : " + ", ".join(f"*{name}*" for name in empty) + " added no notes, so there is no share "
                    "of added notes to count (16ths, in key, consonant are shares of the added notes).")
    return "\n".join(rows)


def plot_corruption(clean: np.ndarray, noisy: np.ndarray, n: int = 3, pitch_low: int = 0) -> plt.Figure:
    """Training pairs: cells of Bach's roll the damage took away (green: the model should add
    them back) and stray cells it added (red outline: the model should remove them). A training
    roll has no onsets, so the titles count cells, the unit the loss counts, as drawn. The grey
    lines are bar lines of 4/4 from the roll's first step: give it rolls of pieces in 4/4
    (``pieces.first_of_each``)."""
    fig, axes = plt.subplots(n, 1, figsize=(12, 2.9 * n), sharex=True, squeeze=False, layout="constrained")
    for i, ax in enumerate(axes[:, 0]):
        full = [np.zeros((clean.shape[1], 128), bool) for _ in range(2)]
        for roll, source in zip(full, (clean[i], noisy[i])):
            roll[:, pitch_low : pitch_low + source.shape[1]] = source[..., 0] > 0
        bach, damaged = full
        struck = np.zeros_like(bach)
        ax = _roll_axes(PianoRoll((bach | damaged)[:, :, None], struck[:, :, None]), ax, margin=2)
        missing, stray = bach & ~damaged, damaged & ~bach
        _draw_layers(ax, struck, [
            ("left by the damage", bach & damaged, "#1f77b4", "black", 0.3),
            ("taken away: add back", missing, "#2ca02c", "black", 0.3),
            ("stray: remove", stray, "none", "#d62728", 1.2)])
        ax.set_title(f"example {i + 1}: {int(missing.sum()) + int(stray.sum())} cells to flip: "
                     f"{int(missing.sum())} to add back (green), {int(stray.sum())} stray to remove (red)",
                     loc="left", fontsize=10)
        ax.label_outer()
    return fig


SCORE_COLOURS = "magma"  # dark = the generator does not want the pitch, bright = it does
DECODED_EDGE, FAVOURITE, MELODY_LINE = "#00e5ff", "#7CFC00", "white"
CLEAR_WISH = 0.5  # a beat's best score above this (the bright half of the colours) may be a clear favourite,
CLEAR_MARGIN = 0.25  # if it is this much above every other pitch's score on the beat (a tie is no favourite)


def _clipped_notes(notes: list[Note], start: int, end: int) -> list[Note]:
    """The parts of ``notes`` that sound between steps ``start`` and ``end``."""
    clipped = [Note(max(n.start, start), n.pitch, min(n.start + n.length, end) - max(n.start, start)) for n in notes]
    return [n for n in clipped if n.length > 0]


def _shown_steps(melody: PianoRoll, bars: tuple[int, int] | None) -> np.ndarray:
    """The steps of ``bars`` (first, last, counted from 1; bar 1 includes a pickup), or all of the
    melody. Raises ValueError for bars the melody lacks."""
    if bars is None:
        return np.arange(melody.n_steps)
    first, last = bars
    if not 1 <= first <= last:
        raise ValueError(f"bars must be (first, last) with 1 <= first <= last, not {bars}")
    bar = melody.steps_per_bar
    start = 0 if first == 1 else min(melody.n_steps, melody.pickup_steps + (first - 1) * bar)
    end = min(melody.n_steps, melody.pickup_steps + last * bar)
    if start >= end:
        raise ValueError(f"the melody has no bar {first}")
    return np.arange(start, end)


def _voice_pitches(harmonizer: Harmonizer, evidence, v: int) -> tuple[int, int, int]:
    """For lower voice ``v`` (0 alto, 1 tenor, 2 bass): the lowest and highest pitch the generator
    can write, in the melody's frame, and the shift from there into the generator's frame."""
    config = harmonizer.config
    shift = 0 if harmonizer.roles.kinds[v + 1] == "drums" else evidence.shift
    return max(0, config.pitch_low - shift), min(127, config.pitch_low + config.n_pitches - 1 - shift), shift


def _beat_wishes(evidence, steps: np.ndarray, v: int, low: int, high: int, shift: int) -> tuple[np.ndarray, np.ndarray]:
    """The beats among ``steps`` and, for each, voice ``v``'s wish for every pitch from ``low`` to
    ``high``: its score averaged over the beat's first 8th, what the decoder weighs on the beat."""
    beats = steps[(evidence.pad + steps) % STEPS_PER_BEAT == 0]
    on_beat = evidence.scores[evidence.pad + beats[:, None] + np.arange(STEPS_PER_BEAT // 2)]
    return beats, on_beat[:, :, low + shift : high + shift + 1, v].mean(axis=1)


def clear_favourites(wishes: np.ndarray) -> np.ndarray:
    """For each beat's wishes (beats, pitches): whether one pitch is the clear favourite, its score
    above ``CLEAR_WISH`` and more than ``CLEAR_MARGIN`` above every other pitch's."""
    top = np.sort(wishes, axis=1)
    return (top[:, -1] > CLEAR_WISH) & (top[:, -1] - top[:, -2] > CLEAR_MARGIN)


def _bar_and_beat(melody: PianoRoll, evidence, step: int) -> tuple[int, int]:
    """The bar (counted from 1; 0 for a pickup) and the beat in it (from 1) of a beat's ``step``."""
    bar = melody.steps_per_bar
    return (step - melody.pickup_steps) // bar + 1, (evidence.pad + step) % bar // STEPS_PER_BEAT + 1


def plot_generator_scores(melody: PianoRoll, harmonizer: Harmonizer, bars: tuple[int, int] | None = None,
                          seed: int = 0) -> plt.Figure:
    """What the GAN wants beside what the decoder sings, for each voice (alto, tenor, bass).

    One heat map per voice: the generator's raw score (-1 to +1, averaged over the overlapping
    2-bar windows) for every 16th step and every pitch the generator can write; the notes the
    decoder chose for that voice as outlines; a dot on each beat where the generator has a clear
    favourite (``clear_favourites`` of its scores over the beat's first 8th, what the decoder
    weighs on the beat); the voice's singing range as dashed lines; the melody as a thin line.
    ``bars`` (first, last, counted from 1 as the bar numbers; bar 1 includes a pickup) shows part
    of a longer melody, decoded whole, so its voices are those of ``harmonizer(melody, seed)``.
    The legend and colour bar sit outside the maps. Raises ValueError for bars the melody lacks.
    """
    evidence, parts = harmonizer.explain(melody, seed)
    bar = melody.steps_per_bar
    steps = _shown_steps(melody, bars)
    start, end = int(steps[0]), int(steps[-1]) + 1
    kinds = harmonizer.roles.kinds
    tune = top_pitches(melody.sounding[:, :, 0])[start:end].astype(float)
    tune[tune < 0] = np.nan

    width = min(14.0, max(8.0, (end - start) / 6))
    fig, axes = plt.subplots(3, 1, figsize=(width, 10.0), sharex=True, layout="constrained")
    for v, ax in enumerate(axes):
        low, high, shift = _voice_pitches(harmonizer, evidence, v)  # the scores are in the generator's frame
        scores = evidence.scores[evidence.pad + steps][:, low + shift : high + shift + 1, v]  # (steps, pitches)
        image = ax.imshow(scores.T, origin="lower", aspect="auto", interpolation="nearest", cmap=SCORE_COLOURS,
                          vmin=-1.0, vmax=1.0, extent=(start, end, low - 0.5, high + 0.5))

        sung = _clipped_notes(parts.notes(v + 1), start, end)
        for note in sung:
            ax.add_patch(Rectangle((note.start, note.pitch - 0.5), note.length, 1.0, facecolor="none",
                                   edgecolor=DECODED_EDGE, linewidth=1.6, gid="decoded note"))
        beats, wishes = _beat_wishes(evidence, steps, v, low, high, shift)
        picks = low + wishes.argmax(axis=1)
        sounding = parts.sounding[:, :, v + 1]
        clear = sounding[beats].any(axis=1) & clear_favourites(wishes)
        followed = sounding[beats[clear], picks[clear]]
        ax.plot(beats[clear] + 1.0, picks[clear], linestyle="none", marker="o", markersize=5,
                markerfacecolor=FAVOURITE, markeredgecolor="black", markeredgewidth=0.6, gid="favourite")
        ax.plot(np.append(steps, end), np.append(tune, tune[-1]), drawstyle="steps-post", color=MELODY_LINE,
                linewidth=1.1, alpha=0.9, gid="melody")
        if kinds[v + 1] != "drums":
            range_low, range_high = harmonizer.voice_ranges[v + 1]
            for edge in (range_low - shift - 0.5, range_high - shift + 0.5):
                ax.axhline(edge, color="white", linestyle="--", linewidth=0.8, alpha=0.7)

        for bar_line in range(melody.pickup_steps % bar, end + 1, bar):
            if bar_line >= start:
                ax.axvline(bar_line, color="grey", linewidth=1.0, alpha=0.9)
        labelled = LABELLED_PITCH_CLASSES[high - low > 24]
        ticks = [p for p in range(low, high + 1) if p % 12 in labelled]
        ax.set_yticks(ticks, [pitch_name(p) for p in ticks])
        ax.set_yticks(range(low, high + 1), minor=True)  # one small tick per semitone, to count rows by
        ax.set_ylabel("pitch")
        name = parts.names[v + 1].lower()
        ax.set_title(f"{name}: the GAN has a clear favourite (dot) on {int(clear.sum())} beats; "
                     f"the decoder sang it on {int(followed.sum())}", loc="left", fontsize=10)

    labels = [f"bar {number}" if beat == 1 else str(beat)  # the beats are the same in every panel
              for number, beat in (_bar_and_beat(melody, evidence, t) for t in beats)]
    axes[-1].set_xticks(beats, labels, fontsize=8)
    axes[-1].set_xlim(start, end)
    axes[-1].set_xlabel("beats of each bar (each beat is four 16th-note steps; grey lines are bar lines)")
    _legend_outside(axes[0], [
        Patch(facecolor="none", edgecolor=DECODED_EDGE, linewidth=1.6, label="note the decoder chose"),
        Line2D([], [], linestyle="none", marker="o", markersize=6, markerfacecolor=FAVOURITE,
               markeredgecolor="black", label="the GAN's clear favourite\non a beat"),
        Line2D([], [], color=MELODY_LINE, linewidth=1.1, label="the melody"),
        Line2D([], [], color="white", linestyle="--", linewidth=0.8, label="where this voice\nmay sing"),
    ])
    legend = axes[0].get_legend()
    legend.get_frame().set(facecolor="black", alpha=1.0)
    legend.set_frame_on(True)
    for text in legend.get_texts():
        text.set_color("white")
    bar_colour = fig.colorbar(image, ax=axes, location="bottom", shrink=0.5, aspect=40, pad=0.01)
    bar_colour.set_ticks([-1, 0, 1], labels=["-1: not at all", "0", "+1: very much"])
    bar_colour.set_label("colour: how much the GAN wants this pitch for this voice")
    fig.suptitle("Inside the harmonizer: the GAN's wishes (colour) and the decoder's choices (outlines)")
    return fig


def generator_score_examples(melody: PianoRoll, harmonizer: Harmonizer, bars: tuple[int, int] | None = None,
                             seed: int = 0) -> list[str]:
    """Two beats of ``plot_generator_scores``'s picture, read from the same scores: the first where
    a voice sings and the GAN wants two or more pitches about as much (a bright score, no clear
    favourite), and the first where the decoder did not sing the GAN's clear favourite; each with
    the scores and the note the decoder sang, or a sentence saying there is none."""
    evidence, parts = harmonizer.explain(melody, seed)
    steps = _shown_steps(melody, bars)
    undecided: str | None = None
    overruled: str | None = None
    for v in range(3):
        low, high, shift = _voice_pitches(harmonizer, evidence, v)
        beats, wishes = _beat_wishes(evidence, steps, v, low, high, shift)
        clear = clear_favourites(wishes)
        sounding = parts.sounding[:, :, v + 1]
        for t, wish, is_clear in zip(beats, wishes, clear):
            sang = [int(p) for p in np.nonzero(sounding[t])[0]]
            if not sang:
                continue
            number, beat = _bar_and_beat(melody, evidence, int(t))
            where = f"{parts.names[v + 1].lower()}, {f'bar {number}' if number else 'the pickup'}, beat {beat}"
            sung = " and ".join(map(pitch_name, sang))
            order = np.argsort(wish)[::-1]
            if undecided is None and not is_clear and wish[order[0]] > CLEAR_WISH:
                rivals = [p for p in order if wish[p] >= wish[order[0]] - CLEAR_MARGIN][:3]
                scored = [f"{pitch_name(low + p)} {wish[p]:.2f}" for p in rivals]
                undecided = (f"No clear favourite ({where}): the GAN scores {', '.join(scored[:-1])} and {scored[-1]}; "
                             f"the decoder sang {sung}.")
            elif overruled is None and is_clear and low + order[0] not in sang:
                overruled = (f"Overruled ({where}): the GAN clearly favours {pitch_name(low + order[0])} ({wish[order[0]]:.2f}; "
                             f"next best {pitch_name(low + order[1])}, {wish[order[1]]:.2f}); the decoder sang {sung}.")
    return [undecided or (f"On no beat here does the GAN score two pitches within {CLEAR_MARGIN} of each other "
                          f"above {CLEAR_WISH}: where a voice sings, it wants one pitch clearly, or none."),
            overruled or "On every beat with a dot the decoder sang the GAN's favourite."]


def plot_attention(weights: np.ndarray, names: list[str], place: int, layer: int) -> plt.Figure:
    """What each head of one layer looks at while writing the word at ``place``: one row per head,
    one column per word before it (darker: more attention). ``weights`` as
    ``transformer.attention_weights`` gives them, ``names`` the words as people read them."""
    rows = weights[layer, :, place, : place + 1]
    figure, ax = plt.subplots(figsize=(min(18, 1 + 0.32 * (place + 1)), 0.5 + 0.45 * len(rows)))
    ax.imshow(rows, cmap="Blues", aspect="auto", vmin=0, vmax=rows.max())
    ax.set_xticks(range(place + 1), names[: place + 1], rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)), [f"head {h + 1}" for h in range(len(rows))])
    ax.set_title(f"layer {layer + 1}: where each head looks while writing word {place + 2} "
                 f"(after '{names[place]}')", fontsize=9)
    figure.tight_layout()
    return figure
