"""Training-run folders: checked before TensorFlow loads, never overwritten, their log kept in
step with the checkpoint a run resumes from, and the model a training lab chose kept for the labs
after it.

The rule the labs follow: a training lab (2, 4, 9) decides which model the labs after it use.
Training there, or keeping a run already there, makes it your run (once it logged a chunk or an
epoch); ``USE_SHIPPED = True`` makes it the shipped model, even where an older run sits in the
folder, until the lab is run again with ``USE_SHIPPED = False``. A run with quick settings
(``LAB_QUICK=1``, the tests) trains in ``runs/quick/``, which no lab after it reads: it never
replaces your run nor feeds a real session."""

from __future__ import annotations

import csv
import math
import statistics
from pathlib import Path

from .files import atomic_path

__all__ = ["TrainingError", "check_run_folder", "training_folder", "choose_run", "finished_run", "trim_log", "log_history",
           "describe_curves", "largest_jump", "jump_sentence", "loss_health", "log_beside_test", "log_against_now", "beside_level",
           "SHIPPED_CHOSEN", "QUICK_FOLDER"]

SHIPPED_CHOSEN = "use_shipped.txt"  # in a run folder: its training lab chose the shipped model instead
QUICK_FOLDER = "quick"  # under runs/: the training labs' quick (test) runs


class TrainingError(ValueError):
    """A training request that cannot be carried out (one line for the user)."""


def check_run_folder(folder: Path, resume: bool, marker: str) -> None:
    """A new run needs a folder without ``marker`` (its checkpoint); resuming needs one."""
    has_run = (folder / marker).exists() or (folder / f"{marker}.old").exists()
    if has_run and not resume:
        raise TrainingError(f"{folder} already holds a training run; add --resume to continue it "
                            "or choose another folder")
    if resume and not has_run:
        raise TrainingError(f"{folder} holds no run to resume")


def training_folder(root: Path, name: str, quick: bool) -> Path:
    """Where a training lab trains: ``runs/NAME`` under the workshop's ``root``, or with quick
    settings ``runs/quick/NAME``, a folder no later lab reads."""
    return Path(root) / "runs" / (QUICK_FOLDER if quick else "") / name


def choose_run(folder: Path, use_shipped: bool) -> None:
    """Keep a training lab's choice for the labs after it: with ``use_shipped`` they use the
    shipped model even where ``folder`` holds a run (a note in it says so); without, the run
    in ``folder`` once it logged a chunk or an epoch (``finished_run``)."""
    note = Path(folder) / SHIPPED_CHOSEN
    if not use_shipped:
        note.unlink(missing_ok=True)
    elif Path(folder).is_dir():  # no folder, no run to pass over
        note.write_text("USE_SHIPPED = True in this run's training lab: the labs after it use the shipped model\n")


def finished_run(folder: Path) -> str | None:
    """``folder`` if a training run has logged a chunk or an epoch there (a learner's own model)
    and its training lab did not choose the shipped model instead (``choose_run``), else None: a
    run stopped before its first one has a log of headers only, and its model folder may hold
    untrained weights (the AR-CNN and the Transformer write theirs before training)."""
    if (Path(folder) / SHIPPED_CHOSEN).exists():
        return None
    try:
        lines = [line for line in (Path(folder) / "log.csv").read_text().splitlines() if line.strip()]
    except OSError:
        return None
    return str(folder) if len(lines) > 1 else None


def _number(text: str | None) -> float | None:
    """A logged value as a number (``NA`` is NaN); None for a torn or missing field."""
    if text == "NA":
        return math.nan
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def trim_log(path: Path, column: str, last: float) -> list[dict[str, str]]:
    """Keep the CSV log's whole rows whose ``column`` is at most ``last``; returns them.

    Rows are logged before their checkpoint is written, so a run killed in between logged a
    chunk its checkpoint does not hold: resuming from the checkpoint trims it (and a line torn
    by the kill) so that the chunk is logged once, when it is trained again.
    """
    if not path.exists():
        return []
    with open(path, newline="") as file:
        lines = file.read().splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines.pop()  # torn by a kill

    def whole_and_kept(row: dict) -> bool:
        value = _number(row.get(column))
        return None not in row and None not in row.values() and value is not None and value <= last

    reader = csv.DictReader(lines)
    rows = [row for row in reader if whole_and_kept(row)]
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as file:
        if reader.fieldnames:
            writer = csv.DictWriter(file, fieldnames=reader.fieldnames)
            writer.writeheader()
            writer.writerows(rows)
    return rows


def log_history(rows: list[dict[str, str]]) -> dict[str, list[float]]:
    """Logged rows as a Keras history: every column with a number in each row, in order."""
    columns = [key for key in (rows[0] if rows else {}) if key != "epoch"
               and all(_number(row[key]) is not None for row in rows)]
    return {key: [_number(row[key]) for row in rows] for key in columns}


CURVE_WORDS = {"critic_loss": "the critic loss", "generator_loss": "the generator loss",
               "wasserstein": "the Wasserstein estimate", "distance": "the distance to the composer's figures",
               "told_apart": "the share of two-bar windows a classifier tells from the composer's own voices",
               "loss": "the training loss", "val_loss": "the validation loss",
               "val_bits_per_note": "the bits per note on the validation tunes",
               "val_markov_bits_per_note": "the Markov baseline's bits per note"}
STEADY = 0.05  # a curve whose end is within 5 % of its range from its start "stayed about level"


def describe_curves(log: dict, keys: tuple[str, ...], where: str = "iteration",
                    units: dict[str, str] | None = None) -> list[str]:
    """One sentence per logged curve: where it started and ended, its lowest and highest point,
    and which way it went, read from the numbers of this run (a notebook prints them under its
    plot, so the words always match the picture). Epochs are counted from 1, as the plots count
    them (Keras logs the first as epoch 0). ``units`` names a curve's unit, said after its name."""
    units = units or {}
    steps = _steps(log, where)
    sentences = []
    for key in keys:
        name = CURVE_WORDS.get(key, key) + (f" ({units[key]})" if key in units else "")
        points = [(step, float(v)) for step, v in zip(steps, log.get(key, [])) if not math.isnan(float(v))]
        if len(points) < 2:
            sentences.append(f"{name}: {len(points)} value{'' if len(points) == 1 else 's'} logged, too few to read a trend")
            continue
        values = [v for _, v in points]
        first, last = values[0], values[-1]
        (low_at, low), (high_at, high) = min(points, key=lambda p: p[1]), max(points, key=lambda p: p[1])
        way = "stayed about level" if abs(last - first) <= STEADY * max(high - low, 1e-9) else \
            "rose" if last > first else "fell"
        sentences.append(f"{name} {way}: from {first:.3g} to {last:.3g} over {len(values)} "
                         f"points (lowest {low:.3g} at {where} {low_at:g}, highest {high:.3g} at {where} {high_at:g})")
    return sentences


def _steps(log: dict, where: str) -> list[float]:
    """The x of each logged point: the log's ``where`` column (epochs counted from 1), else 1, 2, ..."""
    if where in log:
        return [step + 1 if where == "epoch" else step for step in log[where]]
    return list(range(1, len(next(iter(log.values()), [])) + 1))


def largest_jump(log: dict, key: str, where: str = "iteration") -> tuple[float, float, float, float] | None:
    """The largest change of curve ``key`` between two neighbouring logged points (NaN left out):
    (the step before, the step after, the value before, the value after); None under two points."""
    points = [(step, float(v)) for step, v in zip(_steps(log, where), log.get(key, [])) if not math.isnan(float(v))]
    if len(points) < 2:
        return None
    (before, a), (after, b) = max(zip(points, points[1:]), key=lambda pair: abs(pair[1][1] - pair[0][1]))
    return before, after, a, b


def jump_sentence(log: dict, key: str, where: str = "iteration") -> str:
    """How much curve ``key`` moved at most between two neighbouring points, read from the log:
    the size of its noise, against which a trend is read."""
    name = CURVE_WORDS.get(key, key)
    jump = largest_jump(log, key, where)
    if jump is None:
        return f"{name}: too few values logged to see how far it moves between neighbouring points"
    before, after, a, b = jump
    return (f"{name} moved at most {abs(b - a):.3g} between neighbouring points ({a:.3g} at {where} {before:g}, "
            f"{b:.3g} at {where} {after:g}): a change smaller than that is noise, read the trend over several points")


HUGE = 100.0  # a loss beyond ±100 ("hundreds or thousands") has blown up
SUDDEN = 5.0  # a jump this many times a curve's median change between neighbouring points is sudden


def loss_health(log: dict, key: str, where: str = "iteration") -> str:
    """A verdict on loss curve ``key``, read from the log: NaN (training broke), a value beyond
    ``HUGE``, or a sudden jump (over ``SUDDEN`` times the curve's median change between neighbours)
    that takes it farther from its median level than it had been: "look there"; else a drift, with
    its start, end and largest jump."""
    name = CURVE_WORDS.get(key, key)
    points = [(step, float(v)) for step, v in zip(_steps(log, where), log.get(key, []))]
    broken = [step for step, v in points if math.isnan(v)]
    if broken:
        return f"{name}: NaN at {where} {broken[0]:g}: training has broken there; restart the run"
    huge = [(step, v) for step, v in points if abs(v) > HUGE]
    if huge:
        return f"{name} reaches {huge[0][1]:.3g} at {where} {huge[0][0]:g}, beyond ±{HUGE:g}: it has blown up; look there"
    if len(points) < 3:
        return f"{name}: {len(points)} value{'' if len(points) == 1 else 's'} logged, too few to tell a drift from a jump"
    values = [v for _, v in points]
    level = statistics.median(values)
    typical = max(statistics.median(abs(b - a) for a, b in zip(values, values[1:])), 1e-9)
    for i in range(1, len(values)):
        change = values[i] - values[i - 1]
        if abs(change) > SUDDEN * typical and abs(values[i] - level) > max(abs(v - level) for v in values[:i]):
            return (f"{name}: a jump of {change:+.3g} at {where} {points[i][0]:g} ({values[i - 1]:.3g} -> {values[i]:.3g}, "
                    f"{abs(change) / typical:.0f} times its usual change between neighbouring points), away from its "
                    "usual level: look there")
    before, after, a, b = largest_jump(log, key, where)  # type: ignore[misc]  # three points or more
    return (f"{name}: drift, not a blow-up: from {values[0]:.3g} to {values[-1]:.3g} over {len(values)} points, no NaN, "
            f"nothing beyond ±{HUGE:g}; its largest jump, {b - a:+.3g} from {where} {before:g} to {after:g}, "
            + (f"brought it nearer its usual level ({level:.3g})" if abs(b - level) < abs(a - level) else
               f"is no blow-up either: under {SUDDEN:g} times its usual change, or no farther from its usual level "
               f"({level:.3g}) than it had been"))


AGREE = 0.25  # a logged figure within a quarter of the composer's spread of today's agrees with it


def log_against_now(log: dict, now: list[dict[str, float]], reference: dict[str, tuple[float, float]],
                    composer: str = "Bach") -> str:
    """The figures of a GAN log's last point beside the same generator's today, read from the
    numbers: ``now`` holds ``metrics.figures`` of the melodies training watched, harmonized by
    the model as it runs now; ``reference`` the composer's (mean, spread) of each figure. A log
    keeps what the decoder of its day sang: where a figure differs by more than ``AGREE`` of the
    composer's spread, the decoder (or the model) has changed since the log was written."""
    counted = {f: [v[f] for v in now if not math.isnan(v[f])] for f in reference if f in log}
    names = [f for f, values in counted.items() if values and not math.isnan(float(log[f][-1]))]
    today = {f: statistics.fmean(counted[f]) for f in names}
    logged = {f: float(log[f][-1]) for f in names}
    where = f"iteration {int(log['iteration'][-1])}" if "iteration" in log else "its last point"
    said = (f"The log at {where} against the same generator on the same {len(now)} validation melodies today "
            "(logged -> today): " + ", ".join(f"{f.replace('_', ' ')} {logged[f]:.2f} -> {today[f]:.2f}" for f in names)
            + ".")
    differ = [f.replace("_", " ") for f in names if abs(logged[f] - today[f]) > AGREE * reference[f][1]]
    if not differ:
        return said + " They agree: the log measured the harmonizer you hear in this lab."
    return (said + f" They differ on {', '.join(differ)} (by more than a quarter of {composer}'s spread): the log "
            "holds what the harmonizer sang when it was written, with the decoder of that day; you hear today's.")


def log_beside_test(log: dict, melodies: int, bars: int, accuracy: float, windows: int,
                    where: str = "iteration") -> str:
    """Why a GAN log's last "told apart" figure and a test on other pieces differ, with both
    numbers: the log's classifier saw ``melodies`` validation melodies (their first ``bars`` bars)
    after each chunk; the test measured ``accuracy`` on ``windows`` two-bar windows of others."""
    logged = [(step, float(v)) for step, v in zip(_steps(log, where), log.get("told_apart", []))
              if not math.isnan(float(v))]
    tested = f"This table's {accuracy:.1%} comes from the test split's chorales, {windows} two-bar windows, both sides together"
    if not logged:
        return f"{tested}; this model's training log holds no such figure (it was written before training measured it)."
    step, value = logged[-1]
    return (f"The training log ended at {value:.1%} told apart ({where} {step:g}), measured on {melodies} validation "
            f"melodies, the first {bars} bars of each. {tested}: other pieces, each whole, so the two "
            "figures differ.")


def beside_level(name: str, value: float, low: float, high: float, level: str) -> str:
    """Where a logged ``value`` ends against a reference range (``low``..``high``, e.g. the loss
    of a model that has no idea), in one sentence read from the numbers."""
    where = "below" if value < low else "inside" if value <= high else "above"
    meaning = {"below": "better than no idea", "inside": "no better than no idea yet",
               "above": "worse than no idea"}[where]
    return f"{name} is {value:.3g}: {where} {level} ({low:.3g}-{high:.3g}), {meaning}"
