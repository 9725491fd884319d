"""A melody-conditioned WGAN-GP that adds alto, tenor and bass to a melody.

The generator is a U-Net: the melody goes down through strided convolutions, meets the noise
at the bottom, and comes back up with skip connections as three voices. The critic sees the
four voices together and scores how Bach-like they are. One training iteration is
``critic_steps`` critic updates and one generator update (WGAN-GP, gradient penalty 10).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

from .pieces import CHOIR_ROLES, GAN_WINDOW_STEPS, Roles
from .gan_config import (CONFIGS, GENERATOR_TFLITE, GENERATOR_WEIGHTS, SHIPPED_MODEL, GanConfig, crop,
                         generator_folder, read_generator_config)
from .runtime import export_tflite, import_tensorflow

tf = import_tensorflow()  # TensorFlow's C++ start-up lines hidden, before Keras loads it
import keras  # noqa: E402
from keras import layers  # noqa: E402

__all__ = ["GanConfig", "CONFIGS", "build_generator", "build_critic", "HarmonyGAN",
           "crop", "save_generator", "load_generator", "generator_folder", "config_table",
           "make_optimizers", "SHIPPED_MODEL"]


def build_generator(config: GanConfig) -> keras.Model:
    """U-Net: melody (32, P, 1) and noise (2, P/16, L) -> alto, tenor, bass (32, P, 3) in [-1, 1]."""
    melody = keras.Input((GAN_WINDOW_STEPS, config.n_pitches, 1), name="melody")
    noise = keras.Input(config.latent_shape, name="noise")
    x, skips = melody, []
    for level in range(4):
        x = layers.Conv2D(config.filters * 2**level, 4, strides=2, padding="same")(x)
        x = layers.BatchNormalization(synchronized=True)(x)  # statistics over all replicas' windows
        x = layers.LeakyReLU(0.2)(x)
        skips.append(x)
    x = layers.Concatenate()([x, noise])
    for level in (2, 1, 0):
        x = layers.Conv2DTranspose(config.filters * 2**level, 4, strides=2, padding="same")(x)
        x = layers.BatchNormalization(synchronized=True)(x)
        x = layers.ReLU()(x)
        x = layers.Concatenate()([x, skips[level]])
    voices = layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh",
                                    name="voices")(x)
    return keras.Model([melody, noise], voices, name="generator")


def build_critic(config: GanConfig) -> keras.Model:
    """Four voices (32, P, 4) -> one score, higher for music more like Bach's."""
    music = keras.Input((GAN_WINDOW_STEPS, config.n_pitches, 4), name="four_voices")
    x = music
    for level in range(4):
        x = layers.Conv2D(config.critic_filters * 2**level, 4, strides=2, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
    score = layers.Dense(1)(layers.Flatten()(x))
    return keras.Model(music, score, name="critic")


class HarmonyGAN(keras.Model):
    """Generator and critic trained together by ``fit``; one step is one iteration."""

    def __init__(self, config: GanConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.generator = build_generator(config)
        self.critic = build_critic(config)
        self.critic_loss_tracker = keras.metrics.Mean(name="critic_loss")
        self.generator_loss_tracker = keras.metrics.Mean(name="generator_loss")
        self.wasserstein_tracker = keras.metrics.Mean(name="wasserstein")
        self.built = True  # both networks are built: no call() for fit to trace first

    def compile(self, critic_optimizer: keras.optimizers.Optimizer,
                generator_optimizer: keras.optimizers.Optimizer) -> None:
        super().compile()
        self.critic_optimizer = critic_optimizer
        self.generator_optimizer = generator_optimizer
        # their state now, under the strategy's scope: a distributed step cannot create variables
        critic_optimizer.build(self.critic.trainable_variables)
        generator_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self) -> list:
        return [self.critic_loss_tracker, self.generator_loss_tracker, self.wasserstein_tracker]

    def _gradient_penalty(self, real: tf.Tensor, fake: tf.Tensor, alpha: tf.Tensor) -> tf.Tensor:
        mixed = real + alpha[:, None, None, None] * (fake - real)
        with tf.GradientTape() as tape:
            tape.watch(mixed)
            score = self.critic(mixed, training=True)
        grads = tape.gradient(score, mixed)
        norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-12)
        return tf.reduce_mean(tf.square(norm - 1.0))

    def batch_parts(self) -> dict[str, tuple[int, ...]]:
        """What one row of a training batch holds, in order, each flattened (one tensor, not a
        dict: Keras averages a first batch across workers, which a dict fails on): the
        ``windows`` of each critic step in {-1, 1} (melody in track 0), the ``noise`` of each
        generator call and the ``alpha`` of each gradient penalty."""
        cfg = self.config
        return {"windows": (cfg.critic_steps, GAN_WINDOW_STEPS, cfg.n_pitches, 4),
                "noise": (cfg.critic_steps + 1, *cfg.latent_shape), "alpha": (cfg.critic_steps,)}

    def train_step(self, batch: tf.Tensor) -> dict:
        """One iteration on a batch (``training.window_batches``, rows as ``batch_parts`` says).

        Under a ``tf.distribute`` strategy each replica gets its share of the batch; its losses
        are divided by the replicas before the gradients, which the optimizers sum over replicas,
        so a step is the one a single device would take on the whole batch.
        """
        parts = self.batch_parts()
        sizes = [math.prod(shape) for shape in parts.values()]
        windows, noise, alpha = (tf.reshape(part, (-1, *shape)) for part, shape in
                                 zip(tf.split(batch, sizes, axis=1), parts.values()))
        cfg = self.config
        share = 1.0 / tf.distribute.get_replica_context().num_replicas_in_sync
        for step in range(cfg.critic_steps):
            real = windows[:, step]
            melody = real[..., :1]
            with tf.GradientTape() as tape:
                fake = tf.concat([melody, self.generator([melody, noise[:, step]], training=True)], axis=-1)
                real_score = tf.reduce_mean(self.critic(real, training=True))
                fake_score = tf.reduce_mean(self.critic(fake, training=True))
                penalty = self._gradient_penalty(real, fake, alpha[:, step])
                critic_loss = fake_score - real_score + cfg.gradient_penalty * penalty
                replica_loss = critic_loss * share
            grads = tape.gradient(replica_loss, self.critic.trainable_variables)
            self.critic_optimizer.apply_gradients(zip(grads, self.critic.trainable_variables))
        with tf.GradientTape() as tape:
            voices = self.generator([melody, noise[:, cfg.critic_steps]], training=True)
            fake_score = tf.reduce_mean(self.critic(tf.concat([melody, voices], -1), training=True))
            generator_loss = -fake_score
            if cfg.reconstruction:
                generator_loss += cfg.reconstruction * tf.reduce_mean(tf.abs(voices - real[..., 1:]))
            replica_loss = generator_loss * share
        grads = tape.gradient(replica_loss, self.generator.trainable_variables)
        self.generator_optimizer.apply_gradients(zip(grads, self.generator.trainable_variables))
        self.critic_loss_tracker.update_state(critic_loss)
        self.generator_loss_tracker.update_state(generator_loss)
        self.wasserstein_tracker.update_state(real_score - fake_score)
        results = {m.name: m.result() for m in self.metrics}
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            return {name: value[None] for name, value in results.items()}  # Keras averages workers' logs on axis 0
        return results


def make_optimizers(config: GanConfig) -> tuple[keras.optimizers.Optimizer, keras.optimizers.Optimizer]:
    """Adam for the critic and the generator, with the config's rate and betas."""
    return tuple(keras.optimizers.Adam(config.learning_rate, beta_1=config.beta_1, beta_2=config.beta_2)
                 for _ in range(2))


def save_generator(generator: keras.Model, config: GanConfig, voice_ranges: list[tuple[int, int]],
                   folder: Path, lite_copy: bool = False, roles: Roles = CHOIR_ROLES, style: str = "bach") -> None:
    """The generator's weights and the config needed to rebuild it, with the style and roles it
    was trained on; with ``lite_copy`` also its LiteRT copy (``generator.tflite``), which
    harmonizes without TensorFlow."""
    folder.mkdir(parents=True, exist_ok=True)
    generator.save_weights(folder / GENERATOR_WEIGHTS)
    meta = {"config": dataclasses.asdict(config), "voice_ranges": voice_ranges, "voices": list(roles.names),
            "style": style, "roles": roles.to_json()}
    (folder / "config.json").write_text(json.dumps(meta, indent=1))
    if lite_copy:
        export_tflite(generator, folder / GENERATOR_TFLITE)


def load_generator(folder: Path) -> tuple[keras.Model, GanConfig, list[tuple[int, int]]]:
    """Rebuild a saved generator; returns it with its config and the voice ranges."""
    config, ranges = read_generator_config(folder)
    generator = build_generator(config)
    generator.load_weights(folder / GENERATOR_WEIGHTS)
    return generator, config, ranges


def config_table() -> str:
    """The configs side by side as a Markdown table (with parameter counts), for the notebook."""
    rows = ["| setting | " + " | ".join(CONFIGS) + " | what it sets |", "|---|" + "---|" * (len(CONFIGS) + 1)]

    def row(name: str, values: list[object], meaning: str) -> None:
        rows.append(f"| {name} | " + " | ".join(map(str, values)) + f" | {meaning} |")

    for setting in dataclasses.fields(GanConfig):
        if setting.name != "name":
            row(setting.name, [getattr(c, setting.name) for c in CONFIGS.values()], setting.metadata["meaning"])
    row("latent shape", [c.latent_shape for c in CONFIGS.values()], "the noise block: time x pitch x channels")
    counts = [(build_generator(c).count_params(), build_critic(c).count_params()) for c in CONFIGS.values()]
    row("generator parameters", [f"{g:,}" for g, _ in counts], "numbers the generator learns")
    row("critic parameters", [f"{c:,}" for _, c in counts], "numbers the critic learns")
    return "\n".join(rows)
