"""Data past memory: training windows in shards streamed by tf.data, a damaged shard named and
written again alone, and a style's build split into parts that merge without reading again."""

from __future__ import annotations

import hashlib
import os
import json
import shutil

import numpy as np
import pytest

from conftest import band_folder, run_cli
from lab_utils import shards, styles
from lab_utils.pieces import transpose_windows
from lab_utils.gan_config import CONFIGS, crop, fit_crop
from lab_utils.shards import ShardError, check_shards, ensure_shards, repair_shards, shard_folder, stream_windows
from lab_utils.styles import StyleError, build_part, build_style, folder_sources, parts_folder


def _digests(windows: np.ndarray) -> list[str]:
    return sorted(hashlib.sha1(w.tobytes()).hexdigest() for w in windows)


def test_the_chorales_training_windows_fit_one_shard(dataset):
    manifest = ensure_shards(dataset)
    assert manifest["windows"] == len(dataset.gan_windows("train")[0]) and len(manifest["shards"]) == 1


@pytest.fixture
def sharded_style(tmp_path, style_home, monkeypatch):
    """A band style built with small shards (16 windows each), so that it has several."""
    monkeypatch.setattr(shards, "SHARD_WINDOWS", 16)
    dataset, _ = build_style("band", folder_sources(band_folder(tmp_path / "band")), jobs=1, progress=False)
    return dataset


def test_one_pass_streams_every_transposed_window_once(sharded_style):
    config = fit_crop(CONFIGS["default"], sharded_style.voice_ranges("train"))
    sounding = crop(sharded_style.gan_windows("train")[0], config)
    ranges = [(low - config.pitch_low, high - config.pitch_low) for low, high in sharded_style.voice_ranges("train")]
    expected, _ = transpose_windows(sounding, None, ranges, shifts=range(-config.transpose, config.transpose + 1),
                                    drums=sharded_style.roles.drums)
    streamed = np.stack(list(stream_windows(sharded_style, config, seed=0, endless=False).as_numpy_iterator()))
    assert streamed.shape == expected.shape and streamed.dtype == bool and len(check_shards(sharded_style)["shards"]) >= 3
    assert _digests(streamed) == _digests(expected)  # the same windows, each once, from every shard, shuffled
    first = next(iter(stream_windows(sharded_style, config, seed=0).batch(64))).numpy()
    again = next(iter(stream_windows(sharded_style, config, seed=0).batch(64))).numpy()
    other = next(iter(stream_windows(sharded_style, config, seed=1).batch(64))).numpy()
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_a_style_is_built_with_its_shards(sharded_style):
    manifest = check_shards(sharded_style)
    assert len(manifest["shards"]) >= 3
    assert manifest["windows"] == len(sharded_style.gan_windows("train")[0])
    pieces = [s["pieces"] for s in manifest["shards"]]
    assert pieces[0][0] == 0 and pieces[-1][1] == len(sharded_style.split("train"))
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))  # every training piece in one shard


def test_a_damaged_shard_is_named_and_written_again_alone(sharded_style):
    folder = shard_folder(sharded_style)
    manifest = check_shards(sharded_style)
    damaged, other = (folder / manifest["shards"][k]["file"] for k in (1, 0))
    before = other.stat().st_mtime_ns
    data = bytearray(damaged.read_bytes())
    data[100] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(ShardError, match=damaged.name + ".*damaged"):
        check_shards(sharded_style)
    assert repair_shards(sharded_style) == [damaged.name]
    assert other.stat().st_mtime_ns == before
    check_shards(sharded_style)
    damaged.unlink()
    with pytest.raises(ShardError, match=damaged.name + " is missing"):
        check_shards(sharded_style)
    assert repair_shards(sharded_style) == [damaged.name] and repair_shards(sharded_style) == []


def test_the_cli_names_a_damaged_shard_and_rewrites_it(sharded_style, style_home, tmp_path):
    folder = shard_folder(sharded_style)
    victim = folder / json.loads((folder / "shards.json").read_text())["shards"][0]["file"]
    victim.write_bytes(victim.read_bytes()[:-7])
    env = {"LAB_STYLES_DIR": str(style_home)}
    result = run_cli("train", "gan", "--data", "band", "--iterations", "2", "-o", str(tmp_path / "run"), env=env)
    assert result.returncode == 2 and victim.name in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run" / "checkpoint").exists()
    result = run_cli("dataset", "shards", "--name", "band", env=env)
    assert result.returncode == 0 and victim.name in result.stdout
    check_shards(sharded_style)


def test_a_split_build_merges_without_reading_again(tmp_path, style_home, monkeypatch):
    sources = folder_sources(band_folder(tmp_path / "band", n=7))
    with pytest.raises(StyleError, match="between 1 and 3"):
        build_part("band", sources, (4, 3), jobs=1, progress=False)
    for index in (1, 3):
        build_part("band", sources, (index, 3), jobs=1, progress=False)
    with pytest.raises(StyleError, match="parts 2/3 of 'band' are not built"):
        build_style("band", sources, jobs=1, progress=False)
    build_part("band", sources, (2, 3), jobs=1, progress=False)
    shutil.rmtree(styles.places.READ_CACHE)  # as on the machine the parts were copied to

    def no_reading(path):
        raise AssertionError(f"{path} was read again")

    monkeypatch.setattr(styles.sources, "read_music_file", no_reading)
    merged, _ = build_style("band", sources, jobs=1, progress=False)
    assert not parts_folder("band").exists()  # merged: the parts are in the read cache now
    monkeypatch.undo()
    whole, _ = build_style("again", sources, tmp_path / "whole", jobs=1, progress=False, reread=True)
    assert merged.source_hash == whole.source_hash
    assert [c.id for c in merged.pieces] == [c.id for c in whole.pieces]
    assert all(np.array_equal(a.notes, b.notes) for a, b in zip(merged.pieces, whole.pieces))


def test_parts_of_another_file_list_are_refused(tmp_path, style_home):
    sources = folder_sources(band_folder(tmp_path / "band", n=5))
    build_part("band", sources, (1, 2), jobs=1, progress=False)
    with pytest.raises(StyleError, match="another list of files"):
        build_style("band", sources[:-1], jobs=1, progress=False)
    result = run_cli("dataset", "build", str(tmp_path / "band"), "--name", "band", "--part", "3/2")
    assert result.returncode == 2 and "between 1 and 2" in result.stderr


def test_two_writers_of_one_folder_at_once_both_succeed_and_leave_it_whole(tmp_path):
    """Two trainings starting together on a fresh clone both write the same shards folder: each
    fills its own scratch folder, and the folder ends whole, holding one writer's files."""
    import threading

    from lab_utils.files import atomic_folder

    path, ready, errors = tmp_path / "shards", threading.Barrier(2), []

    def write(writer: int) -> None:
        try:
            for round_ in range(20):
                with atomic_folder(path) as scratch:
                    for part in range(5):
                        (scratch / f"part{part}").write_text(f"{writer} {round_}")
                    if round_ == 0:
                        ready.wait()  # both are filling before either swaps
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    contents = {p.read_text() for p in path.iterdir()}
    assert len(list(path.iterdir())) == 5 and len(contents) == 1  # whole, and one writer's
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shards"]  # no scratch folder left


def test_a_dead_writers_scratch_folder_is_removed_and_a_live_ones_kept(tmp_path):
    from lab_utils.files import atomic_folder

    dead = tmp_path / "shards.999999999.abc.tmp"  # no process has that number
    alive = tmp_path / f"shards.{os.getpid()}.xyz.tmp"  # this one: still writing, say
    other = tmp_path / "shards.5.999999999.abc.tmp"  # the scratch folder of a folder named "shards.5"
    for folder in (dead, alive, other):
        folder.mkdir()
    with atomic_folder(tmp_path / "shards") as scratch:
        (scratch / "part0").write_text("new")
    assert not dead.exists() and alive.exists() and other.exists()
    assert (tmp_path / "shards" / "part0").read_text() == "new"
