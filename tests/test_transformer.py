"""The Transformer: melodies as words and back, the Markov baseline's probabilities, sampling,
the shipped model against the baseline, and `extend` on tunes it never saw."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cli
from lab_utils.extend import ExtendError, extend, melody_of
from lab_utils.markov import bits_per_note, markov_baseline, train_markov
from lab_utils.melodies import load_tunes, melody_in_c
from lab_utils.melody_tokens import BAR, END, HEADER_LENGTH, VOCAB_SIZE, decode, encode, note_count
from lab_utils.melody_evaluation import motif_share
from lab_utils.metrics import key_scale, melody_key
from lab_utils.midi import Note, bar_steps, read_midi, write_midi
from lab_utils.samples import MELODIES, melody_roll
from lab_utils.transformer import Sampling, load_melody_model, sample_word


@pytest.fixture(scope="module")
def tunes():
    return load_tunes(progress=False)


@pytest.fixture(scope="module")
def model():
    return load_melody_model()


@st.composite
def tunes_on_the_grid(draw):
    """A monophonic tune in C with rests, any listed metre, any pickup shorter than a bar."""
    meter = draw(st.sampled_from([(2, 4), (3, 4), (4, 4), (6, 8), (3, 2)]))
    bar = bar_steps(meter)
    pickup = draw(st.integers(0, bar - 1))
    notes, now = [], 0
    for _ in range(draw(st.integers(1, 30))):
        now += draw(st.sampled_from([0, 0, 0, 2, 4, 40]))  # mostly none, sometimes a rest (once longer than 32)
        length = draw(st.integers(1, 32))
        notes.append(Note(now, draw(st.integers(40, 90)), length))
        now += length
    return notes, meter, pickup


@settings(max_examples=60, deadline=None)
@given(tunes_on_the_grid(), st.sampled_from(["major", "minor"]))
def test_words_give_back_every_note_and_rest_and_mark_every_bar(tune, mode):
    notes, meter, pickup = tune
    words = encode(notes, mode, meter, pickup)
    assert words[-1] == END and words.max() < VOCAB_SIZE
    body = words[HEADER_LENGTH:]
    assert decode(body).notes == notes
    assert decode(body).end_step == notes[-1].start + notes[-1].length
    bar = bar_steps(meter)
    first = pickup if pickup else 0
    lines = [b for b in range(first, notes[-1].start + 1, bar)]
    starts_after_line = {min(n.start for n in notes if n.start >= b) for b in lines}  # events may be rests too
    assert np.count_nonzero(body == BAR) >= len(starts_after_line)
    ends = [0] + [n.start + n.length for n in notes[:-1]]
    rest_words = sum(-(-(n.start - end) // 32) for n, end in zip(notes, ends))  # a rest word lasts 32 16ths at most
    assert note_count(body) == len(notes) + rest_words


def test_markov_probabilities_of_every_next_word_add_up_to_one(tunes):
    train = tunes.words("train")[:300]
    model = train_markov(train, 4)
    prefix = tunes.words("valid")[0][:20]
    candidates = [np.concatenate([prefix, [w]]) for w in range(VOCAB_SIZE)]
    for order in (0, 2, 4):
        last = [model.word_probabilities([c], order)[-1] for c in candidates]
        assert sum(last) == pytest.approx(1.0, abs=1e-9)
    seen, unseen = train[:20], tunes.words("test")[:20]
    assert bits_per_note(model.word_probabilities(seen), seen) < bits_per_note(model.word_probabilities(unseen), unseen)


def test_sampling_keeps_to_the_allowed_words_and_its_controls():
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    everything = np.ones(4, bool)
    rng = np.random.default_rng(0)
    assert {sample_word(logits, everything, Sampling(top_k=1, top_p=None), rng) for _ in range(50)} == {0}
    assert {sample_word(logits, everything, Sampling(top_p=0.6), rng) for _ in range(200)} == {0, 1}
    only_last = np.array([False, False, False, True])
    assert {sample_word(logits, only_last, Sampling(), rng) for _ in range(20)} == {3}
    cold = [sample_word(logits, everything, Sampling(temperature=0.2, top_p=None), rng) for _ in range(400)]
    hot = [sample_word(logits, everything, Sampling(temperature=3.0, top_p=None), rng) for _ in range(400)]
    assert np.mean(np.array(cold) == 0) > 0.9 > np.mean(np.array(hot) == 0)
    with pytest.raises(ValueError):
        Sampling(temperature=0)


def test_the_shipped_model_beats_the_markov_baseline_on_the_test_tunes(tunes, model):
    """What attention buys, on tunes neither model learned from: at least 0.2 bits per note."""
    train, valid, test = tunes.words("train"), tunes.words("valid"), tunes.words("test")[::3]
    order, _ = markov_baseline(train, valid)
    markov = bits_per_note(train_markov(train, order).word_probabilities(test), test)
    transformer = bits_per_note(model.word_probabilities(test), test)
    assert transformer <= markov - 0.2, (transformer, markov)


def test_long_tunes_are_scored_in_overlapping_windows(tunes, model):
    long = [w for w in tunes.words("test") if len(w) > model.config.context + 40][:2]
    assert long, "the test split has tunes longer than the context"
    probabilities = model.word_probabilities(long)
    assert len(probabilities) == sum(len(w) - HEADER_LENGTH for w in long)
    assert ((probabilities > 0) & (probabilities <= 1)).all()


@pytest.mark.parametrize("name", sorted(MELODIES))
def test_extend_keeps_the_tune_and_goes_on_in_its_key(model, name):
    melody = melody_roll(name)
    result = extend(melody, model, seconds=20, seed=1)
    given, new = melody.notes(0), result.new_notes
    assert result.music.notes(0)[: len(given)] == given  # the input kept note for note
    assert all(n.start >= result.new_from_step for n in new)
    new_seconds = (new[-1].start + new[-1].length - result.new_from_step) * melody.seconds_per_step
    assert new_seconds >= 15
    tonic, mode = melody_key(melody)
    assert np.mean([n.pitch % 12 in key_scale(tonic, mode) for n in new]) >= 0.85
    assert max(n.length for n in new) <= 2 * max(n.length for n in given)
    assert motif_share(new, given, 8) <= 0.5  # not a loop of the input
    last = new[-1]
    assert last.pitch % 12 == tonic and (last.start - melody.pickup_steps) % melody.steps_per_bar == 0
    again = extend(melody, model, seconds=20, seed=1)
    assert again.new_notes == new
    assert extend(melody, model, seconds=20, seed=2).new_notes != new


def test_extend_takes_the_melody_of_a_band_and_refuses_drums_and_bad_lengths(model):
    from lab_utils.samples import random_band_piece

    band = random_band_piece(3)
    melody = melody_of(band)
    assert melody.n_tracks == 1 and melody.notes(0)
    drums = band.track([k for k in range(band.n_tracks) if band.drums[k]][0])
    with pytest.raises(ExtendError, match="only drums"):
        melody_of(drums)
    for seconds in (0, -1, 601):
        with pytest.raises(ExtendError, match="--seconds"):
            extend(melody_roll("twinkle"), model, seconds=seconds)


def test_a_melody_in_any_key_is_read_in_c():
    notes = [Note(4 * i, 62 + p, 4) for i, p in enumerate([0, 2, 4, 5, 7, 9, 11, 12, 7, 4, 0])]  # D major
    read = melody_in_c(notes, (4, 4))
    assert (read.tonic, read.mode, read.shift) == (2, "major", -2)
    assert decode(read.words[HEADER_LENGTH:]).notes[0].pitch == 60


def test_the_extend_command(tmp_path):
    tune, band, drums, empty = (tmp_path / f"{n}.mid" for n in ("tune", "band", "drums", "empty"))
    from lab_utils.samples import random_band_piece

    write_midi(melody_roll("ode_to_joy"), tune)
    piece = random_band_piece(1)
    write_midi(piece, band)
    write_midi(piece.track([k for k in range(piece.n_tracks) if piece.drums[k]][0]), drums)
    empty.write_bytes(b"")
    out = tmp_path / "out"
    result = run_cli("extend", str(tune), str(band), str(drums), str(empty), "-o", str(out), "--seed", "4",
                     "--top-k", "8")
    assert result.returncode == 2
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2 and all(line.startswith("error: ") for line in errors), result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["band.mid", "tune.mid"]
    extended = read_midi(out / "tune.mid")
    assert extended.notes(0)[: len(melody_roll("ode_to_joy").notes(0))] == melody_roll("ode_to_joy").notes(0)
    assert extended.seconds >= melody_roll("ode_to_joy").seconds + 15
    assert run_cli("extend", str(tune), "-o", str(tmp_path / "again"), "--seed", "4", "--top-k", "8").returncode == 0
    assert (tmp_path / "again" / "tune.mid").read_bytes() == (out / "tune.mid").read_bytes()
    for bad in (["--seconds", "0"], ["--seconds", "601"], ["--top-k", "3", "--top-p", "0.5"], ["--temperature", "-1"]):
        refused = run_cli("extend", str(tune), "-o", str(tmp_path / "never"), *bad)
        assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert not (tmp_path / "never").exists()


def test_evaluate_reports_both_models_bits_per_note(tmp_path):
    folder = tmp_path / "melodies"
    folder.mkdir()
    for name in MELODIES:
        write_midi(melody_roll(name), folder / f"{name}.mid")
    (folder / "broken.mid").write_bytes(b"MThd")
    result = run_cli("evaluate", "--model", "transformer", "--melodies", str(folder), "--json", str(tmp_path / "t.json"))
    assert result.returncode == 0, result.stderr
    figures = json.loads((tmp_path / "t.json").read_text())
    bits = figures["bits_per_note"]
    assert set(bits) == {"transformer", "markov"} and 0 < bits["transformer"] < bits["markov"] < 12
    assert figures["tunes"] == len(MELODIES)
    assert figures["continuations"]["melodies"] == len(MELODIES)
    assert 0.85 <= figures["continuations"]["in_key"] <= 1


def test_litert_and_keras_score_alike(tunes):
    """The shipped LiteRT copy is the trained Keras network: the same probabilities to 1e-4."""
    words = tunes.words("test")[:5]
    lite, keras_model = (load_melody_model(runtime=r).word_probabilities(words) for r in ("litert", "keras"))
    assert np.abs(lite - keras_model).max() < 1e-4
