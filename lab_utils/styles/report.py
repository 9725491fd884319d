"""What a build found, used and skipped, how its roles look, and the style's own figures."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
import warnings

import numpy as np

from ..files import complete_folder
from ..metrics import FigureReference, distance_to_bach, figures, stored_reference
from ..midi import PianoRoll
from ..motion import LOWER
from ..pieces import SPLITS, PieceDataset
from .places import REPORT_FILE, style_folder

__all__ = ["ANY_METER", "StyleReport", "skip_group", "window_figures", "role_figures", "report_picture",
           "read_report", "read_reference", "distance_parts", "deciding_figures"]

ANY_METER = "any"


@dataclass
class StyleReport:
    """What a build found, used and skipped, and how its roles look (``report.json``)."""

    name: str
    source: str
    found: int = 0
    used: int = 0
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason group -> labels
    reasons: dict[str, str] = field(default_factory=dict)  # label -> the whole reason
    layout: str = "voices"
    meter: tuple[int, int] | str = (4, 4)
    tempo_changes: int = 0  # files with tempo changes (the 16th grid counts beats, so they are harmless)
    pieces: dict[str, int] = field(default_factory=dict)  # per split
    windows: dict[str, int] = field(default_factory=dict)  # GAN windows per split
    roles: list[dict] = field(default_factory=list)  # name, kind, program, range, notes per bar, empty share
    # the style's own figures: mean and spread of each of metrics.FIGURES over the test split
    reference: dict[str, list[float]] = field(default_factory=dict)
    # how the three lower parts move, on the beats of the style's meter (``motion.MOTION_FIGURES``)
    motion: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}

    def table(self) -> str:
        """The report as lines for the terminal."""
        lines = [f"{self.name}: {self.found} files found, {self.used} used, "
                 f"{self.found - self.used} skipped ({self.seconds:.1f} s)"]
        for group, labels in sorted(self.skipped.items(), key=lambda kv: -len(kv[1])):
            example = labels[0]
            lines.append(f"  skipped {len(labels):>5}  {group}  (e.g. {example}: {self.reasons[example]})")
        meter = self.meter if self.meter == ANY_METER else f"{self.meter[0]}/{self.meter[1]}"
        lines.append(f"layout {self.layout}, meter {meter}"
                     + (f", {self.tempo_changes} file(s) change tempo (harmless: the grid counts beats)"
                        if self.tempo_changes else ""))
        lines.append("split        " + "  ".join(f"{s:>6}" for s in SPLITS))
        lines.append("pieces       " + "  ".join(f"{self.pieces.get(s, 0):>6}" for s in SPLITS))
        lines.append("GAN windows  " + "  ".join(f"{self.windows.get(s, 0):>6}" for s in SPLITS))
        lines.append(f"{'role':<14}{'kind':<8}{'range':<10}{'notes/bar':>10}{'empty windows':>15}")
        for role in self.roles:
            low, high = role["range"]
            lines.append(f"{role['name']:<14}{role['kind']:<8}{f'{low}-{high}':<10}"
                         f"{role['notes_per_bar']:>10.2f}{role['empty_windows']:>14.0%}")
        if self.motion:
            m = self.motion
            lines.append("motion on the meter's beats: " + "; ".join(
                f"{role['name']} notes last {m[f'{voice}_quarters']:.1f} quarters, a new one starts on "
                f"{m[f'{voice}_moves']:.0%} of the beats it sings" for role, voice in zip(self.roles[1:], LOWER))
                + f"; of the beats where any of the three starts a note, all three do on {m['together']:.0%}, "
                f"one alone on {m['alone']:.0%}")
        return "\n".join(lines)


def skip_group(reason: str) -> str:
    """The report's group of a skip reason: its words before the first colon (unreadable, voices,
    other meter, other layout, too short, duplicate, mapping), or all of it (only drums, no melody)."""
    return reason.split(":")[0]


def window_figures(dataset: PieceDataset) -> tuple[dict[str, int], list[float], tuple | None]:
    """GAN windows per split, each role's share of training windows it is silent in, and three
    windows for the picture (sounding, onsets and each one's meter): one piece at a time, so
    memory does not grow with the folder."""
    counts, silent, shown = {}, np.zeros(4), []
    for split in SPLITS:
        pieces = dataset.split(split)
        picks = set(np.linspace(0, len(pieces) - 1, 3).astype(int).tolist()) if pieces else set()
        counts[split] = 0
        for i, piece in enumerate(pieces):
            sounding, onsets = dataset.piece_windows(piece)
            counts[split] += len(sounding)
            if split == "train":
                silent += (~sounding.any(axis=(1, 2))).sum(axis=0)
            if i in picks and len(sounding) and len(shown) < 3:
                shown.append((sounding[len(sounding) // 2], onsets[len(sounding) // 2], piece.time_signature))
    empty = (silent / counts["train"]).tolist() if counts["train"] else [1.0] * 4
    picture = (np.stack([w for w, _, _ in shown]), np.stack([o for _, o, _ in shown]),
               [m for *_, m in shown]) if shown else None
    return counts, empty, picture


def role_figures(dataset: PieceDataset, empty: list[float]) -> list[dict]:
    """Per role: name, kind, program, range, notes per bar and the share of GAN windows it is silent in."""
    bars = sum((c.n_steps - c.pickup_steps) / c.steps_per_bar for c in dataset.pieces)
    notes = np.concatenate([c.notes for c in dataset.pieces])
    ranges = dataset.voice_ranges("train") if dataset.split("train") else [(0, 0)] * 4
    return [{"name": dataset.roles.names[v], "kind": dataset.roles.kinds[v], "program": int(dataset.roles.programs[v]),
             "range": list(ranges[v]), "notes_per_bar": round(float((notes[:, 0] == v).sum() / max(bars, 1)), 2),
             "empty_windows": round(empty[v], 3)} for v in range(4)]


def report_picture(dataset: PieceDataset, windows: tuple | None, path: Path) -> None:
    """Three windows (``window_figures``' picture) as piano rolls, one colour per role, their
    bars in each piece's meter."""
    if windows is None:
        return
    import matplotlib.pyplot as plt

    from ..plots import plot_windows  # heavy (matplotlib)

    sounding, onsets, meters = windows
    figure = plot_windows(sounding, onsets, n=3, names=list(dataset.roles.names), meters=meters)
    figure.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(figure)


def read_report(name: str) -> StyleReport:
    """The report of a built style (its ``report.json``)."""
    data = json.loads((complete_folder(style_folder(name)) / REPORT_FILE).read_text())
    return StyleReport(**{**data, "meter": data["meter"] if data["meter"] == ANY_METER else tuple(data["meter"])})


def read_reference(folder: Path, load: Callable[[], PieceDataset]) -> FigureReference:
    """A style's own figures (mean and spread over its test split) as its build stored them in
    ``folder``'s report; where the report is missing or damaged, computed from ``load()``'s test
    split the same way, and a warning says so."""
    path = folder / REPORT_FILE
    try:
        stored = json.loads(path.read_text())["reference"]
    except (OSError, ValueError, KeyError, TypeError):
        warnings.warn(f"{path} is missing or damaged: the reference figures are computed from the test split "
                      "(building the style again writes the file)", stacklevel=3)
        stored = stored_reference(c.roll() for c in load().split("test"))
    return {f: (mean, spread) for f, (mean, spread) in stored.items()}


def distance_parts(pieces: list[PianoRoll], reference: FigureReference) -> dict[str, float]:
    """What each figure adds to the mean distance of ``pieces`` to a style (``metrics.distance_to_bach``
    against its ``reference``, averaged over pieces, as ``evaluate.cross_style`` measures it): its
    term, over the figures a piece counts, averaged over pieces. The parts add up to the distance."""
    parts = dict.fromkeys(reference, 0.0)
    for values in (figures(roll) for roll in pieces):
        counted = [f for f in reference if not np.isnan(values[f])]
        for f in counted:
            parts[f] += distance_to_bach(values, {f: reference[f]}) / len(counted) / len(pieces)
    return parts


def deciding_figures(harmonized: dict[str, dict[str, list[PianoRoll]]], references: dict[str, FigureReference]) -> str:
    """For each model and source of melodies (``harmonized[model][source]``: its pieces), which
    style's figures (``references``) it lands nearest, and the figure that decides it: the one whose
    part of the distance to the runner-up style exceeds its part of the distance to the nearest
    by most. Then the figure that adds most to each distance."""
    lines = []
    for model, by_source in harmonized.items():
        for source, pieces in by_source.items():
            parts = {style: distance_parts(pieces, reference) for style, reference in references.items()}
            nearest, runner_up = sorted(parts, key=lambda style: sum(parts[style].values()))[:2]
            near, far = parts[nearest], parts[runner_up]
            decides = max(near, key=lambda f: far[f] - near[f])
            largest = "; ".join(f"to {style}: `{max(p, key=p.get)}` ({max(p.values()):.2f} of {sum(p.values()):.2f})"
                                for style, p in parts.items())
            who = model if model.lower().startswith("your") else f"the {model}"
            lines.append(f"- On {source}'s melodies {who} is nearer {nearest} ({sum(near.values()):.2f}, against "
                         f"{sum(far.values()):.2f} from {runner_up}), decided most by `{decides}`: it adds "
                         f"{near[decides]:.2f} to the distance from {nearest} and {far[decides]:.2f} to the one from "
                         f"{runner_up}. The figure that adds most to each distance, {largest}.")
    return "\n".join(lines)
