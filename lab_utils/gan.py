"""A melody-conditioned WGAN-GP that adds alto, tenor and bass to a melody.

The generator is a U-Net: the melody goes down through strided convolutions, meets the noise
at the bottom, and comes back up with skip connections as three voices. The critic sees the
four voices together and scores how Bach-like they are. One training iteration is
``critic_steps`` critic updates and one generator update (WGAN-GP, gradient penalty 10).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import keras
import tensorflow as tf
from keras import layers

from .chorales import BACH_ROLES, GAN_WINDOW_STEPS, Roles
from .gan_config import (CONFIGS, GENERATOR_TFLITE, GENERATOR_WEIGHTS, SHIPPED_MODEL, GanConfig, crop,
                         generator_folder, read_generator_config)
from .runtime import export_tflite

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
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
        skips.append(x)
    x = layers.Concatenate()([x, noise])
    for level in (2, 1, 0):
        x = layers.Conv2DTranspose(config.filters * 2**level, 4, strides=2, padding="same")(x)
        x = layers.BatchNormalization()(x)
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

    def compile(self, critic_optimizer: keras.optimizers.Optimizer,
                generator_optimizer: keras.optimizers.Optimizer) -> None:
        super().compile()
        self.critic_optimizer = critic_optimizer
        self.generator_optimizer = generator_optimizer

    @property
    def metrics(self) -> list:
        return [self.critic_loss_tracker, self.generator_loss_tracker, self.wasserstein_tracker]

    def _noise(self, n: int) -> tf.Tensor:
        return tf.random.normal((n, *self.config.latent_shape))

    def _gradient_penalty(self, real: tf.Tensor, fake: tf.Tensor) -> tf.Tensor:
        alpha = tf.random.uniform((tf.shape(real)[0], 1, 1, 1))
        mixed = real + alpha * (fake - real)
        with tf.GradientTape() as tape:
            tape.watch(mixed)
            score = self.critic(mixed, training=True)
        grads = tape.gradient(score, mixed)
        norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-12)
        return tf.reduce_mean(tf.square(norm - 1.0))

    def train_step(self, windows: tf.Tensor) -> dict:
        """``windows``: (critic_steps * batch, 32, P, 4) in {-1, 1}, melody in track 0."""
        cfg = self.config
        chunks = tf.split(windows, cfg.critic_steps)
        for real in chunks:
            melody = real[..., :1]
            with tf.GradientTape() as tape:
                fake = tf.concat([melody, self.generator([melody, self._noise(cfg.batch_size)],
                                                         training=True)], axis=-1)
                real_score = tf.reduce_mean(self.critic(real, training=True))
                fake_score = tf.reduce_mean(self.critic(fake, training=True))
                penalty = self._gradient_penalty(real, fake)
                critic_loss = fake_score - real_score + cfg.gradient_penalty * penalty
            grads = tape.gradient(critic_loss, self.critic.trainable_variables)
            self.critic_optimizer.apply_gradients(zip(grads, self.critic.trainable_variables))
        real = chunks[-1]
        melody = real[..., :1]
        with tf.GradientTape() as tape:
            voices = self.generator([melody, self._noise(cfg.batch_size)], training=True)
            fake_score = tf.reduce_mean(self.critic(tf.concat([melody, voices], -1), training=True))
            generator_loss = -fake_score
            if cfg.reconstruction:
                generator_loss += cfg.reconstruction * tf.reduce_mean(tf.abs(voices - real[..., 1:]))
        grads = tape.gradient(generator_loss, self.generator.trainable_variables)
        self.generator_optimizer.apply_gradients(zip(grads, self.generator.trainable_variables))
        self.critic_loss_tracker.update_state(critic_loss)
        self.generator_loss_tracker.update_state(generator_loss)
        self.wasserstein_tracker.update_state(real_score - fake_score)
        return {m.name: m.result() for m in self.metrics}


def make_optimizers(config: GanConfig) -> tuple[keras.optimizers.Optimizer, keras.optimizers.Optimizer]:
    """Adam for the critic and the generator, with the config's rate and betas."""
    return tuple(keras.optimizers.Adam(config.learning_rate, beta_1=config.beta_1, beta_2=config.beta_2)
                 for _ in range(2))


def save_generator(generator: keras.Model, config: GanConfig, voice_ranges: list[tuple[int, int]],
                   folder: Path, lite_copy: bool = False, roles: Roles = BACH_ROLES, style: str = "bach") -> None:
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
    rows = ["| setting | " + " | ".join(CONFIGS) + " |", "|---|" + "---|" * len(CONFIGS)]
    for field in dataclasses.fields(GanConfig):
        if field.name != "name":
            rows.append(f"| {field.name} | " + " | ".join(str(getattr(c, field.name)) for c in CONFIGS.values()) + " |")
    rows.append("| latent shape | " + " | ".join(str(c.latent_shape) for c in CONFIGS.values()) + " |")
    counts = [(build_generator(c).count_params(), build_critic(c).count_params()) for c in CONFIGS.values()]
    rows.append("| generator parameters | " + " | ".join(f"{g:,}" for g, _ in counts) + " |")
    rows.append("| critic parameters | " + " | ".join(f"{c:,}" for _, c in counts) + " |")
    return "\n".join(rows)
