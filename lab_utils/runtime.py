"""How a saved model runs at inference: its LiteRT copy, or its Keras model.

Every trained model is saved twice: Keras weights (for training on) and a ``.tflite`` copy that
Google's LiteRT runtime (``ai_edge_litert``) runs without importing TensorFlow, so a command
makes its first note in a blink. ``load_runner`` picks the LiteRT copy where LiteRT is installed
and the copy exists, and otherwise builds the Keras model, after one line saying why.
``LAB_RUNTIME=keras`` (or ``runtime="keras"``) asks for the Keras path on purpose. Both runners
take the model's inputs by name (``melody=..., noise=...``) and return its one output.
Training makes the copy with ``export_tflite`` (that half needs TensorFlow).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .files import atomic_path, quiet_stderr

__all__ = ["LiteRunner", "KerasRunner", "Runner", "load_runner", "as_runner", "export_tflite",
           "litert_installed", "import_tensorflow", "RUNTIMES"]

RUNTIMES = ("auto", "litert", "keras")
THREADS = 2  # the workshop's machines have two cores or more


def import_tensorflow() -> Any:
    """TensorFlow, imported with its C++ start-up lines (printed whatever the log level) hidden
    and its Python log kept to errors (no "INFO:tensorflow: Assets written" in a notebook). Its C++
    INFO lines ("Memory patch applied" at the first ``fit``) are turned off before the import:
    they are read once, then; warnings still show."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    with quiet_stderr():
        import tensorflow as tf
    tf.get_logger().setLevel("ERROR")
    return tf


def litert_installed() -> bool:
    """Whether the LiteRT runtime can be imported here."""
    try:
        from ai_edge_litert.interpreter import Interpreter  # noqa: F401
    except ImportError:
        return False
    return True


class LiteRunner:
    """A ``.tflite`` model run by LiteRT: named inputs of any batch size, one output."""

    def __init__(self, path: Path):
        from ai_edge_litert.interpreter import Interpreter

        with quiet_stderr():  # "Created TensorFlow Lite XNNPACK delegate for CPU."
            self.interpreter = Interpreter(model_path=str(path), num_threads=THREADS)
            self._run = self.interpreter.get_signature_runner()
        self.path = path

    def __call__(self, **inputs: np.ndarray) -> np.ndarray:
        with quiet_stderr():
            outputs = self._run(**{name: np.ascontiguousarray(value, np.float32) for name, value in inputs.items()})
        (output,) = outputs.values()
        return output


class KerasRunner:
    """A Keras model called like a ``LiteRunner``: its forward pass traced once per input shape."""

    def __init__(self, model: Any):
        import_tensorflow()
        import tensorflow as tf

        self.model = model
        self._forward = tf.function(lambda inputs: model(inputs, training=False), reduce_retracing=True)

    def __call__(self, **inputs: np.ndarray) -> np.ndarray:
        ordered = [np.asarray(inputs[tensor.name.split(":")[0]], np.float32) for tensor in self.model.inputs]
        return np.asarray(self._forward(ordered if len(ordered) > 1 else ordered[0]))


Runner = LiteRunner | KerasRunner


def as_runner(model: Any) -> Runner:
    """A runner as it is, or a Keras model (for example one being trained) as a ``KerasRunner``
    (made once per model, so its traced forward pass is kept)."""
    if isinstance(model, (LiteRunner, KerasRunner)):
        return model
    if getattr(model, "_lab_runner", None) is None:
        model._lab_runner = KerasRunner(model)
    return model._lab_runner


_said: set[str] = set()


def _say_once(line: str) -> None:
    if line not in _said:
        _said.add(line)
        print(line, file=sys.stderr)


def load_runner(tflite: Path, keras_model: Callable[[], Any], runtime: str | None = None) -> Runner:
    """The LiteRT copy at ``tflite``, or the Keras model ``keras_model()`` builds.

    ``runtime``: "auto" (default, or ``LAB_RUNTIME``) takes LiteRT where it can and says in one
    line when it cannot; "litert" insists (ValueError where it cannot); "keras" asks for Keras.
    """
    runtime = runtime or os.environ.get("LAB_RUNTIME") or "auto"
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
    if runtime != "keras":
        reason = ("LiteRT is not installed here (pip install ai-edge-litert)" if not litert_installed()
                  else f"{tflite} is missing (train again, or: python -m lab_utils export {tflite.parent})"
                  if not tflite.is_file() else None)
        if reason is None:
            return LiteRunner(tflite)
        if runtime == "litert":
            raise ValueError(reason)
        _say_once(f"note: {reason}; running the Keras model instead (slower to start)")
    import_tensorflow()
    return KerasRunner(keras_model())


def export_tflite(model: Any, path: Path) -> Path:
    """Write a Keras model's LiteRT copy (float32, batch size free), whole or not at all."""
    import tensorflow as tf

    with quiet_stderr(), contextlib.redirect_stdout(io.StringIO()):  # the converter is chatty
        data = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)
    return path
