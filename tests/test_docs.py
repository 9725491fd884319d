"""The README and the model cards quote benchmark figures from benchmarks/results.json, the one
place they live: a quote that disagrees with the file fails here (re-run the benchmark, then
update the quote)."""

from __future__ import annotations

import json

import pytest

from conftest import REPO

RESULTS = json.loads((REPO / "benchmarks" / "results.json").read_text())

QUOTES = [  # (file, benchmark, the sentence as it must read, figures filled in)
    ("README.md", "inference_speed",
     "`compose` takes {compose_s:.1f} s against {import_tensorflow_s:.1f} s for a bare"),
    ("README.md", "inference_speed", "**{compose_ratio:.1f}x**"),
    ("README.md", "inference_speed", "`LAB_RUNTIME=keras`, {compose_keras_ratio:.1f}x"),
    ("README.md", "inference_speed",
     "a 10-minute melody takes {harmonize_10min_s:.1f} s as a whole process on LiteRT\n"
     "against {harmonize_10min_keras_s:.1f} s on the Keras path (**{harmonize_speedup:.1f}x**"),
    ("README.md", "inference_speed",
     "100 iterations the DeepComposer sample's way take {enhance_deepcomposer_s:.1f} s; `python -m lab_utils enhance`\n"
     "takes {enhance_s:.2f} s on LiteRT: **{enhance_speedup:.0f}x faster** ({enhance_keras_s:.2f} s, "
     "{enhance_keras_speedup:.1f}x, on the Keras path"),
    ("README.md", "inference_speed", "answers in {help_s:.2f} s"),
    ("README.md", "studio_speed",
     "first\nGenerate of 8 bars takes {gan_first_s:.2f} s (GAN), {arcnn_first_s:.2f} s (AR-CNN) and "
     "{both_first_s:.2f} s (both)"),
    ("README.md", "gan_speed",
     "configuration takes {reference_s_per_iteration:.2f} s per iteration, ours {default_s_per_iteration:.3f} s: "
     "**{speedup:.0f}x faster**"),
    ("README.md", "style_build",
     "Building from a folder of 1,000 band MIDI files (`python benchmarks/style_build_speed.py`, 2 cores):\n"
     "{files_per_s_1_core:.0f} files/s on one core, {files_per_s_all_cores:.0f} on both, a second build "
     "{warm_rebuild_s:.1f} s;\npeak memory {peak_mb_1000:.0f} MB at 1,000 files and {peak_mb_5000:.0f} MB at 5,000"),
    ("README.md", "distributed_speed",
     "one replica takes {one_replica_s_per_iteration:.3f} s per iteration (64 windows); two replicas "
     "{two_replicas_s_per_iteration:.3f} s (128 windows), {two_replicas_windows_ratio:.2f}x\nthe windows per second"),
    ("README.md", "distributed_speed",
     "Peak memory training on the chorales' 3,973 windows is {peak_mb_1x:.0f} MB, on ten times as many\n"
     "{peak_mb_10x:.0f} MB"),
    ("models/gan/MODEL_CARD.md", "gan_speed",
     "the reference takes {reference_s_per_iteration:.2f} s per iteration, ours {default_s_per_iteration:.3f} s: "
     "**{speedup:.0f}x**"),
    ("models/arcnn/MODEL_CARD.md", "inference_speed",
     "iteration) {enhance_deepcomposer_s:.2f} s; `python -m lab_utils enhance` on LiteRT {enhance_s:.2f} s "
     "(**{enhance_speedup:.0f}x**)"),
]


@pytest.mark.parametrize("path, benchmark, sentence", QUOTES)
def test_documents_quote_the_recorded_figures(path, benchmark, sentence):
    text = " ".join((REPO / path).read_text().split())  # line breaks count as spaces
    assert " ".join(sentence.format(**RESULTS[benchmark]).split()) in text
