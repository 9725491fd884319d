"""Sentences about a run's curves are read from its numbers (``runs.describe_curves``)."""

from __future__ import annotations

import numpy as np

from lab_utils.runs import describe_curves, finished_run


def test_the_sentences_follow_the_numbers():
    log = {"iteration": np.array([2, 4, 6, 8]), "critic_loss": np.array([5.1, -3.0, -30.0, -24.8]),
           "wasserstein": np.array([2.0, 9.0, 30.0, 29.0]), "told_apart": np.array([0.95, np.nan, 0.9, 0.95])}
    critic, wasserstein, told, missing = describe_curves(log, ("critic_loss", "wasserstein", "told_apart", "distance"))
    assert critic.startswith("the critic loss fell: from 5.1 to -24.8 over 4 points")
    assert "lowest -30 at iteration 6" in critic and "highest 5.1 at iteration 2" in critic
    assert wasserstein.startswith("the Wasserstein estimate rose: from 2 to 29")
    assert "stayed about level: from 0.95 to 0.95 over 3 points (lowest 0.9 at iteration 6" in told  # NaN left out
    assert missing.endswith("0 value(s) logged, too few to read a trend")


def test_epochs_are_counted_where_there_are_no_iterations():
    (sentence,) = describe_curves({"val_loss": np.array([3.07, 2.9, 2.95])}, ("val_loss",), where="epoch")
    assert sentence == ("the validation loss fell: from 3.07 to 2.95 over 3 points "
                        "(lowest 2.9 at epoch 2, highest 3.07 at epoch 1)")


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
