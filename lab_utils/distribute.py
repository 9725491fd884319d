"""Training on more than one device or machine, through ``tf.distribute``.

``--strategy default`` trains on one device (a GPU if TensorFlow sees one). ``mirrored`` keeps
one copy of the model on every GPU of this machine (``MirroredStrategy``); without a GPU it says
so and trains on the CPU. ``multiworker`` trains one model across machines
(``MultiWorkerMirroredStrategy``), each started with the same command and its own
``TF_CONFIG``, the standard way::

    TF_CONFIG='{"cluster": {"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]},
                "task": {"type": "worker", "index": 0}}'

The rule for more replicas: each replica takes the config's batch (64 windows per critic
step), so the global batch is the batch times the replicas, and the learning rate grows with
the square root of the replicas (Adam's usual rule: the gradient's noise falls with the square
root of the batch). Worker 0 (the chief) alone writes the log, checkpoints, samples and the
model; the run folder must be one all workers see (a shared disk), since a restarted cluster
resumes from the chief's last checkpoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import socket
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator, TypeVar

if TYPE_CHECKING:
    import tensorflow as tf

    from .arcnn import ArcnnConfig
    from .gan_config import GanConfig

__all__ = ["STRATEGIES", "StrategyError", "WorkerLost", "lost_workers_said", "read_tf_config", "make_strategy", "is_chief", "worker_name",
           "fingerprint", "scaled_config", "WORKER_TIMEOUT", "CPU_REPLICAS_ENV", "stop_together"]

STRATEGIES = ("default", "mirrored", "multiworker")
WORKER_TIMEOUT = float(os.environ.get("LAB_WORKER_TIMEOUT", 120))  # seconds to wait for the other workers
CPU_REPLICAS_ENV = "LAB_CPU_REPLICAS"  # split the CPU into this many logical devices (tests, benchmarks)


class StrategyError(ValueError):
    """A strategy that cannot be set up: a bad TF_CONFIG, an unknown name (one line for the user)."""


class WorkerLost(RuntimeError):
    """A worker of the cluster stopped mid-run (one line: start them all again, the run resumes)."""


def read_tf_config() -> dict:
    """``TF_CONFIG``, checked: a cluster of ``host:port`` workers and this task's place in it."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise StrategyError("--strategy multiworker needs TF_CONFIG (the cluster's workers and this one's "
                            "index; see python -m lab_utils train --help)")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StrategyError(f"TF_CONFIG is not JSON ({exc.msg} at character {exc.pos})") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise StrategyError('TF_CONFIG needs "cluster" and "task" objects')
    for kind, addresses in cluster.items():
        if kind not in ("chief", "worker") or not isinstance(addresses, list) or not addresses or \
                not all(isinstance(a, str) and a.rpartition(":")[2].isdigit() and a.rpartition(":")[0]
                        for a in addresses):
            raise StrategyError(f'TF_CONFIG cluster "{kind}" must be a list of "host:port" strings '
                                '(kinds: chief, worker)')
    kind, index = task.get("type"), task.get("index")
    if kind not in cluster or not isinstance(index, int) or not 0 <= index < len(cluster[kind]):
        raise StrategyError(f"TF_CONFIG task {task} is not in the cluster {cluster}")
    return config


def _split_cpu(replicas: int) -> list[str]:
    """The CPU as ``replicas`` logical devices (before TensorFlow starts its devices)."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def _wait_for_workers(config: dict, seconds: float) -> None:
    """Return once every other worker in ``config`` answers on its port, listening on this one's
    meanwhile so that they find it too; StrategyError after ``seconds`` (TensorFlow itself would
    wait for an absent worker without end, deaf to Python's timers)."""
    addresses = [a for kind in ("chief", "worker") for a in config["cluster"].get(kind, [])]
    task = config["task"]
    mine = config["cluster"][task["type"]][task["index"]]
    others = [a for a in addresses if a != mine]
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("", int(mine.rpartition(":")[2])))
    except OSError as exc:
        raise StrategyError(f"cannot listen on {mine}, this worker's address in TF_CONFIG ({exc.strerror})") from None
    listener.listen()
    listener.setblocking(False)
    deadline, waiting = time.monotonic() + seconds, list(others)
    try:
        while waiting:
            with contextlib.suppress(BlockingIOError):
                listener.accept()[0].close()
            host, _, port = waiting[0].rpartition(":")
            try:
                socket.create_connection((host, int(port)), timeout=1).close()
                waiting.pop(0)
            except OSError:
                if time.monotonic() > deadline:
                    raise StrategyError(f"worker {waiting[0]} in TF_CONFIG did not answer within {seconds:.0f} s "
                                        "(start every worker; LAB_WORKER_TIMEOUT sets the wait)") from None
                time.sleep(0.2)
        # the others may still be looking for this worker: answer them a moment longer
        until = time.monotonic() + 2
        while time.monotonic() < until:
            with contextlib.suppress(BlockingIOError):
                listener.accept()[0].close()
            time.sleep(0.05)
    finally:
        listener.close()


def make_strategy(name: str) -> "tf.distribute.Strategy":
    """The ``tf.distribute`` strategy called ``name`` (saying on one line what it trains on)."""
    import tensorflow as tf

    if name not in STRATEGIES:
        raise StrategyError(f"unknown strategy {name!r} (choose from {', '.join(STRATEGIES)})")
    cpu_replicas = int(os.environ.get(CPU_REPLICAS_ENV) or 1)
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if tf.config.list_physical_devices("GPU"):
            return tf.distribute.MirroredStrategy()
        devices = _split_cpu(cpu_replicas) if cpu_replicas > 1 else ["/cpu:0"]
        print(f"--strategy mirrored: TensorFlow sees no GPU; training on the CPU"
              f"{f' as {len(devices)} logical devices' if len(devices) > 1 else ''}", flush=True)
        return tf.distribute.MirroredStrategy(devices)
    config = read_tf_config()
    if cpu_replicas > 1:
        _split_cpu(cpu_replicas)
    _wait_for_workers(config, WORKER_TIMEOUT)
    # No timeout on the exchanges: TensorFlow keeps one thread asleep for the whole timeout beside
    # every all-reduce, about 240 threads a second here, until a worker cannot start one more and
    # aborts (issue 25). A lost worker is found by the strategy's own health check instead.
    return tf.distribute.MultiWorkerMirroredStrategy()


@contextmanager
def lost_workers_said(strategy: "tf.distribute.Strategy", folder: object) -> Iterator[None]:
    """On a cluster, a worker that stops makes the others' next exchange fail: say so in one line
    (``WorkerLost``) with what to do, rather than TensorFlow's pages."""
    import tensorflow as tf

    try:
        yield
    except (tf.errors.UnavailableError, tf.errors.AbortedError, tf.errors.DeadlineExceededError,
            tf.errors.CancelledError, tf.errors.InternalError) as exc:
        if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            raise
        raise WorkerLost(f"a worker stopped ({_reason(exc)[:160]}); start every worker again with the same command: "
                         f"training resumes from the last checkpoint in {folder}") from None


def _reason(exc: Exception) -> str:
    """The line of a TensorFlow error that says what happened, preferring one naming a worker: not
    a heading ("Graph execution error:") nor where in the graph it surfaced."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    said = [line for line in lines if not line.endswith(":") and not line.startswith(("Detected at node", "File ", "[["))]
    naming = [line for line in said if "/job:" in line or "task" in line.lower()]
    return (naming or said or [type(exc).__name__])[0]


def is_chief(strategy: "tf.distribute.Strategy") -> bool:
    """Whether this process writes the run's files: always, but for the other workers of a cluster
    (the chief is task "chief", else worker 0)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0
                                             and "chief" not in resolver.cluster_spec().as_dict())


def worker_name(strategy: "tf.distribute.Strategy") -> str:
    """"worker 1 of 2" on a cluster, "" on one machine."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return ""
    workers = sum(len(a) for a in resolver.cluster_spec().as_dict().values())
    return f"{resolver.task_type} {resolver.task_id} of {workers}"


def fingerprint(weights: list) -> str:
    """A short hash of a model's weights: equal on every worker of a cluster that trained in step."""
    import hashlib

    digest = hashlib.sha256()
    for array in weights:
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


Config = TypeVar("Config", "GanConfig", "ArcnnConfig")


def scaled_config(config: Config, replicas: int) -> Config:
    """The config (the GAN's or the AR-CNN's) for ``replicas`` replicas: the batch times the
    replicas, the learning rate times their square root (one replica: the config unchanged)."""
    if replicas == 1:
        return config
    return dataclasses.replace(config, batch_size=config.batch_size * replicas,
                               learning_rate=config.learning_rate * math.sqrt(replicas))


def stop_together(strategy: "tf.distribute.Strategy", stop: bool) -> bool:
    """Whether any worker wants to stop (a time limit reached on one stops all: a worker that
    stopped alone would leave the others waiting)."""
    import tensorflow as tf

    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return _any_worker(strategy, stop)
    return stop


def _any_worker(strategy: "tf.distribute.Strategy", flag: bool) -> bool:
    """Whether ``flag`` is true on any replica of any worker (an exchange between all of them)."""
    import tensorflow as tf

    @tf.function
    def exchange(value: tf.Tensor) -> tf.Tensor:
        return strategy.reduce("SUM", strategy.run(tf.identity, args=(value,)), axis=None)

    return int(exchange(tf.constant(int(flag)))) > 0
