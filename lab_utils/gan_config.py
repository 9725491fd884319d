"""The GAN's settings and where a trained generator is saved: what inference needs, without
TensorFlow (the networks themselves are in ``gan``)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .pieces import CHOIR_ROLES, GAN_WINDOW_STEPS, Roles
from .files import MODELS_DIR, REPOSITORY, complete_folder
from .midi import pitch_name
from .runs import TrainingError

__all__ = ["GanConfig", "CONFIGS", "crop", "fits", "fit_crop", "run_config", "CHECKPOINT", "SHIPPED_MODEL", "measured_speed", "GENERATOR_WEIGHTS", "GENERATOR_TFLITE",
           "generator_folder", "read_generator_config", "read_generator_style"]

GENERATOR_WEIGHTS = "generator.weights.h5"  # the Keras weights, to train on
GENERATOR_TFLITE = "generator.tflite"  # the LiteRT copy, to run
CHECKPOINT = "checkpoint"  # a training run's GAN state, with the config the run trains with


def _setting(meaning: str, default: Any = dataclasses.MISSING) -> Any:
    """A config field with what it sets in plain words (``config_table`` prints them)."""
    return field(default=default, metadata={"meaning": meaning})


@dataclass(frozen=True)
class GanConfig:
    """Architecture and training hyper-parameters of one GAN."""

    name: str
    pitch_low: int = _setting("the lowest pitch the GAN sees (MIDI number; 36 is C2)")
    n_pitches: int = _setting("how many pitches it sees, upwards from the lowest")
    filters: int = _setting("the generator's width: patterns learned at its first level, doubled per level")
    critic_filters: int = _setting("the same for the critic")
    latent_channels: int = _setting("numbers of random noise per cell of the generator's middle")
    batch_size: int = _setting("windows looked at per training step")
    critic_steps: int = _setting("critic updates per generator update")
    learning_rate: float = _setting("how big a step each update takes (Adam)")
    beta_1: float = _setting("Adam's memory of past steps' direction", default=0.5)
    beta_2: float = _setting("Adam's memory of past steps' size", default=0.9)
    gradient_penalty: float = _setting("how hard the critic is kept smooth (the GP of WGAN-GP)", default=10.0)
    reconstruction: float = _setting("weight of an L1 term pulling the output towards Bach's own voices "
                                     "(pix2pix style)", default=0.0)
    transpose: int = _setting("training windows moved up or down by up to this many semitones", default=0)

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        return (GAN_WINDOW_STEPS // 16, self.n_pitches // 16, self.latent_channels)


CONFIGS = {
    # The DeepComposer sample: 64 filters on 32x128, latent 2x8x512, batch 64, 5 critic steps.
    "reference": GanConfig("reference", pitch_low=0, n_pitches=128, filters=64, critic_filters=64,
                           latent_channels=512, batch_size=64, critic_steps=5, learning_rate=1e-3),
    # Ours: the 4 octaves the chorales use, narrower layers, fewer critic steps, an L1 term.
    "default": GanConfig("default", pitch_low=36, n_pitches=48, filters=32, critic_filters=32,
                         latent_channels=64, batch_size=64, critic_steps=2, learning_rate=5e-4,
                         reconstruction=20.0, transpose=3),
}


def _span(ranges: list[tuple[int, int]]) -> tuple[int, int]:
    """The lowest and the highest pitch of the parts' ranges."""
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


def fits(config: GanConfig, ranges: list[tuple[int, int]]) -> bool:
    """Whether every part's range lies inside the config's pitch window."""
    low, high = _span(ranges)
    return config.pitch_low <= low and high < config.pitch_low + config.n_pitches


def fit_crop(config: GanConfig, ranges: list[tuple[int, int]]) -> GanConfig:
    """The config, its pitch axis widened (in steps of 16, centred) where a style's parts reach
    beyond it: a band's bass below C2, a drum kit's cymbals. Bach's voices fit the default."""
    if fits(config, ranges):
        return config
    low, high = _span(ranges)
    n_pitches = min(128, 16 * -(-(high - low + 1) // 16))
    pitch_low = int(np.clip(low - (n_pitches - (high - low + 1)) // 2, 0, 128 - n_pitches))
    return dataclasses.replace(config, pitch_low=pitch_low, n_pitches=n_pitches)


def run_config(folder: Path, config_name: str, style: str, ranges: list[tuple[int, int]],
               resume: bool) -> GanConfig:
    """The config a training run in ``folder`` trains with, for one replica (``distribute.scaled_config``
    scales it): a new run's is ``CONFIGS[config_name]`` fitted to the style's ``ranges``
    (``fit_crop``); a resumed run's is the one saved in its checkpoint, pitch window included
    (the batch and learning rate the named config's, as the saved ones were scaled for that run's
    replicas). Raises TrainingError where the run was trained with another config or style, or
    where the style, rebuilt since, reaches outside the saved pitch window."""
    config = CONFIGS[config_name]
    if not resume:
        return fit_crop(config, ranges)
    checkpoint = complete_folder(folder / CHECKPOINT)
    try:
        saved, _ = read_generator_config(checkpoint)
        trained_on, _ = read_generator_style(checkpoint)
    except (OSError, ValueError, KeyError, TypeError) as exc:  # missing, torn, or not a GAN's
        raise TrainingError(f"{checkpoint}: no readable config.json ({type(exc).__name__}), nothing to resume") from None
    if saved.name != config_name:
        raise TrainingError(f"{folder} was trained with --config {saved.name}, not {config_name}")
    if trained_on != style:
        raise TrainingError(f"{folder} was trained on --data {trained_on}, not {style}")
    if not fits(saved, ranges):
        low, high = _span(ranges)
        raise TrainingError(
            f"{folder} was trained on pitches {pitch_name(saved.pitch_low)}-"
            f"{pitch_name(saved.pitch_low + saved.n_pitches - 1)}, and style {style}, rebuilt since, reaches "
            f"{pitch_name(low)}-{pitch_name(high)}: train it in a new folder (another -o)")
    return dataclasses.replace(saved, batch_size=config.batch_size, learning_rate=config.learning_rate)


def crop(windows: np.ndarray, config: GanConfig) -> np.ndarray:
    """Cut the pitch axis (axis 2) to the config's range."""
    return windows[:, :, config.pitch_low : config.pitch_low + config.n_pitches]


SHIPPED_MODEL = MODELS_DIR / "gan"


def generator_folder(path: str | Path | None = None) -> Path:
    """Where a generator is saved: a model folder, or a training run's ``generator``/``checkpoint``.

    ``None`` means the shipped model. Raises FileNotFoundError with a one-line reason.
    """
    base = Path(path) if path is not None else SHIPPED_MODEL
    for candidate in (base, base / "generator", base / CHECKPOINT):
        if (candidate / "config.json").is_file() and (candidate / GENERATOR_WEIGHTS).is_file():
            return candidate
    raise FileNotFoundError(f"{base}: no GAN model here (expected config.json and generator.weights.h5)")


def read_generator_config(folder: Path) -> tuple[GanConfig, list[tuple[int, int]]]:
    """A saved generator's config and the voice ranges it was trained on."""
    meta = json.loads((folder / "config.json").read_text())
    return GanConfig(**meta["config"]), [tuple(r) for r in meta["voice_ranges"]]


def read_generator_style(folder: Path) -> tuple[str, Roles]:
    """The style a saved generator was trained on and its roles (a model from before styles: Bach)."""
    meta = json.loads((folder / "config.json").read_text())
    return meta.get("style", "bach"), Roles.from_json(meta["roles"]) if "roles" in meta else CHOIR_ROLES


SPEED_RESULTS = REPOSITORY / "benchmarks" / "results.json"  # benchmarks/gan_speed.py records here


def measured_speed() -> str:
    """Seconds per iteration of the DeepComposer sample's configuration and ours, as
    ``benchmarks/gan_speed.py`` last measured them (one line; says so where it never ran)."""
    try:
        speed = json.loads(SPEED_RESULTS.read_text())["gan_speed"]
    except (OSError, ValueError, KeyError):
        return "not measured here yet: python benchmarks/gan_speed.py measures it"
    return (f"reference {speed['reference_s_per_iteration']:.2f} s per iteration, default "
            f"{speed['default_s_per_iteration']:.3f} s: {speed['speedup']:.0f}x faster "
            f"(benchmarks/gan_speed.py, {speed['machine']}, {speed['measured']})")
