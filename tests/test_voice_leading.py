"""The joint decoder: what Bach's chorales teach it, and the rules a harmony teacher checks."""

from __future__ import annotations

import dataclasses
from itertools import combinations

import numpy as np
import pytest

from lab_utils.gan_config import SHIPPED_MODEL
from lab_utils.metrics import beat_pitches, figures, voice_leading_faults
from lab_utils.midi import Note, PianoRoll
from lab_utils.voice_leading import (CROSSING, _candidates, DECODER_FILE, N_LABELS, Decoder, count_voice_leading, decode_voices,
                                     load_decoder)

RANGES = [(57, 81), (53, 74), (48, 69), (36, 64)]  # soprano, alto, tenor, bass
C_MAJOR = (0, "major")


@pytest.fixture(scope="module")
def decoder() -> Decoder:
    return load_decoder(SHIPPED_MODEL)


def _flat(n_beats: int) -> np.ndarray:
    return np.zeros((n_beats, 128, 3))


def _parallels(melody: np.ndarray, voices: np.ndarray) -> list[tuple[int, int, int]]:
    """(beat, voice, voice) of every parallel fifth or octave between beats."""
    chords = np.column_stack([melody, voices])
    found = []
    for t in range(len(chords) - 1):
        for i, j in combinations(range(4), 2):
            a, b = chords[t], chords[t + 1]
            if min(a[i], a[j], b[i], b[j]) < 0 or a[i] == b[i] or a[j] == b[j]:
                continue
            same_way = np.sign(b[i] - a[i]) == np.sign(b[j] - a[j])
            if same_way and (a[i] - a[j]) % 12 == (b[i] - b[j]) % 12 and (b[i] - b[j]) % 12 in (0, 7):
                found.append((t, i, j))
    return found


def test_counts_are_probabilities_and_look_like_bach(dataset):
    stats = count_voice_leading(dataset.split("train")[:60])
    for mode in ("major", "minor"):
        rows = np.exp(np.asarray(stats.transitions[mode]))
        assert np.allclose(rows.sum(axis=1), 1.0, atol=1e-3)
        assert abs(sum(stats.chord_share[mode]) - 1.0) < 1e-6
    bass = np.exp(stats.bass_position)
    assert np.argmax(bass) == 0 and bass[0] > 0.5  # root position most of the time
    motion = np.exp(np.asarray(stats.motion))  # [melody holds, moves], voice, move
    assert np.allclose(motion.sum(axis=2), 1.0, atol=1e-3)
    assert motion[1, 2, 12 + 12] > motion[1, 2, 12 + 11]  # the bass leaps an octave more than a 7th
    assert motion[1, 2, 12] < motion[0, 2, 12]  # and holds its note less when the melody moves
    assert 0 < stats.melody_outside < 0.2 and all(0 <= r < 0.5 for r in stats.suspension)


def test_voices_in_range_below_the_melody_and_crossing_by_a_few_semitones_at_most(decoder):
    rng = np.random.default_rng(0)
    melody = np.array([72, 74, 76, 77, 79, 77, 76, 74, 72, 71, 72, -1, 67, 69, 71, 72])
    voices = decode_voices(melody, np.zeros(len(melody), bool), rng.uniform(-1, 1, (len(melody), 128, 3)),
                           RANGES, C_MAJOR, decoder)
    sung = melody >= 0
    assert (voices[~sung] == -1).all() and (voices[sung] >= 0).all()
    for v, (low, high) in enumerate(RANGES[1:]):
        assert ((voices[sung, v] >= low) & (voices[sung, v] <= high)).all()
    chords = np.column_stack([melody, voices])[sung]
    assert (chords[:, 1] <= chords[:, 0]).all()  # the alto never above the melody
    assert (chords[:, 2] <= chords[:, 1] + CROSSING).all() and (chords[:, 3] <= chords[:, 2] + CROSSING).all()


def test_the_tenor_and_the_bass_may_each_cross_the_voice_above_by_a_fourth():
    # Bach's bass crosses the tenor most often by a 4th (5 semitones), as his tenor crosses the alto
    pitches, _ = _candidates(72, np.array([0]), 0, RANGES, strict=False)  # C major under a C5
    alto, tenor, bass = pitches[:, 1], pitches[:, 2], pitches[:, 3]
    assert (tenor - alto).max() == CROSSING == (bass - tenor).max()


def test_a_note_out_of_every_voicings_reach_is_sung_alone(decoder):
    melody = np.array([72, 74, 110, 76])  # 110: no alto, tenor and bass can sit under it
    voices = decode_voices(melody, np.zeros(4, bool), _flat(4), RANGES, C_MAJOR, decoder)
    assert (voices[2] == -1).all() and (voices[[0, 1, 3]] >= 0).all()


def test_the_only_good_bass_avoids_parallels(decoder):
    # The generator wants the bass to double the melody two octaves down (parallel octaves
    # C-D-E) and the tenor to follow a fifth below the alto; the decoder must not obey.
    melody = np.array([72, 74, 76, 77])
    evidence = _flat(4)
    for beat, pitch in enumerate(melody):
        evidence[beat, pitch - 24, 2] = 5.0  # bass
        evidence[beat, pitch - 5, 0] = 5.0  # alto a 4th below: no parallels with the melody
        evidence[beat, pitch - 12, 1] = 5.0  # tenor an octave below: parallel octaves
    voices = decode_voices(melody, np.zeros(4, bool), evidence, RANGES, C_MAJOR, decoder)
    assert _parallels(melody, voices) == []
    assert (voices[:, 2] != melody - 24).any() and (voices[:, 1] != melody - 12).any()


@pytest.mark.parametrize("key,melody", [((0, "major"), [76, 74, 72, 74, 79, 77, 76, 74, 72, 72]),
                                        ((9, "minor"), [76, 72, 71, 69, 71, 72, 71, 68, 69, 69])])
def test_a_melody_ending_on_the_tonic_ends_over_a_root_position_tonic(decoder, key, melody):
    melody = np.array(melody)
    rng = np.random.default_rng(1)
    voices = decode_voices(melody, np.zeros(len(melody), bool), rng.uniform(-1, 1, (len(melody), 128, 3)),
                           RANGES, key, decoder, phrase_ends={8: "full"}, final=8)
    tonic = key[0]
    for beat in (8, 9):  # the final chord, held
        assert voices[beat, 2] % 12 == tonic
        third = (tonic + (4 if key[1] == "major" else 3)) % 12
        assert {int(p) % 12 for p in (melody[beat], *voices[beat])} <= {tonic, third, (tonic + 4) % 12, (tonic + 7) % 12}
    assert (voices[9] == voices[8]).all()


def test_a_half_cadence_asks_for_v(decoder):
    melody = np.array([72, 72, 71, 71, 72])  # C C B (phrase end on the 7th degree) ...
    voices = decode_voices(melody, np.zeros(5, bool), _flat(5), RANGES, C_MAJOR, decoder, phrase_ends={2: "half"})
    assert voices[2, 2] % 12 == 7  # G in the bass under the B


def test_shipped_decoder_weights_are_saved_beside_the_model():
    assert (SHIPPED_MODEL / DECODER_FILE).is_file()
    weights = load_decoder(SHIPPED_MODEL).weights
    assert weights.parallels > 0 and weights.rules > 0


def test_teacher_figures_of_a_hand_made_cadence():
    # soprano, alto, tenor, bass: G-C over D-C / B-G... V - I in C, root position, no crossing
    tracks = [[Note(0, 74, 4), Note(4, 72, 4)], [Note(0, 67, 4), Note(4, 67, 4)],
              [Note(0, 59, 4), Note(4, 64, 4)], [Note(0, 43, 4), Note(4, 48, 4)]]
    roll = PianoRoll.from_notes(tracks)
    faults = voice_leading_faults(roll, key=(0, "major"))
    assert faults["tonic_ending"] == 1.0 and faults["crossings"] == 0.0
    assert beat_pitches(roll).tolist() == [[74, 67, 59, 43], [72, 67, 64, 48]]
    crossed = PianoRoll.from_notes([tracks[0], tracks[2], tracks[1], tracks[3]])
    assert voice_leading_faults(crossed, key=(0, "major"))["crossings"] == 1.0
    assert figures(roll)["parallels"] == 0.0


def _price_paid(decoder: Decoder, before: list[int], after: list[list[int]], weight: str, price: float) -> np.ndarray:
    """What moving from the voicing ``before`` to each of ``after`` (soprano to bass, in C major)
    costs more with ``weight`` at ``price`` than at 0."""
    from lab_utils.voice_leading import _Beat, _move_tables, _transition

    prev = _Beat(np.array([before]), np.array([0]), np.zeros(1))
    cur = _Beat(np.array(after), np.zeros(len(after), int), np.zeros(len(after)))
    harmony = np.zeros((N_LABELS, N_LABELS), np.float32)
    scale = np.zeros(12, bool)
    scale[[0, 2, 4, 5, 7, 9, 11]] = True
    scores = []
    for value in (0.0, price):
        weights = dataclasses.replace(decoder.weights, **{weight: value})
        scores.append(_transition(prev, cur, harmony, _move_tables(decoder.stats, weights, 0, scale), weights)[0])
    return scores[0] - scores[1]


def test_a_bass_standing_still_under_moving_voices_pays_its_price(decoder):
    paid = _price_paid(decoder, [72, 64, 55, 48], [[74, 65, 59, 48], [74, 65, 59, 43], [72, 64, 55, 48]], "still", 2.0)
    # three upper voices move over a held C3: 2 more; the bass moving, or nothing moving: no change
    assert paid == pytest.approx([2.0, 0.0, 0.0])


def test_a_beat_of_two_pitch_classes_pays_its_price(decoder):
    from lab_utils.voice_leading import _Beat, _state_score

    beat = _Beat(np.array([[72, 64, 60, 48], [72, 64, 55, 48]]), np.zeros(2, int), np.zeros(2))  # C E C C, C E G C
    scale = np.zeros(12, bool)
    scale[[0, 2, 4, 5, 7, 9, 11]] = True
    scores = [_state_score(beat, _flat(1)[0], decoder.stats, dataclasses.replace(decoder.weights, incomplete=price),
                           0, scale) for price in (0.0, 3.0)]
    assert scores[0] - scores[1] == pytest.approx([3.0, 0.0])


def test_each_pair_of_voices_in_unison_pays_the_unison_price_once(decoder):
    from lab_utils.voice_leading import _Beat, _state_score

    # C E G C; C E E C (alto and tenor on one E); C C C C an octave apart (no unison); G G G G (three
    # pairs); C G E G, the tenor crossed above the alto onto the bass's G (one pair, not neighbours by role)
    beat = _Beat(np.array([[72, 64, 55, 48], [72, 64, 64, 48], [72, 60, 48, 36], [67, 67, 67, 67], [72, 55, 64, 55]]),
                 np.zeros(5, int), np.zeros(5))
    scale = np.zeros(12, bool)
    scale[[0, 2, 4, 5, 7, 9, 11]] = True
    scores = [_state_score(beat, _flat(1)[0], decoder.stats, dataclasses.replace(decoder.weights, unison=price),
                           0, scale) for price in (0.0, 1.5)]
    assert scores[0] - scores[1] == pytest.approx([0.0, 1.5, 0.0, 4.5, 1.5])


def test_a_voice_moving_past_its_neighbours_last_pitch_pays_the_overlap_price(decoder):
    # the tenor rises to F4, above the alto's E4 of the beat before; the tenor rises to A3 only
    paid = _price_paid(decoder, [72, 64, 55, 48], [[74, 62, 65, 50], [74, 65, 57, 50]], "overlap", 1.5)
    assert paid == pytest.approx([1.5, 0.0])


def test_motion_weighs_the_interval_among_moves_and_gives_keeping_a_pitch_even_odds(decoder):
    from lab_utils.voice_leading import MOTION_SPAN, _interval_odds

    weights = dataclasses.replace(decoder.weights, motion=1.0, inner_motion=1.0)
    odds = _interval_odds(decoder.stats, weights)  # melody holds/moves, alto/tenor/bass, interval
    stay = MOTION_SPAN
    assert odds[:, :, stay] == pytest.approx(np.full((2, 3), -np.log(2 * MOTION_SPAN + 1)))
    moves = np.delete(np.exp(odds), stay, axis=2)
    assert moves.sum(axis=2) == pytest.approx(np.ones((2, 3)), abs=1e-3)
    assert odds[1, 2, stay + 2] > odds[1, 2, stay]  # Bach's bass steps up a tone more than at even odds
    half = _interval_odds(decoder.stats, dataclasses.replace(weights, inner_motion=0.5))
    assert half[:, :2] == pytest.approx(odds[:, :2] / 2) and half[:, 2] == pytest.approx(odds[:, 2])


def test_without_offbeat_evidence_the_offbeat_moves_follow_bachs_odds_alone(decoder):
    from lab_utils.voice_leading import add_offbeat_motion

    voices = np.array([[64, 55, 48], [62, 59, 43], [60, 52, 45], [62, 55, 41], [64, 55, 48]])
    melody = np.array([72, 74, 76, 77, 76])
    weights = dataclasses.replace(decoder.weights, offbeat_gan=0.0)
    noise = np.random.default_rng(0)
    results = [add_offbeat_motion(voices, noise.normal(size=(5, 128, 3)) * 10, melody, melody, {0, 2, 4, 5, 7, 9, 11},
                                  Decoder(decoder.stats, weights), np.random.default_rng(7)) for _ in range(2)]
    assert (results[0] == results[1]).all() and (results[0] != voices).any()
    swayed = [add_offbeat_motion(voices, noise.normal(size=(5, 128, 3)) * 10, melody, melody, {0, 2, 4, 5, 7, 9, 11},
                                 Decoder(decoder.stats, dataclasses.replace(weights, offbeat_gan=1.0)),
                                 np.random.default_rng(7)) for _ in range(4)]
    assert any((s != swayed[0]).any() for s in swayed[1:])  # with it, the evidence sways them


def test_a_styles_melody_centre_is_where_its_melodies_sing_not_the_middle_of_their_range():
    from lab_utils.catalog import load_style
    from lab_utils.harmonize import _melody_centre

    pieces = load_style("palestrina").split("train")[:20]
    stats = count_voice_leading(pieces)
    notes = [n for p in pieces for n in p.roll().notes(0)]
    assert stats.melody_centre == pytest.approx(np.average([n.pitch for n in notes], weights=[n.length for n in notes]),
                                                abs=0.01)
    ranges = [(53, 79), (48, 79), (46, 74), (40, 72)]  # Palestrina's: the middle of the soprano's is 66
    assert _melody_centre(Decoder(stats), ranges) == stats.melody_centre != 66
    assert _melody_centre(Decoder(dataclasses.replace(stats, melody_centre=None)), ranges) == 66


def test_a_voice_does_not_hold_into_parallel_fifths_with_a_melody_moving_on_the_off_beat(decoder):
    from lab_utils.voice_leading import add_offbeat_motion

    # C5 over G4 on the beat, the melody passes D5 on the off-beat and reaches E5 over A4: an alto
    # holding G4 would move in parallel fifths with it (D5/G4 -> E5/A4); it skips to C5 instead
    voices = np.array([[67, 60, 48], [69, 60, 48]])  # C major, then A minor over its C
    melody, melody_mid = np.array([72, 76]), np.array([74, 76])
    weights = dataclasses.replace(decoder.weights, offbeat_gan=0.0)
    for seed in range(5):
        mid = add_offbeat_motion(voices, _flat(2), melody, melody_mid, {0, 2, 4, 5, 7, 9, 11},
                                 Decoder(decoder.stats, weights), np.random.default_rng(seed))
        assert mid[0, 0] == 72
