"""A beginner's read of Labs 7 and 8 executed with real settings: every sentence those labs print
to read an output comes from these functions, so each is checked both ways on made-up pieces
(fast: no trained model, no notebook run)."""

from __future__ import annotations

import numpy as np
import pytest

from lab_utils.audio import SAMPLE_RATE
from conftest import composition_by_hand
from lab_utils.compose import Composition, Section, played_phrase
from lab_utils.export import upload_metadata
from lab_utils.judging import COMPOSE_TARGETS, Criterion, bar_novelty, judge, moved_most
from lab_utils.metrics import distance_to_bach, figures
from lab_utils.midi import Note, PianoRoll
from lab_utils.motion import Texture, beat_parallels, step_shares, texture, texture_sentences
from lab_utils.styles import deciding_figures, distance_parts


# Lab 7, cell 5: the GAN's progress line counts the sections by kind

@pytest.mark.parametrize("kinds, said", [
    (["theme", "new phrase", "variation"], "the theme, 1 new phrase and 1 variation"),
    (["theme", "variation", "variation"], "the theme and 2 variations"),
    (["theme", "new phrase", "variation", "new phrase", "variation"], "the theme, 2 new phrases and 2 variations"),
    (["theme"], "the theme")])
def test_progress_line_names_each_kind_of_section(kinds, said):
    """The real run printed "the theme and 2 variation(s)" for a theme, a new phrase and a variation."""
    assert played_phrase([Section(kind, 0, 4) for kind in kinds]) == said


# Lab 7, cells 12 and 14-17: the judging table and the side-by-side of two seeds

def _piece(top: list[list[Note]], sections: list[Section], final_bass: int = 48) -> Composition:
    """A composition by hand: the top line plays ``top`` bar by bar from the end of the 2-bar intro
    over a held chord that ends on ``final_bass``; 16 steps a bar."""
    steps, first = 16, sections[1].start_bar
    notes = [(n._replace(start=(first + b) * steps + n.start), 80) for b, bar in enumerate(top) for n in bar]
    held = [[(Note(first * steps, pitch, len(top) * steps), 60)] for pitch in (64, 55, final_bass)]
    return composition_by_hand([notes, *held], sections, "By hand")


TUNE = [[Note(0, 60, 4), Note(4, 62, 4), Note(8, 64, 8)], [Note(0, 67, 16)]]
NEW = [[Note(0, 65, 8), Note(8, 69, 8)], [Note(0, 71, 4), Note(4, 72, 12)]]
FORM = [Section("intro", 0, 2), Section("theme", 2, 2, (0, 2)), Section("new phrase", 4, 2, (0, 2), -5),
        Section("variation", 6, 2, (0, 2)), Section("coda", 8, 1)]


def _noise() -> np.ndarray:
    """Five seconds of quiet stereo noise: the audio's figures play no part here."""
    return np.random.default_rng(0).normal(0.0, 0.05, (SAMPLE_RATE * 5, 2)).astype(np.float32)


def test_originality_says_which_bars_it_counts_and_how_many_are_new():
    """The real table gave 0.58 without saying over which bars: the top line's, in the theme, the new
    phrase and the variation (the intro and coda, where it strikes nothing, are not counted)."""
    piece = _piece(TUNE + NEW + [TUNE[0], NEW[1]], FORM)
    assert bar_novelty(piece) == {2: False, 3: False, 4: True, 5: True, 6: False, 7: True}
    originality = judge(piece, _noise())[0]
    assert originality.value == pytest.approx(0.5)
    assert "6 here, in the theme, the new phrase and the variation" in originality.proxy
    assert originality.proxy.endswith(": 3 of 6")
    copied = judge(_piece(TUNE + TUNE + TUNE, FORM), _noise())[0]
    assert copied.value == 0.0 and copied.proxy.endswith(": 0 of 6")


def test_feeling_says_yes_or_no_for_the_tonic_ending():
    """The real table printed "ends on the tonic: True"."""
    assert "ends on the tonic: yes" in judge(_piece(TUNE * 3, FORM), _noise())[4].proxy
    assert "ends on the tonic: no" in judge(_piece(TUNE * 3, FORM, final_bass=43), _noise())[4].proxy


def test_judge_gives_each_criterion_its_target_range():
    ranges = [c.target_range for c in judge(_piece(TUNE * 3, FORM), _noise())]
    assert ranges[0] == COMPOSE_TARGETS["originality"] and ranges[1] == COMPOSE_TARGETS["offbeat_motion"]
    assert ranges[3] == (0.0, 0.0)  # no clipped peaks


def _criterion(name: str, value: float, target_range: tuple[float, float]) -> Criterion:
    return Criterion(name, "", value, "", True, "", target_range=target_range)


def _judged(rhythm: float, feeling: float, clipped: float = 0.0) -> list[Criterion]:
    return [_criterion("Rhythm", rhythm, (0.35, 0.85)), _criterion("Cleanliness of sound", clipped, (0.0, 0.0)),
            _criterion("The feeling it leaves", feeling, (6.0, 60.0))]


def test_moved_most_weighs_each_change_by_its_target_range():
    """The real run: Rhythm 0.54 -> 0.60 (a share), Feeling 16.80 -> 16.89 (LU): the larger number
    moved less, measured against its target."""
    assert moved_most(_judged(0.54, 16.80), _judged(0.60, 16.89)) == (
        "moved most: Rhythm, 0.54 → 0.60 (12% of its 0.35-0.85 target range)")
    assert moved_most(_judged(0.54, 16.80), _judged(0.56, 26.80)).startswith(
        "moved most: The feeling it leaves, 16.80 → 26.80 (19% of its 6-60 target range)")
    assert moved_most(_judged(0.54, 16.80), _judged(0.80, 40.0, clipped=2)) == (
        "moved most: Cleanliness of sound, 0.00 → 2.00 (its target is 0, so any change counts)")
    assert moved_most(_judged(0.54, 16.80), _judged(0.54, 16.80)) == "moved most: none, every figure is the same for both"


def test_exported_parameters_name_what_they_count():
    """The JSON said "originality": 0.5577 (notes not copied) beside the table's 0.58 (new bars)."""
    parameters = upload_metadata(_piece(TUNE * 3, FORM), "twinkle", {})["parameters"]
    assert parameters["notes_not_copied"] == 1.0 and "originality" not in parameters


# Lab 8: rests and unisons (cell 27's `voices`), parallels on the decoder's beats (cell 17), steps (cell 23)

def _choir(*voices: list[Note], n_steps: int = 32, time_signature: tuple[int, int] = (4, 4)) -> PianoRoll:
    return PianoRoll.from_notes(list(voices), n_steps=n_steps, time_signature=time_signature)


def test_texture_tells_unisons_from_rests():
    """The real "your model" had `voices` 3.75 with no rest at all: 2,908 of 11,088 steps were unisons."""
    unisons = _choir([Note(0, 72, 32)], [Note(0, 72, 16), Note(16, 67, 16)], [Note(0, 60, 32)], [Note(0, 48, 32)])
    assert texture([unisons]) == Texture(steps=32, rests=0, unisons=16)
    assert figures(unisons)["voices"] == 3.5  # lowered by the unison alone
    rests = _choir([Note(0, 72, 32)], [Note(0, 67, 16)], [Note(0, 60, 32)], [Note(0, 48, 32)])
    assert texture([rests]) == Texture(steps=32, rests=16, unisons=0)
    assert figures(rests)["voices"] == 3.5  # the same figure, from a rest
    full = _choir([Note(0, 72, 32)], [Note(0, 67, 32)], [Note(0, 60, 32)], [Note(0, 48, 32)])
    assert texture([full, rests]) == Texture(steps=64, rests=16, unisons=0)


def test_parallels_on_the_decoders_beats_leave_out_the_quarters_between():
    """The real table read 0.65 and 0.37 parallels per 100 moves for the two Palestrina models,
    whose decoder keeps its rule on half-note beats: soprano and bass a fifth apart, moving together
    on the half-note beat (counted both ways), or only on the quarter between two beats."""
    fifths = PianoRoll.from_notes([[Note(0, 76, 8), Note(8, 74, 8)], [Note(0, 67, 16)], [Note(0, 64, 16)],
                                   [Note(0, 69, 8), Note(8, 67, 8)]], n_steps=16, time_signature=(4, 2))
    assert figures(fifths)["parallels"] > 0 and beat_parallels(fifths) > 0  # on the half-note beats: counted
    on_quarters = PianoRoll.from_notes([[Note(0, 76, 4), Note(4, 74, 4), Note(8, 76, 8)], [Note(0, 67, 16)],
                                        [Note(0, 64, 16)], [Note(0, 69, 4), Note(4, 67, 4), Note(8, 69, 8)]],
                                       n_steps=16, time_signature=(4, 2))
    assert figures(on_quarters)["parallels"] > 0  # the table's row counts every quarter
    assert beat_parallels(on_quarters) == 0.0 and beat_parallels(on_quarters, 2) == 0.0  # 4/2's beats: none
    assert beat_parallels(on_quarters, 1) == figures(on_quarters)["parallels"]  # a quarter-note decoder: every quarter


def test_texture_sentences_name_the_beats_they_count_on():
    roll = _choir([Note(0, 72, 32)], [Note(0, 72, 32)], [Note(0, 60, 32)], [Note(0, 48, 32)])
    lines = texture_sentences({"Palestrina": [roll], "your model": [roll]}, {"your model": 2}).splitlines()
    assert lines[0] == ("- Palestrina: of 32 sounding 16ths, a voice rests on 0 (0%) and two voices sing one pitch on "
                        "32 (100%); parallels on the beats of each piece's meter: 0.00 per 100 moves")
    assert "parallels on its decoder's beats (every half note)" in lines[1]


def test_step_shares_count_moves_to_another_pitch():
    """Cell 23 said every voice mostly moves by steps; the real Twinkle's basses did not."""
    roll = _choir([Note(0, 72, 32)], [Note(0, 67, 8), Note(8, 67, 8), Note(16, 69, 16)],
                  [Note(0, 64, 32)], [Note(0, 48, 8), Note(8, 50, 8), Note(16, 55, 8), Note(24, 43, 8)])
    shares = step_shares(roll)
    assert shares["alto_steps"] == 1.0  # the repeated G is no move
    assert shares["bass_steps"] == pytest.approx(1 / 3)  # C-D a step; D-G, G-G' leaps
    assert np.isnan(shares["tenor_steps"])  # never moves


# Lab 8, cell 30: which figure decides the style a model lands nearer

def _references(roll: PianoRoll) -> tuple[dict, dict]:
    """Two styles' figures, each the roll's own but for one figure: one far in `voices`, the other
    (less far) in `block_attacks`."""
    values = figures(roll)
    own = {f: (values[f], 0.1) for f in values}
    return own | {"voices": (values["voices"] - 0.5, 0.1)}, own | {"block_attacks": (values["block_attacks"] + 0.2, 0.1)}


def test_distance_parts_add_up_to_the_distance():
    roll = _choir([Note(0, 72, 16), Note(16, 74, 16)], [Note(0, 67, 32)], [Note(0, 64, 8), Note(8, 60, 24)],
                  [Note(0, 48, 32)])
    far, near = _references(roll)
    parts = distance_parts([roll, roll], far)
    assert sum(parts.values()) == pytest.approx(distance_to_bach(figures(roll), far))
    assert max(parts, key=parts.get) == "voices"


def test_deciding_figures_names_the_figure_that_decides():
    roll = _choir([Note(0, 72, 16), Note(16, 74, 16)], [Note(0, 67, 32)], [Note(0, 64, 8), Note(8, 60, 24)],
                  [Note(0, 48, 32)])
    far, near = _references(roll)
    said = deciding_figures({"your model": {"Palestrina": [roll]}}, {"Bach": far, "Palestrina": near})
    assert said.startswith("- On Palestrina's melodies your model is nearer Palestrina (")
    assert "decided most by `voices`" in said and "to Bach: `voices`" in said and "to Palestrina: `block_attacks`" in said
    swapped = deciding_figures({"Bach model": {"Bach": [roll]}}, {"Bach": near, "Palestrina": far})
    assert swapped.startswith("- On Bach's melodies the Bach model is nearer Bach (") and "decided most by `voices`" in swapped
