"""Sentences about a run's curves are read from its numbers (``runs.describe_curves``), and the
model a training lab chose is the one the labs after it use (``runs.choose_run``, ``finished_run``)."""

from __future__ import annotations

import numpy as np

from lab_utils.runs import SHIPPED_CHOSEN, choose_run, describe_curves, finished_run, training_folder


def test_the_sentences_follow_the_numbers():
    log = {"iteration": np.array([2, 4, 6, 8]), "critic_loss": np.array([5.1, -3.0, -30.0, -24.8]),
           "wasserstein": np.array([2.0, 9.0, 30.0, 29.0]), "told_apart": np.array([0.95, np.nan, 0.9, 0.95])}
    critic, wasserstein, told, missing = describe_curves(log, ("critic_loss", "wasserstein", "told_apart", "distance"))
    assert critic.startswith("the critic loss fell: from 5.1 to -24.8 over 4 points")
    assert "lowest -30 at iteration 6" in critic and "highest 5.1 at iteration 2" in critic
    assert wasserstein.startswith("the Wasserstein estimate rose: from 2 to 29")
    assert "stayed about level: from 0.95 to 0.95 over 3 points (lowest 0.9 at iteration 6" in told  # NaN left out
    assert missing.endswith("0 values logged, too few to read a trend")


def test_epochs_are_counted_where_there_are_no_iterations():
    (sentence,) = describe_curves({"val_loss": np.array([3.07, 2.9, 2.95])}, ("val_loss",), where="epoch")
    assert sentence == ("the validation loss fell: from 3.07 to 2.95 over 3 points "
                        "(lowest 2.9 at epoch 2, highest 3.07 at epoch 1)")


def test_keras_epochs_are_counted_from_1_as_the_plots_count_them():
    """Keras logs its first epoch as 0; the plots draw it at 1: the sentences say "epoch 1" too."""
    log = {"epoch": np.array([0.0, 1.0, 2.0]), "val_loss": np.array([3.07, 2.9, 2.95])}
    (sentence,) = describe_curves(log, ("val_loss",), where="epoch")
    assert sentence.endswith("(lowest 2.9 at epoch 2, highest 3.07 at epoch 1)")
    (iterations,) = describe_curves({"iteration": np.array([100, 200]), "epoch": np.array([0, 1]),
                                     "critic_loss": np.array([-17.6, -5.6])}, ("critic_loss",))
    assert "lowest -17.6 at iteration 100" in iterations  # iterations stay as logged


def test_a_value_beside_a_level_says_where_it_is():
    from lab_utils.runs import beside_level

    level = 'the "no idea" level'
    assert beside_level("the loss", 3.068, 2.74, 3.10, level).endswith("inside the \"no idea\" level (2.74-3.1), "
                                                                        "no better than no idea yet")
    assert "below" in beside_level("the loss", 0.77, 2.74, 3.10, level)
    assert "above" in beside_level("the loss", 3.5, 2.74, 3.10, level)


def test_a_run_counts_as_finished_once_it_logged_a_chunk(tmp_path):
    """Later labs take a learner's run only once it logged something: a run stopped before its
    first epoch (a log of headers only, an untrained model folder) is passed over."""
    run = tmp_path / "arcnn-workshop"
    assert finished_run(run) is None  # nothing there
    run.mkdir()
    (run / "model").mkdir()
    assert finished_run(run) is None  # the model folder alone, written before training
    (run / "log.csv").write_text("epoch,loss,val_loss\n")
    assert finished_run(run) is None  # headers only
    (run / "log.csv").write_text("epoch,loss,val_loss\n0,3.1,2.9\n")
    assert finished_run(run) == str(run)


def _logged_run(folder):
    folder.mkdir(parents=True)
    (folder / "log.csv").write_text("epoch,loss,val_loss\n0,3.1,2.9\n")
    return folder


def test_use_shipped_in_a_training_lab_reaches_the_labs_after_it(tmp_path):
    """A run from an earlier session is in the folder; the learner sets USE_SHIPPED = True in its
    training lab: the labs after it (which ask ``finished_run``) use the shipped model, until the
    lab is run again with USE_SHIPPED = False."""
    run = _logged_run(tmp_path / "runs" / "gan-workshop")
    assert finished_run(run) == str(run)
    choose_run(run, use_shipped=True)
    assert finished_run(run) is None and (run / SHIPPED_CHOSEN).is_file()
    assert (run / "log.csv").is_file()  # the run is kept, only passed over
    choose_run(run, use_shipped=False)
    assert finished_run(run) == str(run)


def test_choosing_the_shipped_model_where_there_is_no_run_writes_nothing(tmp_path):
    run = tmp_path / "runs" / "arcnn-workshop"
    choose_run(run, use_shipped=True)
    assert not run.exists() and finished_run(run) is None
    choose_run(run, use_shipped=False)
    assert not run.exists()


def test_a_quick_run_never_feeds_nor_replaces_a_real_session(tmp_path):
    """LAB_QUICK=1 (the tests) trains in runs/quick/: the labs after it read runs/NAME, which it
    neither fills nor deletes."""
    real, quick = (training_folder(tmp_path, "transformer-workshop", q) for q in (False, True))
    assert real == tmp_path / "runs" / "transformer-workshop"
    assert quick.parent == tmp_path / "runs" / "quick" and quick.name == real.name
    _logged_run(quick)
    assert finished_run(real) is None  # a real session finds no run: it trains its own
    _logged_run(real)
    assert finished_run(real) == str(real)
