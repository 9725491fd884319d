"""Run by tests/test_distribute.py in a process of its own (the CPU must be split into two
logical devices before TensorFlow starts): three GAN iterations on the same global batches under
the default strategy and under MirroredStrategy over both devices; prints their losses and
weights' distance as JSON."""

from __future__ import annotations

import json
import os

os.environ["LAB_CPU_REPLICAS"] = "2"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from lab_utils.chorales import load_dataset  # noqa: E402
from lab_utils.distribute import make_strategy, scaled_config  # noqa: E402
from lab_utils.gan import CONFIGS, HarmonyGAN  # noqa: E402
from lab_utils.training import window_batches  # noqa: E402


def main() -> None:
    dataset = load_dataset(progress=False)
    config = scaled_config(CONFIGS["default"], 2)  # the global batch both strategies train on
    results, weights = {}, {}
    for name, strategy in (("default", tf.distribute.get_strategy()), ("mirrored", make_strategy("mirrored"))):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            gan = HarmonyGAN(config)
            # plain SGD: a step is the gradient itself (Adam's first steps divide each gradient by
            # its own size, which turns float rounding into whole steps)
            gan.compile(keras.optimizers.SGD(0.01), keras.optimizers.SGD(0.01))
        start = gan.get_weights()
        history = gan.fit(window_batches(dataset, gan, 0, strategy), steps_per_epoch=1, epochs=3, verbose=0).history
        results[name] = {k: [float(x) for x in v] for k, v in history.items()}
        weights[name] = (start, gan.get_weights())
        results[f"{name}_replicas"] = strategy.num_replicas_in_sync
    start, trained = weights["default"]
    results["moved"] = max(float(np.abs(a - b).max()) for a, b in zip(start, trained))
    results["apart"] = max(float(np.abs(a - b).max()) for a, b in zip(trained, weights["mirrored"][1]))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
