"""Harmonize a melody of any length with the GAN, and decode its output into singable voices.

The melody is moved by octaves into the soprano's range, cut into overlapping 2-bar windows
on the bar lines (one bar apart), and the generator's outputs are averaged where windows
overlap, so one bar flows into the next. Each voice is then decoded as one line (at most one
pitch per step) by a Viterbi search that prefers the generator's loudest pitches, moves on
8th-note positions only, avoids big leaps and stays below the voice above it. Track 0 of the
result is the input melody, untouched.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np

from .chorales import CHOIR_PROGRAMS, GAN_WINDOW_STEPS, VOICES
from .gan import GanConfig
from .metrics import CHORDS, estimate_key, key_scale
from .midi import N_PITCHES, STEPS_PER_BEAT, PianoRoll

__all__ = ["harmonize", "decode_voice", "load_harmonizer"]

SOPRANO_CENTRE = 70  # Bach's sopranos sing around A#4
CHANGE_COST = 0.35  # price of moving to another pitch, in units of the generator's output
LEAP_COST = 0.06  # extra price per semitone of a leap
MAX_LEAP = 9
CHORD_BONUS = 1.0  # how firmly voices keep to the beat's chord tones
KEY_PENALTY = 0.5  # price of a note outside the key
UNISON_COST = 0.3  # price of singing the same pitch as the voice above
PARALLEL_COST = 3.0  # price of a parallel fifth or octave with a voice already decoded
BATCH = 64  # windows per generator call: memory stays bounded for any length


def _parallel_cost(pitches: np.ndarray, from_pitches: np.ndarray, others: list[np.ndarray],
                   t: int) -> np.ndarray | float:
    """[to, from] cost of moves that make parallel fifths or octaves with ``others``.

    On a beat, motion is judged from the previous beat (``from_pitches``: where each path was
    then), as a listener hears it; elsewhere from the step before.
    """
    cost = 0.0
    previous = t - STEPS_PER_BEAT if t % STEPS_PER_BEAT == 0 and t >= STEPS_PER_BEAT else t - 1
    for other in others:
        before, after = other[previous], other[t]
        if before < 0 or after < 0 or before == after:
            continue
        interval_before = (from_pitches[None, :] - before) % 12
        interval_after = (pitches[:, None] - after) % 12
        same_way = np.sign(pitches[:, None] - from_pitches[None, :]) == np.sign(after - before)
        cost = cost + PARALLEL_COST * ((interval_before == interval_after)
                                       & np.isin(interval_after, (0, 7)) & same_way)
    return cost


def decode_voice(scores: np.ndarray, low: int, high: int, ceiling: np.ndarray,
                 singing: np.ndarray, others: list[np.ndarray] = ()) -> np.ndarray:
    """The best single line through ``scores`` (T, 128): a pitch per step, -1 for rests.

    ``ceiling[t]`` is the highest pitch allowed at step t (the voice above; unisons allowed),
    ``singing[t]`` says whether the choir sings there; pitches change only on even steps
    (8th-note positions); moves in parallel fifths or octaves with ``others`` cost extra.
    """
    n_steps = scores.shape[0]
    pitches = np.arange(low, high + 1)
    n = len(pitches)
    leap = np.abs(pitches[:, None] - pitches[None, :])
    move = np.where(leap == 0, 0.0, CHANGE_COST + LEAP_COST * leap)
    move[leap > MAX_LEAP] = np.inf
    value = np.full(n, -np.inf)
    back = np.zeros((n_steps, n), dtype=np.int32)
    for t in range(n_steps):
        emit = scores[t, low : high + 1].astype(np.float64)
        allowed = pitches <= ceiling[t]
        if singing[t] and allowed.any():  # (a melody too low for this voice: ignore the ceiling)
            emit = np.where(allowed, emit - UNISON_COST * (pitches == ceiling[t]), -np.inf)
        elif not singing[t]:
            emit = np.zeros(n)
        if t == 0:
            back[t] = np.arange(n)
            value = emit.copy()
            beat_pitch = pitches.copy()
            continue
        if t % 2 == 0:  # a new pitch may start on an 8th-note position
            on_beat = t % STEPS_PER_BEAT == 0
            from_pitches = beat_pitch if on_beat else pitches
            total = value[None, :] - move - _parallel_cost(pitches, from_pitches, others, t)
            back[t] = np.argmax(total, axis=1)  # total is [to, from]
            value = total[np.arange(n), back[t]] + emit
            beat_pitch = pitches.copy() if on_beat else beat_pitch[back[t]]
        else:
            back[t] = np.arange(n)
            value = value + emit
        if not np.isfinite(value).any():  # no allowed path (the ceiling jumped): start afresh
            back[t] = np.arange(n)
            value = emit.copy()
            beat_pitch = pitches.copy()
    line = np.empty(n_steps, dtype=np.int64)
    state = int(np.argmax(value)) if np.isfinite(value).any() else 0
    for t in range(n_steps - 1, -1, -1):
        line[t] = pitches[state]
        state = back[t, state]
    return np.where(singing, line, -1)


def beat_chords(scores: np.ndarray, line: np.ndarray, scale: set[int]) -> list[frozenset[int] | None]:
    """The chord of each beat: the in-key triad or seventh the generator's voices lean to most.

    ``scores`` (T, 128, 3) is the generator's output, ``line`` the melody (-1 for rests). A
    chord must hold the melody's pitch class where the melody sings on the beat.
    """
    chords = [c for c in CHORDS if c <= scale]
    chord_masks = np.array([[pc in c for pc in range(12)] for c in chords], dtype=np.float64)
    sizes = chord_masks.sum(axis=1)
    per_beat: list[frozenset[int] | None] = []
    for start in range(0, len(line), STEPS_PER_BEAT):
        block = scores[start : start + STEPS_PER_BEAT // 2].mean(axis=0)  # (128, 3)
        strength = np.full(12, -1.0)
        for pc in range(12):
            strength[pc] = block[pc::12].max(axis=0).sum()  # how much the voices want this pc
        fit = chord_masks @ (strength + 3.0) / np.sqrt(sizes)  # shift: scores lie in [-1, 1] per voice
        melody = line[start]
        if melody >= 0:
            fit = np.where(chord_masks[:, melody % 12] > 0, fit, -np.inf)
        per_beat.append(chords[int(np.argmax(fit))] if np.isfinite(fit).any() else None)
    return per_beat


def _chord_scores(scores: np.ndarray, chords: list[frozenset[int] | None]) -> np.ndarray:
    """Scores with chord tones raised and other notes lowered on the first half of each beat."""
    out = scores.copy()
    pcs = np.arange(N_PITCHES) % 12
    for beat, chord in enumerate(chords):
        if chord is None:
            continue
        inside = np.isin(pcs, list(chord))
        start = beat * STEPS_PER_BEAT
        span = out[start : start + STEPS_PER_BEAT // 2]
        span += np.where(inside, CHORD_BONUS, -CHORD_BONUS)[None, :, None]
    return out


def _octave_shift(melody: PianoRoll, soprano_range: tuple[int, int]) -> int:
    """Semitones (a multiple of 12) that bring the melody's centre into the soprano's range.

    Warns when the melody is far from a soprano's range (two octaves or more away) or still
    reaches beyond it after the move.
    """
    notes = melody.notes(0)
    centre = np.average([n.pitch for n in notes], weights=[n.length for n in notes])
    shift = 12 * int(round((SOPRANO_CENTRE - centre) / 12))
    low, high = min(n.pitch for n in notes) + shift, max(n.pitch for n in notes) + shift
    if abs(shift) >= 24 or low < soprano_range[0] - 5 or high > soprano_range[1] + 5:
        warnings.warn(f"melody moved by {shift:+d} semitones to fit the choir (it spans "
                      f"{low - shift}-{high - shift}); the voices move back with it", stacklevel=3)
    return shift


def _generator_scores(generator: keras.Model, config: GanConfig, melody_line: np.ndarray,
                      bar: int, rng: np.random.Generator) -> np.ndarray:
    """Averaged generator output (T, 128, 3) for a padded melody line of length T."""
    n_steps = len(melody_line)
    starts = list(range(0, max(1, n_steps - GAN_WINDOW_STEPS + bar), bar))
    total = np.zeros((n_steps, N_PITCHES, 3), np.float32)
    counts = np.zeros((n_steps, 1, 1), np.float32)
    low, high = config.pitch_low, config.pitch_low + config.n_pitches
    for first in range(0, len(starts), BATCH):
        chunk = starts[first : first + BATCH]
        windows = -np.ones((len(chunk), GAN_WINDOW_STEPS, config.n_pitches, 1), np.float32)
        for i, s in enumerate(chunk):
            part = melody_line[s : s + GAN_WINDOW_STEPS]
            steps = np.nonzero((part >= low) & (part < high))[0]
            windows[i, steps, part[steps] - low, 0] = 1.0
        noise = rng.standard_normal((len(chunk), *config.latent_shape)).astype(np.float32)
        voices = np.asarray(generator([windows, noise], training=False))
        for i, s in enumerate(chunk):
            end = min(n_steps, s + GAN_WINDOW_STEPS)
            total[s:end, low:high] += voices[i, : end - s]
            counts[s:end] += 1
    total[:, low:high] /= np.maximum(counts, 1)
    total[:, :low] = total[:, high:] = -1.0
    return total


def harmonize(melody: PianoRoll, generator: keras.Model, config: GanConfig,
              voice_ranges: list[tuple[int, int]], seed: int = 0) -> PianoRoll:
    """Four voices for a one-track melody of any length and meter: the melody stays track 0."""
    if melody.n_tracks != 1:
        raise ValueError("harmonize takes a one-track melody (see midi.extract_melody)")
    if not melody.onsets.any():
        raise ValueError("the melody has no notes")
    rng = np.random.default_rng(seed)
    shift = _octave_shift(melody, voice_ranges[0])
    bar = melody.steps_per_bar
    pad = (bar - melody.pickup_steps % bar) % bar  # bar lines fall on multiples of the bar
    n_steps = pad + melody.n_steps
    n_steps += (-n_steps) % bar + max(0, GAN_WINDOW_STEPS - n_steps - (-n_steps) % bar)
    line = np.full(n_steps, -1, dtype=np.int64)
    top = N_PITCHES - 1 - np.argmax(melody.sounding[:, ::-1, 0], axis=1)
    sounding = melody.sounding[:, :, 0].any(axis=1)
    line[pad : pad + melody.n_steps] = np.where(sounding, np.clip(top + shift, 0, N_PITCHES - 1), -1)

    scores = _generator_scores(generator, config, line, bar, rng)
    scale = key_scale(*estimate_key(melody))
    scores = _chord_scores(scores, beat_chords(scores, line, scale))
    scores -= KEY_PENALTY * ~np.isin(np.arange(N_PITCHES) % 12, list(scale))[None, :, None]
    singing = line >= 0
    melody_onsets = np.zeros(n_steps, bool)
    melody_onsets[pad : pad + melody.n_steps] = melody.onsets[:, :, 0].any(axis=1)
    ceiling = np.where(singing, line, N_PITCHES)
    voice_lines = []
    for v, (low, high) in enumerate(voice_ranges[1:]):
        voice = decode_voice(scores[:, :, v], low, high, ceiling, singing, [line, *voice_lines])
        voice_lines.append(voice)
        ceiling = np.where(voice >= 0, voice, ceiling)

    out_sounding = np.zeros((melody.n_steps, N_PITCHES, 4), bool)
    out_onsets = np.zeros_like(out_sounding)
    out_sounding[:, :, 0] = melody.sounding[:, :, 0]
    out_onsets[:, :, 0] = melody.onsets[:, :, 0]
    steps = np.arange(melody.n_steps)
    piece = slice(pad, pad + melody.n_steps)
    restrike = (melody_onsets & (np.arange(n_steps) % STEPS_PER_BEAT == 0))[piece]  # a new syllable
    for v, voice in enumerate(voice_lines, start=1):
        part = voice[piece]
        sings = part >= 0
        pitch = np.clip(part - shift, 0, N_PITCHES - 1)
        struck = sings & ((np.roll(part, 1) != part) | restrike)
        struck[0] = sings[0]
        out_sounding[steps[sings], pitch[sings], v] = True
        out_onsets[steps[struck], pitch[struck], v] = True
    return PianoRoll(out_sounding, out_onsets, tempo=melody.tempo, time_signature=melody.time_signature,
                     pickup_steps=melody.pickup_steps, names=list(VOICES), programs=list(CHOIR_PROGRAMS))


def load_harmonizer(folder: str | None = None):
    """A function (melody, seed) -> four voices, from the shipped GAN or a trained ``folder``.

    Raises FileNotFoundError (with a one-line reason) where there is no model.
    """
    from .gan import generator_folder, load_generator

    generator, config, ranges = load_generator(generator_folder(folder))
    return lambda melody, seed=0: harmonize(melody, generator, config, ranges, seed=seed)
