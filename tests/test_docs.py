"""The README, its pages under docs/ and the model cards quote benchmark figures from
benchmarks/results.json, the one place they live: a quote that disagrees with the file fails here
(re-run the benchmark, then update the quote). The README is a front door: at most 250 lines, and
each page the depth moved to is linked from it exactly once."""

from __future__ import annotations

import json
import re

import pytest

from conftest import REPO

RESULTS = json.loads((REPO / "benchmarks" / "results.json").read_text())


def _two_sample(model: str) -> dict[str, float]:
    """The classifier two-sample test of a shipped model as its ``evaluate --json`` recorded it:
    each row's accuracy in percent (``trained``, ``untrained``, ``raw``, ``itself``, ``triads``) and
    the trained model's first giveaway (what it counts, ``giveaway``, and its rates in percent,
    ``bach_rate`` and ``model_rate``)."""
    rows = json.loads((REPO / "models" / model / "evaluation.json").read_text())["two_sample"]
    short = {"trained generator + decoder": "trained", "untrained generator + decoder": "untrained",
             "raw generator output": "raw", "composer vs itself": "itself", "rule-based triads": "triads"}
    figures = {short[name]: 100 * row["accuracy"] for name, row in rows.items()}
    first = rows["trained generator + decoder"]["giveaways"][0]
    return figures | {"giveaway": first["meaning"], "bach_rate": 100 * first["composer"],
                      "model_rate": 100 * first["model"]}


# Where the headline figure (can a classifier tell the voices from Bach's?) is quoted: from the
# shipped model's evaluation.json, so a re-evaluated model cannot leave an old figure behind.
HEADLINE = ("**{trained:.1f} %** of the time. Bach against Bach scores {itself:.1f} % (chance) and rule-based "
            "triads {triads:.1f} %; the same decoder over an untrained generator {untrained:.1f} %, the "
            "generator's raw output {raw:.1f} %. What gives it away most: the {giveaway} ({bach_rate:.1f} % in "
            "Bach's windows, {model_rate:.1f} % in the model's).")



def _melody_figures() -> dict[str, float]:
    """The shipped Transformer's figures as its ``evaluate --model transformer --json`` recorded them."""
    figures = json.loads((REPO / "models" / "transformer" / "evaluation.json").read_text())
    continuation, real = figures["continuations"], figures["real_continuations"]
    return {**figures["bits_per_note"], "tunes": figures["tunes"], "order": figures["markov_order"],
            "in_key": 100 * continuation["in_key"], "reuse": 100 * continuation["motif_reuse"],
            "real_reuse": 100 * real["motif_reuse"], "loop": 100 * continuation["loop_share"]}


# Where the Transformer's headline is quoted: from its evaluation.json, like the GAN's.
MELODY_HEADLINE = ("on the {tunes} test tunes it needs **{transformer:.2f} bits per note**, the Markov baseline "
                   "(order {order}) {markov:.2f}. Extending the first 4 bars of 40 of them by 20 s: {in_key:.0f} % of "
                   "the new notes in the key, {reuse:.0f} % of their 4-note motifs taken from the input (the tunes' own "
                   "next bars: {real_reuse:.0f} %), {loop:.0f} % of their 8-note runs.")


# Where the two style models are compared: from the Palestrina model's evaluation.json.
CROSS_STYLE = ("on Palestrina's held-out sopranos the Palestrina model's pieces are {own:.2f} from his eight "
               "figures and {other:.2f} from Bach's, the Bach model's {bach_own:.2f} and {bach_other:.2f}.")


def _cross_style() -> dict[str, float]:
    """The distances ``evaluate --checkpoint models/gan-palestrina`` recorded on Palestrina's test sopranos."""
    rows = json.loads((REPO / "models" / "gan-palestrina" / "evaluation.json").read_text())["cross_style"]
    on_his = rows["on palestrina test melodies"]
    return {"own": on_his["palestrina model"]["to palestrina"], "other": on_his["palestrina model"]["to bach"],
            "bach_own": on_his["bach model"]["to palestrina"], "bach_other": on_his["bach model"]["to bach"]}


@pytest.mark.parametrize("path, headline, figures", [
    ("README.md", CROSS_STYLE, _cross_style),
    ("docs/STYLES.md", CROSS_STYLE, _cross_style),
    ("README.md", HEADLINE, lambda: _two_sample("gan")),
    ("models/gan/MODEL_CARD.md", HEADLINE, lambda: _two_sample("gan")),
    ("README.md", MELODY_HEADLINE, _melody_figures),
    ("models/transformer/MODEL_CARD.md", MELODY_HEADLINE, _melody_figures)])
def test_a_headline_quotes_the_shipped_models_own_figures(path, headline, figures):
    text = " ".join((REPO / path).read_text().split())
    assert " ".join(headline.format(**figures()).split()) in text


QUOTES = [  # (file, benchmark, the sentence as it must read, figures filled in)
    ("README.md", "transformer_speed",
     "`extend` writes 20 s after Twinkle in {extend_20s_process_s:.2f} s as a whole process"),
    ("models/transformer/MODEL_CARD.md", "transformer_speed",
     "one epoch takes {training_epoch_s:.0f} s and the training process peaks at {training_peak_gb:.2f} GB, so the "
     "shipped run's 13 epochs take {shipped_training_min:.1f} minutes of training here (goal 15)"),
    ("docs/TRACK.md", "inference_speed",
     "`compose` takes {compose_s:.1f} s against {import_tensorflow_s:.1f} s for a bare"),
    ("docs/TRACK.md", "inference_speed", "**{compose_ratio:.1f}x**"),
    ("docs/TRACK.md", "inference_speed", "`LAB_RUNTIME=keras`, {compose_keras_ratio:.1f}x"),
    ("README.md", "inference_speed",
     "a 10-minute melody takes {harmonize_10min_s:.1f} s as a whole process on LiteRT\n"
     "against {harmonize_10min_keras_s:.1f} s on the Keras path (**{harmonize_speedup:.1f}x**"),
    ("README.md", "inference_speed",
     "100 iterations the DeepComposer sample's way take {enhance_deepcomposer_s:.1f} s; `python -m lab_utils enhance`\n"
     "takes {enhance_s:.2f} s on LiteRT: **{enhance_speedup:.0f}x faster** ({enhance_keras_s:.2f} s, "
     "{enhance_keras_speedup:.1f}x, on the Keras path"),
    ("docs/INFERENCE.md", "inference_speed", "answers in {help_s:.2f} s"),
    ("docs/TRACK.md", "studio_speed",
     "first\nGenerate of 8 bars takes {gan_first_s:.2f} s (GAN), {arcnn_first_s:.2f} s (AR-CNN), "
     "{extend_first_s:.2f} s (extend, 20 s more) and {both_first_s:.2f} s (both)"),
    ("README.md", "gan_speed",
     "configuration takes {reference_s_per_iteration:.2f} s per iteration, ours {default_s_per_iteration:.3f} s: "
     "**{speedup:.0f}x faster**"),
    ("docs/STYLES.md", "style_build",
     "Building from a folder of 1,000 band MIDI files (`python benchmarks/style_build_speed.py`, 2 cores):\n"
     "{files_per_s_1_core:.0f} files/s on one core, {files_per_s_all_cores:.0f} on both, a second build "
     "{warm_rebuild_s:.1f} s;\npeak memory {peak_mb_1000:.0f} MB at 1,000 files and {peak_mb_5000:.0f} MB at 5,000"),
    ("docs/TRAINING_AT_SCALE.md", "distributed_speed",
     "one replica takes {one_replica_s_per_iteration:.3f} s per iteration (64 windows); two replicas "
     "{two_replicas_s_per_iteration:.3f} s (128 windows), {two_replicas_windows_ratio:.2f}x\nthe windows per second"),
    ("docs/TRAINING_AT_SCALE.md", "distributed_speed",
     "Peak memory training on the chorales' 3,973 windows is {peak_mb_1x:.0f} MB, on ten times as many\n"
     "{peak_mb_10x:.0f} MB"),
    ("models/gan/MODEL_CARD.md", "gan_minutes",
     "told apart {told_apart_1:.3f} after 1 minute of training ({iterations_1:,.0f} iterations), {told_apart_3:.3f} after 3 "
     "({iterations_3:,.0f}), {told_apart_5:.3f} after 5 ({iterations_5:,.0f}), {told_apart_10:.3f} after 10 "
     "({iterations_10:,.0f}), {told_apart_30:.3f} after 30 "
     "({iterations_30:,.0f}); the shipped model (15 minutes, 3,700 iterations) {told_apart_shipped:.3f}, an untrained "
     "generator {told_apart_untrained:.3f}."),
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


# The pages the README's depth moved to, each linked from the README exactly once, with the
# instructor's guide and the design (every docs/*.md page is linked, none twice).
MOVED = ["docs/TRACK.md", "docs/STYLES.md", "docs/TRAINING_AT_SCALE.md", "docs/INFERENCE.md",
         "docs/COMMAND_LINE.md", "docs/WHERE_IT_RUNS.md"]
PAGES = [*MOVED, "docs/INSTRUCTOR.md", "docs/DESIGN.md"]
LINK = re.compile(r"\]\(([^)\s]+)\)")  # [text](target)


def links(path: str) -> list[str]:
    """The local files a page links to, relative to the repository (no web addresses, no anchors)."""
    base = (REPO / path).parent
    found = []
    for target in LINK.findall((REPO / path).read_text()):
        target = target.split("#")[0]
        if target and "://" not in target:
            found.append((base / target).resolve().relative_to(REPO).as_posix())
    return found


def test_readme_is_a_front_door():
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move depth to a page under docs/"


def test_readme_links_each_page_exactly_once():
    readme = links("README.md")
    pages = sorted(set(PAGES) | {p.relative_to(REPO).as_posix() for p in (REPO / "docs").glob("*.md")})
    assert {p: readme.count(p) for p in pages} == {p: 1 for p in pages}
    assert readme.count("CONTRIBUTING.md") == 1


@pytest.mark.parametrize("path", ["README.md", *PAGES])
def test_every_link_resolves(path):
    if not (REPO / path).exists():
        assert path not in MOVED, f"{path} is gone; the README's depth lives there"
        pytest.skip(f"{path} is not written yet (the README's link to it is checked on README.md)")
    missing = [target for target in links(path) if not (REPO / target).exists()]
    assert not missing, f"{path} links to files that are not there: {missing}"


