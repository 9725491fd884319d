"""The GAN lab: training end to end, resume, and what harmonize() promises."""

from __future__ import annotations

import csv
import json
import warnings

import numpy as np
import pytest

from conftest import random_melody, run_cli
from lab_utils.gan import CONFIGS, HarmonyGAN, config_table, generator_folder, load_generator, make_optimizers
from lab_utils.harmonize import harmonize
from lab_utils.metrics import distance_to_bach, figures, reference_from, voice_leading_faults
from lab_utils.midi import PianoRoll, read_midi, write_midi
from lab_utils.samples import MELODIES, RANDOM_TUNES, melody_roll, random_tune
from lab_utils.training import LOG_FILE, TrainingError, load_checkpoint, train_gan


@pytest.fixture(scope="module")
def shipped():
    generator, config, ranges = load_generator(generator_folder())
    return lambda melody, seed=0: harmonize(melody, generator, config, ranges, seed=seed)


def _iterations(folder) -> list[int]:
    with open(folder / LOG_FILE) as f:
        return [int(float(row["iteration"])) for row in csv.DictReader(f)]


def test_training_runs_resumes_and_keeps_its_count(tmp_path, dataset):
    train_gan(tmp_path, iterations=4, sample_every=2, dataset=dataset, verbose=0)
    with open(tmp_path / LOG_FILE) as f:
        rows = list(csv.DictReader(f))
    assert _iterations(tmp_path) == [2, 4]
    assert all(np.isfinite(float(r[k])) for r in rows for k in ("critic_loss", "generator_loss", "wasserstein"))
    at_four = load_generator(tmp_path / "checkpoint")[0].get_weights()
    assert 0 <= float(rows[1]["in_key"]) <= 1 and float(rows[1]["voices"]) > 3
    with pytest.raises(TrainingError):  # existing work is never overwritten
        train_gan(tmp_path, iterations=6, sample_every=2, dataset=dataset, verbose=0)
    train_gan(tmp_path, iterations=6, sample_every=2, resume=True, dataset=dataset, verbose=0)
    assert _iterations(tmp_path) == [2, 4, 6]
    at_six = load_generator(tmp_path / "checkpoint")[0].get_weights()
    assert max(float(np.abs(a - b).max()) for a, b in zip(at_four, at_six)) > 1e-5  # resuming trained on
    gan = HarmonyGAN(load_generator(tmp_path / "checkpoint")[1])
    gan.compile(*make_optimizers(gan.config))
    assert load_checkpoint(gan, tmp_path) == 6
    assert int(gan.generator_optimizer.iterations) == 6  # optimizer state came back too
    assert {"iteration_000006.mid", "iteration_000006.png"} <= {p.name for p in (tmp_path / "samples").iterdir()}
    from lab_utils.harmonize import load_harmonizer  # the run's LiteRT copy sings what its Keras model does

    tune = melody_roll("twinkle")
    lite, keras_voices = (load_harmonizer(tmp_path, runtime=r)(tune, seed=1) for r in ("litert", "keras"))
    assert lite.notes(1) and np.array_equal(lite.sounding, keras_voices.sounding)


def test_iterations_are_exact_whatever_the_sample_interval(tmp_path, dataset):
    with pytest.raises(TrainingError, match="not a whole number of chunks"):
        train_gan(tmp_path / "odd", iterations=150, sample_every=100, dataset=dataset, verbose=0)
    assert not (tmp_path / "odd").exists()
    train_gan(tmp_path, iterations=3, sample_every=100, dataset=dataset, verbose=0)
    assert _iterations(tmp_path) == [3]  # not rounded up to a chunk of 100
    gan = HarmonyGAN(load_generator(tmp_path / "checkpoint")[1])
    gan.compile(*make_optimizers(gan.config))
    assert load_checkpoint(gan, tmp_path) == 3 and int(gan.generator_optimizer.iterations) == 3


def _check(melody: PianoRoll, music: PianoRoll) -> None:
    assert music.n_tracks == 4 and music.n_steps == melody.n_steps
    assert music.notes(0) == melody.notes(0)  # the melody exactly, repeated notes included
    assert music.sounding.sum(axis=1).max() <= 1  # one pitch per voice per step
    sings = melody.sounding[:, :, 0].any(axis=1)
    accompanied = music.sounding[:, :, 1:].any(axis=1).sum(axis=1)
    assert (accompanied[sings] == 3).mean() > 0.95  # three voices under the whole melody


def test_the_config_table_says_what_each_setting_sets():
    lines = config_table().splitlines()
    assert lines[0].split("|")[-2].strip() == "what it sets"
    rows = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]] for line in lines[2:]}
    assert rows["n_pitches"] == [str(c.n_pitches) for c in CONFIGS.values()] + ["how many pitches it sees, upwards from the lowest"]
    assert all(len(cells) == len(CONFIGS) + 1 and cells[-1] for cells in rows.values())
    assert int(rows["generator parameters"][list(CONFIGS).index("default")].replace(",", "")) > 1_000_000


@pytest.mark.parametrize("name", list(MELODIES))
def test_builtin_tunes_are_kept_and_covered(shipped, name):
    melody = melody_roll(name)
    music = shipped(melody)
    _check(melody, music)
    # a tune a soprano can sing as written is not moved, so alto, tenor and bass stay in their
    # ranges (Ode to Joy, C4-G4, was harmonized an octave up and moved down: its bass reached C1)
    low = {v: min(n.pitch for n in music.notes(v)) for v in range(1, 4)}
    assert low[3] >= 36 and low[2] >= 43, low


@pytest.mark.parametrize("meter,bar,pickup", [((3, 4), 12, 4), ((2, 4), 8, 0), ((6, 4), 24, 8), ((4, 4), 16, 2),
                                              ((3, 8), 6, 0), ((5, 8), 10, 2)])
def test_any_meter_and_pickup(shipped, meter, bar, pickup):
    notes = random_melody(seed=bar, bar_steps=bar, bars=5, pickup=pickup)
    melody = PianoRoll.from_notes([notes], time_signature=meter, pickup_steps=pickup)
    _check(melody, shipped(melody))


def test_unseen_tunes_sound_like_bach(shipped, dataset):
    bach = reference_from([figures(c.roll()) for c in dataset.split("test")])
    assert 0.5 <= np.mean([distance_to_bach(figures(c.roll()), bach) for c in dataset.split("test")]) <= 0.8
    music = [shipped(melody_roll(name)) for name in MELODIES] + \
        [shipped(random_tune(seed, meter)) for meter, seeds in RANDOM_TUNES.items() for seed in seeds]
    values = [figures(m) for m in music]
    assert np.mean([v["voices"] for v in values]) >= 3.8
    assert np.mean([v["parallels"] for v in values]) <= 1.0  # Bach: 0.5 per 100 moves
    assert np.mean([distance_to_bach(v, bach) for v in values]) <= 0.8
    faults = [voice_leading_faults(m) for m in music]
    assert all(f["tonic_ending"] == 1.0 for f in faults if not np.isnan(f["tonic_ending"]))
    assert sum(not np.isnan(f["tonic_ending"]) for f in faults) >= 8  # every random tune ends on its tonic
    # voices cross now and then, as Bach's do (2 % of his beats), never more often than he lets them
    bach_crossings = np.mean([voice_leading_faults(c.roll())["crossings"] for c in dataset.split("test")])
    assert np.mean([f["crossings"] for f in faults]) <= 1.5 * bach_crossings


def test_single_note_and_extreme_pitches(shipped):
    _check(melody_roll("C4"), shipped(melody_roll("C4")))
    high = melody_roll("C8 D8 E8 C8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        music = shipped(high)
    assert any("moved by" in str(w.message) for w in caught)
    _check(high, music)
    below = [p for v in (1, 2, 3) for p in np.nonzero(music.sounding[:, :, v].any(axis=0))[0]]
    assert max(below) < 108


def test_ten_minute_melody(shipped):
    melody = melody_roll(" ".join([MELODIES["twinkle"].notes] * 21))  # 21 x 28.8 s = 10 min
    assert melody.seconds >= 600
    _check(melody, shipped(melody))


def test_cli_same_seed_same_bytes_and_bad_files(tmp_path):
    write_midi(melody_roll("ode_to_joy"), tmp_path / "ode.mid")
    (tmp_path / "bad.mid").write_bytes(b"MThd garbage")
    first = run_cli("harmonize", str(tmp_path / "ode.mid"), str(tmp_path / "bad.mid"), "-o", str(tmp_path / "a"))
    second = run_cli("harmonize", str(tmp_path / "ode.mid"), "-o", str(tmp_path / "b"), "--seed", "0")
    assert first.returncode == 2 and second.returncode == 0, second.stderr
    assert [line for line in first.stderr.splitlines() if line.startswith("error:")] == \
        [line for line in first.stderr.splitlines() if "bad.mid" in line and line.startswith("error:")]
    assert "Traceback" not in first.stderr
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["ode.mid"]
    assert (tmp_path / "a" / "ode.mid").read_bytes() == (tmp_path / "b" / "ode.mid").read_bytes()
    assert read_midi(tmp_path / "a" / "ode.mid").n_tracks == 4


def test_cli_bad_seed_and_unmakeable_folder_are_one_line(tmp_path):
    write_midi(melody_roll("twinkle"), tmp_path / "t.mid")
    for args in (["--seed", "-1", "-o", str(tmp_path / "out")], ["-o", "/proc/no/such/folder"]):
        result = run_cli("harmonize", str(tmp_path / "t.mid"), *args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "error:" in result.stderr


def test_cli_train_refuses_to_overwrite_and_bad_config(tmp_path):
    (tmp_path / "checkpoint").mkdir()
    result = run_cli("train", "gan", "--iterations", "2", "-o", str(tmp_path))
    assert result.returncode == 2 and result.stderr.startswith("error:") and "--resume" in result.stderr
    result = run_cli("train", "gan", "--config", "huge", "-o", str(tmp_path / "x"))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_cli_evaluate_writes_figures(tmp_path):
    result = run_cli("evaluate", "--json", str(tmp_path / "e.json"))
    assert result.returncode == 0, result.stderr
    assert "distance" in result.stdout
    data = json.loads((tmp_path / "e.json").read_text())
    assert 0.4 <= data["bach"]["distance"] <= 0.9
    assert data["sets"]["unseen tunes"]["distance"] <= 0.8 and data["sets"]["random tunes"]["parallels"] <= 1.0
    ablation = data["ablation"]  # the GAN is the composer: training brings the music closer to Bach
    assert ablation["trained generator"]["distance"] < ablation["untrained generator"]["distance"]
