"""Inference on LiteRT: no TensorFlow on the way to a note, the same voices as Keras, a clear
fallback, and a copy for every trained model."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, run_cli
from lab_utils.arcnn import load_enhancer
from lab_utils.gan_config import GENERATOR_TFLITE, SHIPPED_MODEL, read_generator_config
from lab_utils.harmonize import generator_evidence, load_harmonizer
from lab_utils.midi import write_midi
from lab_utils.runtime import LiteRunner, load_runner
from lab_utils.samples import MELODIES, melody_roll

NO_TENSORFLOW = """
import sys
from lab_utils.__main__ import main
codes = [main(a) for a in ({commands})]
print(codes, sorted(m for m in ("tensorflow", "keras", "tf_keras", "music21") if m in sys.modules))
"""


def test_commands_make_music_without_importing_tensorflow(tmp_path):
    """harmonize, enhance, compose and extend in one fresh process: all succeed, and neither
    TensorFlow nor Keras was ever imported (nor music21, 0.7 s of imports for a key estimate)."""
    tune = tmp_path / "tune.mid"
    write_midi(melody_roll("ode_to_joy"), tune)
    commands = ", ".join(repr(c) for c in (
        ["harmonize", str(tune), "-o", str(tmp_path / "h")],
        ["enhance", str(tune), "-o", str(tmp_path / "e"), "--iterations", "40"],
        ["compose", "--seconds", "30", "-o", str(tmp_path / "c")],
        ["extend", str(tune), "-o", str(tmp_path / "x")]))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("LAB_RUNTIME", None)
    result = subprocess.run([sys.executable, "-c", NO_TENSORFLOW.format(commands=commands)], capture_output=True,
                            text=True, cwd=REPO, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[0, 0, 0, 0] []", result.stderr
    assert len(list((tmp_path / "c").glob("*.mp3"))) == 1


@pytest.fixture(scope="module")
def keras_and_lite():
    return ({"keras": load_harmonizer(runtime="keras"), "litert": load_harmonizer(runtime="litert")},
            {"keras": load_enhancer(runtime="keras"), "litert": load_enhancer(runtime="litert")})


@pytest.mark.parametrize("name", sorted(MELODIES))
def test_litert_and_keras_give_the_same_voices(keras_and_lite, name):
    harmonizers, enhancers = keras_and_lite
    melody = melody_roll(name)
    lite, keras_voices = (harmonizers[r](melody, seed=2) for r in ("litert", "keras"))
    assert np.array_equal(lite.sounding, keras_voices.sounding)
    assert np.array_equal(lite.onsets, keras_voices.onsets)
    (lite_enhanced, lite_counts), (keras_enhanced, keras_counts) = (
        enhancers[r](melody, iterations=60, seed=5) for r in ("litert", "keras"))
    assert lite_counts == keras_counts and lite_counts.added + lite_counts.removed > 0
    assert np.array_equal(lite_enhanced.sounding, keras_enhanced.sounding)


def test_raw_generator_scores_agree_within_1e_4():
    """Before decoding: the two runtimes' averaged generator outputs (in [-1, 1]) differ by
    float rounding only."""
    config, ranges = read_generator_config(SHIPPED_MODEL)
    from lab_utils.gan import load_generator

    runners = [load_runner(SHIPPED_MODEL / GENERATOR_TFLITE, lambda: None, "litert"),
               load_runner(SHIPPED_MODEL / GENERATOR_TFLITE, lambda: load_generator(SHIPPED_MODEL)[0], "keras")]
    lite, keras_scores = (generator_evidence(melody_roll("amazing_grace"), r, config, ranges, seed=1).scores
                          for r in runners)
    assert isinstance(runners[0], LiteRunner)
    assert np.abs(lite - keras_scores).max() < 1e-4
    assert np.abs(lite).max() > 0.5  # the comparison is between real outputs, not zeros


def test_a_model_without_its_copy_runs_on_keras_and_says_so(tmp_path, capfd):
    """An older run (no .tflite): the Keras path runs, one line says why and how to make one;
    ``export`` then writes the copy and LiteRT gives the same voices."""
    folder = tmp_path / "gan"
    shutil.copytree(SHIPPED_MODEL, folder, ignore=shutil.ignore_patterns(GENERATOR_TFLITE, "samples"))
    melody = melody_roll("twinkle")
    before = load_harmonizer(folder)(melody, seed=4)
    lines = [line for line in capfd.readouterr().err.splitlines() if line.startswith("note:")]
    assert len(lines) == 1 and GENERATOR_TFLITE in lines[0] and "export" in lines[0]
    result = run_cli("export", str(folder))
    assert result.returncode == 0, result.stderr
    assert (folder / GENERATOR_TFLITE).stat().st_size > 1_000_000
    after = load_harmonizer(folder, runtime="litert")(melody, seed=4)
    assert np.array_equal(before.sounding, after.sounding)


def test_export_and_a_wrong_runtime_are_one_line_user_errors(tmp_path):
    result = run_cli("export", str(tmp_path))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "no trained GAN or AR-CNN" in result.stderr
    env_result = subprocess.run([sys.executable, "-m", "lab_utils", "compose", "-o", str(tmp_path)],
                                capture_output=True, text=True, cwd=REPO, timeout=300,
                                env=dict(os.environ, PYTHONPATH=str(REPO), LAB_RUNTIME="gpu"))
    assert env_result.returncode == 2 and env_result.stderr.startswith("error: runtime must be one of")
    assert not list(tmp_path.iterdir())


FIRST_FIT = """
import numpy as np
from lab_utils.runtime import import_tensorflow
import_tensorflow()
import keras
class Batches(keras.utils.PyDataset):
    def __len__(self): return 2
    def __getitem__(self, i): return np.zeros((4, 3), "float32"), np.zeros((4, 1), "float32")
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
model.compile("sgd", "mse")
model.fit(Batches(), epochs=1, verbose=0)
print("fitted")
"""


def test_a_first_fit_prints_no_tensorflow_info_line():
    # Labs 4 and 9 showed "I0000 ... Memory patch applied" under their first epoch
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", FIRST_FIT], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.stdout.strip() == "fitted" and "Memory patch" not in done.stderr and "I0000" not in done.stderr
