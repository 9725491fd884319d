"""Harmonize a melody of any length with the GAN, and decode its output into singable voices.

The melody is moved by octaves into the soprano's range, cut into overlapping 2-bar windows
on the bar lines (one bar apart), and the generator's outputs are averaged where windows
overlap, so one bar flows into the next. That average is the evidence: how much the GAN wants
each pitch in each voice. ``voice_leading.decode_voices`` then chooses alto, tenor and bass
together, a chord and its voicing per beat, weighing the evidence against how Bach leads
voices; on the off-beat 8th a voice holds, passes or skips to another chord tone. Track 0 of the result is the
input melody, untouched.

A model of another style (``styles``) whose parts are not all voices reads each part straight
from the evidence by its kind (``parts_from``): a voice the strongest pitch per 8th, chords every
pitch the generator wants per 8th, drums a hit where a drum starts to sound.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path

from typing import Any

import numpy as np

from .pieces import CHOIR_ROLES, GAN_WINDOW_STEPS, Roles
from .gan_config import (GENERATOR_TFLITE, SHIPPED_MODEL, GanConfig, generator_folder, read_generator_config,
                         read_generator_style)
from .metrics import key_scale, melody_key
from .midi import N_PITCHES, STEPS_PER_BEAT, Note, PianoRoll, beat_scale, on_quarter_beats, top_pitches
from .runtime import Runner, as_runner, import_tensorflow, load_runner
from .voice_leading import DECODER_FILE, Decoder, add_offbeat_motion, add_ornaments, decode_voices, melody_steps_on, load_decoder

__all__ = ["harmonize", "Harmonizer", "Evidence", "generator_evidence", "decode", "voices_from", "parts_from",
           "phrase_ends", "load_harmonizer", "decoder_for"]

SOPRANO_CENTRE = 70  # Bach's sopranos sing around A#4 (another style's model records its melody's centre)
MAX_CHORD_NOTES = 4  # a chords part plays at most this many of the pitches the generator wants
BATCH = 64  # windows per generator call: memory stays bounded for any length
PHRASE_END_STEPS = 2 * STEPS_PER_BEAT  # a melody note this long (or before a rest) ends a phrase


def _octave_shift(melody: PianoRoll, voice_ranges: list[tuple[int, int]], centre_wanted: float) -> int:
    """Semitones (a multiple of 12) that bring the melody's centre into the soprano's range by the
    smallest move (none where it already lies there, so the other voices keep their own ranges
    too), or, where no octave does, nearest ``centre_wanted``; no further than every voice, moved
    back by as much, stays a MIDI pitch.

    Warns when the melody is far from a soprano's range (two octaves or more away) or still
    reaches beyond it after the move.
    """
    notes = melody.notes(0)
    centre = np.average([n.pitch for n in notes], weights=[n.length for n in notes])
    lowest, highest = min(low for low, _ in voice_ranges), max(high for _, high in voice_ranges)
    soprano_range = voice_ranges[0]

    def misfit(shift: int) -> tuple[bool, float]:
        inside = soprano_range[0] <= centre + shift <= soprano_range[1]
        return not inside, abs(shift) if inside else abs(centre + shift - centre_wanted)

    shift = min(range(-12 * ((N_PITCHES - 1 - highest) // 12), 12 * (lowest // 12) + 1, 12), key=misfit)
    low, high = min(n.pitch for n in notes) + shift, max(n.pitch for n in notes) + shift
    if abs(shift) >= 24 or low < soprano_range[0] - 5 or high > soprano_range[1] + 5:
        warnings.warn(f"melody moved by {shift:+d} semitones to fit the choir (it spans "
                      f"{low - shift}-{high - shift}); the voices move back with it", stacklevel=3)
    return shift


def _generator_scores(generator: Runner, config: GanConfig, melody_line: np.ndarray,
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
        voices = generator(melody=windows, noise=noise)
        for i, s in enumerate(chunk):
            end = min(n_steps, s + GAN_WINDOW_STEPS)
            total[s:end, low:high] += voices[i, : end - s]
            counts[s:end] += 1
    total[:, low:high] /= np.maximum(counts, 1)
    total[:, :low] = total[:, high:] = -1.0
    return total


@dataclass
class Evidence:
    """What the generator says about one melody, ready to decode."""

    line: np.ndarray  # (T,) the melody's top pitch per step, moved and padded to whole bars; -1 rests
    scores: np.ndarray  # (T, 128, 3) the generator's averaged output for alto, tenor, bass
    pad: int  # steps added before the melody so bar lines fall on multiples of the bar
    shift: int  # semitones the melody was moved by
    key: tuple[int, str]  # tonic pitch class and mode, from the melody


def generator_evidence(melody: PianoRoll, generator: Any, config: GanConfig,
                       voice_ranges: list[tuple[int, int]], seed: int = 0,
                       melody_centre: float = SOPRANO_CENTRE) -> Evidence:
    """Run the generator (a Keras model or a ``runtime`` runner) over a one-track melody of any
    length and meter, moved by octaves into the soprano's range where it lies outside it (towards
    ``melody_centre``, ``_octave_shift``)."""
    if melody.n_tracks != 1:
        raise ValueError("harmonize takes a one-track melody (see midi.extract_melody)")
    if not melody.onsets.any():
        raise ValueError("the melody has no notes")
    shift = _octave_shift(melody, voice_ranges, melody_centre)
    bar = melody.steps_per_bar
    pad = (bar - melody.pickup_steps % bar) % bar  # bar lines fall on multiples of the bar
    whole = int(np.lcm(bar, STEPS_PER_BEAT))  # whole bars and whole beats (a 3/8 bar is not)
    n_steps = pad + melody.n_steps
    n_steps += (-n_steps) % whole
    n_steps += max(0, GAN_WINDOW_STEPS - n_steps + (-(GAN_WINDOW_STEPS - n_steps)) % whole)
    line = np.full(n_steps, -1, dtype=np.int64)
    top = top_pitches(melody.sounding[:, :, 0])
    line[pad : pad + melody.n_steps] = np.where(top >= 0, np.clip(top + shift, 0, N_PITCHES - 1), -1)
    scores = _generator_scores(as_runner(generator), config, line, bar, np.random.default_rng(seed))
    return Evidence(line, scores, pad, shift, melody_key(melody))


def phrase_ends(melody: PianoRoll, pad: int, tonic: int) -> tuple[dict[int, str], int | None]:
    """Beats (counted from the padded start) where a cadence is wanted, and the final beat.

    A phrase ends on a note of at least ``PHRASE_END_STEPS`` or one followed by a rest: on the
    tonic it asks for a root-position tonic ('full'), on the 2nd or 7th degree for V ('half').
    The final beat is the last note's, where that note is the tonic (else None).
    """
    notes = melody.notes(0)
    ends: dict[int, str] = {}
    for note, following in zip(notes, [*notes[1:], None]):
        ending = following is None or following.start > note.start + note.length
        if not ending and note.length < PHRASE_END_STEPS:
            continue
        degree = (note.pitch - tonic) % 12
        kind = "full" if degree == 0 else "half" if degree in (2, 11) else None
        if kind:
            ends[(pad + note.start) // STEPS_PER_BEAT] = kind
    last = notes[-1]
    final = (pad + last.start) // STEPS_PER_BEAT if last.pitch % 12 == tonic else None
    return ends, final


def voices_from(melody: PianoRoll, evidence: Evidence, voice_ranges: list[tuple[int, int]],
                decoder: Decoder, seed: int = 0, roles: Roles = CHOIR_ROLES) -> PianoRoll:
    """Four voices from the generator's evidence: the melody stays track 0.

    ``seed`` draws the off-beat moves (the generator's noise was drawn with the evidence).
    Chords are chosen per beat of the style's metre (a half note for a 4/2 style, where the melody's
    notes start on that grid), the off-beat moves half-way through it.
    """
    line, n_steps = evidence.line, len(evidence.line)
    scale = beat_scale(melody, decoder.stats.beat_quarters)  # 2 for a 4/2 style: a half-note beat decided as a quarter
    coarse_line = line[::scale]
    beat_starts = np.arange(0, len(coarse_line), STEPS_PER_BEAT)
    in_beat = coarse_line[: len(beat_starts) * STEPS_PER_BEAT].reshape(len(beat_starts), STEPS_PER_BEAT)
    first_sung = np.argmax(in_beat >= 0, axis=1)
    beat_melody = in_beat[np.arange(len(beat_starts)), first_sung]  # -1 where the whole beat rests
    per_beat = evidence.scores.reshape(len(beat_starts), STEPS_PER_BEAT, scale, N_PITCHES, 3).mean(axis=2)
    half = STEPS_PER_BEAT // 2
    beat_evidence, offbeat_evidence = per_beat[:, :half].mean(axis=1), per_beat[:, half:].mean(axis=1)
    ends, final = phrase_ends(on_quarter_beats(melody, scale), evidence.pad // scale, evidence.key[0])
    on_beats = decode_voices(beat_melody, melody_steps_on(coarse_line, 0), beat_evidence, voice_ranges,
                             evidence.key, decoder, ends, final)
    off_beats = add_offbeat_motion(on_beats, offbeat_evidence, beat_melody, in_beat[:, half],
                                   key_scale(*evidence.key), decoder, np.random.default_rng([seed, 1]))
    if final is not None:
        off_beats[final:] = on_beats[final:]  # the final chord is held still
    grid, tied = add_ornaments(on_beats, off_beats, in_beat, key_scale(*evidence.key), decoder.stats,
                               np.random.default_rng([seed, 2]))
    if final is not None:
        grid[final:], tied[final:] = on_beats[final:, None, :], False
    voice_lines = np.repeat(grid.reshape(-1, 3), scale, axis=0)[:n_steps]
    beat = STEPS_PER_BEAT * scale
    tied_steps = np.zeros((n_steps, 3), bool)
    tied_steps[::beat] = tied

    pad = evidence.pad
    out_sounding = np.zeros((melody.n_steps, N_PITCHES, 4), bool)
    out_onsets = np.zeros_like(out_sounding)
    out_sounding[:, :, 0] = melody.sounding[:, :, 0]
    out_onsets[:, :, 0] = melody.onsets[:, :, 0]
    steps = np.arange(melody.n_steps)
    piece = slice(pad, pad + melody.n_steps)
    melody_onsets = np.zeros(n_steps, bool)
    melody_onsets[piece] = melody.onsets[:, :, 0].any(axis=1)
    restrike = (melody_onsets & (np.arange(n_steps) % beat == 0))[piece]  # a new syllable
    # ... on which a voice that keeps its pitch strikes it again as often as the style does
    again = np.random.default_rng([seed, 3]).random((melody.n_steps, 3)) < np.asarray(decoder.stats.restrike)
    singing = (line >= 0)[piece]
    for v in range(3):
        part = np.where(singing, voice_lines[piece, v], -1)
        sings = part >= 0
        pitch = np.clip(part - evidence.shift, 0, N_PITCHES - 1)
        struck = sings & ((np.roll(part, 1) != part) | (restrike & again[:, v] & ~tied_steps[piece, v]))
        struck[0] = sings[0]
        out_sounding[steps[sings], pitch[sings], v + 1] = True
        out_onsets[steps[struck], pitch[struck], v + 1] = True
    return PianoRoll(out_sounding, out_onsets, tempo=melody.tempo, time_signature=melody.time_signature,
                     pickup_steps=melody.pickup_steps, names=list(roles.names), programs=list(roles.programs))


def _held_notes(scores: np.ndarray, chords: bool) -> list[Note]:
    """Notes from (T, 128) scores read per 8th: the strongest pitch above 0 (or, for chords, up to
    ``MAX_CHORD_NOTES`` of them); a pitch wanted in consecutive 8ths is held."""
    half = STEPS_PER_BEAT // 2
    n_eighths = -(-len(scores) // half)
    padded = np.full((n_eighths * half, N_PITCHES), -1.0, np.float32)
    padded[: len(scores)] = scores
    per_eighth = padded.reshape(n_eighths, half, N_PITCHES).mean(axis=1)
    wanted = np.zeros_like(per_eighth, bool)
    order = np.argsort(-per_eighth, axis=1)[:, : MAX_CHORD_NOTES if chords else 1]
    rows = np.arange(n_eighths)[:, None]
    wanted[rows, order] = per_eighth[rows, order] > 0
    notes = []
    for pitch in np.flatnonzero(wanted.any(axis=0)):
        column = np.concatenate([[False], wanted[:, pitch], [False]]).astype(np.int8)
        starts, ends = np.flatnonzero(np.diff(column) == 1), np.flatnonzero(np.diff(column) == -1)
        notes += [Note(int(s * half), int(pitch), int(min(e * half, len(scores)) - s * half))
                  for s, e in zip(starts, ends)]
    return sorted(notes)


def _drum_hits(scores: np.ndarray) -> list[Note]:
    """A 16th-note hit wherever a drum's score rises above 0."""
    on = scores > 0
    starts = on & ~np.vstack([np.zeros((1, N_PITCHES), bool), on[:-1]])
    return [Note(int(t), int(p), 1) for t, p in zip(*np.nonzero(starts))]


def parts_from(melody: PianoRoll, evidence: Evidence, roles: Roles,
               voice_ranges: list[tuple[int, int]]) -> PianoRoll:
    """The melody and three parts read from the generator's evidence, each by its kind, within
    its range: for a style whose parts are not all voices (a band's chords, bass and drums)."""
    piece = slice(evidence.pad, evidence.pad + melody.n_steps)
    tracks = [melody.notes(0)]
    for v in range(1, 4):
        scores = evidence.scores[piece, :, v - 1].copy()
        shift = 0 if roles.kinds[v] == "drums" else evidence.shift  # drums are not transposed
        low, high = voice_ranges[v]  # the scores are in the generator's frame, as the ranges are
        scores[:, :low] = -1.0
        scores[:, high + 1 :] = -1.0
        if roles.kinds[v] == "drums":
            notes = _drum_hits(scores)
        else:
            notes = [Note(n.start, n.pitch - shift, n.length)
                     for n in _held_notes(scores, chords=roles.kinds[v] == "chords")]
        tracks.append([n for n in notes if 0 <= n.pitch < N_PITCHES])
    return PianoRoll.from_notes(tracks, n_steps=melody.n_steps, tempo=melody.tempo,
                                time_signature=melody.time_signature, pickup_steps=melody.pickup_steps,
                                names=list(roles.names), programs=list(roles.programs), drums=roles.drums)


def decoder_for(folder: Path | None = None) -> Decoder:
    """The decoder saved beside a generator, else the shipped model's."""
    if folder is not None and (folder / DECODER_FILE).is_file():
        return load_decoder(folder)
    return _shipped_decoder()


@functools.lru_cache(maxsize=1)
def _shipped_decoder() -> Decoder:
    return load_decoder(SHIPPED_MODEL)


def harmonize(melody: PianoRoll, generator: Any, config: GanConfig,
              voice_ranges: list[tuple[int, int]], seed: int = 0, decoder: Decoder | None = None,
              roles: Roles = CHOIR_ROLES, melody_centre: float = SOPRANO_CENTRE) -> PianoRoll:
    """Four parts for a one-track melody of any length and meter: the melody stays track 0.

    ``generator`` is a Keras model or a ``runtime`` runner; ``decoder`` defaults to the shipped
    model's (``models/gan/decoder.json``). Parts that are not all voices (``roles``) are read by
    their kinds (``parts_from``).
    """
    evidence = generator_evidence(melody, generator, config, voice_ranges, seed, melody_centre)
    return decode(melody, evidence, voice_ranges, seed, decoder, roles)


def decode(melody: PianoRoll, evidence: Evidence, voice_ranges: list[tuple[int, int]], seed: int = 0,
           decoder: Decoder | None = None, roles: Roles = CHOIR_ROLES) -> PianoRoll:
    """The parts the generator's scores for ``melody`` (``evidence``) ask for: voices by the joint
    decoder (default: the shipped model's), other kinds read by ``parts_from``."""
    if not roles.all_voices:
        return parts_from(melody, evidence, roles, voice_ranges)
    return voices_from(melody, evidence, voice_ranges, decoder or decoder_for(), seed, roles)


@dataclass
class Harmonizer:
    """A loaded GAN with its decoder: call it with a one-track melody (and a seed) for four parts."""

    generator: Runner
    config: GanConfig
    voice_ranges: list[tuple[int, int]]
    decoder: Decoder
    folder: Path  # where the model was loaded from
    style: str = "bach"
    roles: Roles = CHOIR_ROLES
    melody_centre: float = SOPRANO_CENTRE
    raw: bool = False  # the generator's own output, each part read with its range only (no decoder)

    def __call__(self, melody: PianoRoll, seed: int = 0) -> PianoRoll:
        if self.raw:
            evidence = generator_evidence(melody, self.generator, self.config, self.voice_ranges, seed,
                                          self.melody_centre)
            return parts_from(melody, evidence, self.roles, self.voice_ranges)
        return harmonize(melody, self.generator, self.config, self.voice_ranges, seed=seed, decoder=self.decoder,
                         roles=self.roles, melody_centre=self.melody_centre)

    def explain(self, melody: PianoRoll, seed: int = 0) -> tuple[Evidence, PianoRoll]:
        """The generator's raw scores (``Evidence``) for a one-track ``melody`` and the parts decoded
        from exactly those scores: the two halves of ``self(melody, seed)``, kept apart."""
        evidence = generator_evidence(melody, self.generator, self.config, self.voice_ranges, seed, self.melody_centre)
        return evidence, decode(melody, evidence, self.voice_ranges, seed, self.decoder, self.roles)


def load_harmonizer(folder: str | Path | None = None, untrained: bool = False,
                    runtime: str | None = None, raw: bool = False) -> Harmonizer:
    """The shipped GAN, or a trained ``folder``, ready to harmonize.

    The generator runs on LiteRT where it can (``runtime.load_runner``; ``runtime`` chooses).
    ``untrained`` keeps the architecture and the decoder but starts the generator's weights
    afresh (seeded, Keras): the ablation that shows what training brings. ``raw`` reads the
    generator's own output with each voice's range only, no decoder: what the decoder brings.
    Raises FileNotFoundError (with a one-line reason) where there is no model.
    """
    found = generator_folder(folder)
    config, ranges = read_generator_config(found)
    if untrained:
        generator = as_runner(_untrained_generator(config))
    else:
        generator = load_runner(found / GENERATOR_TFLITE, lambda: _keras_generator(found), runtime)
    style, roles = read_generator_style(found)
    decoder = decoder_for(found)
    return Harmonizer(generator, config, ranges, decoder, found, style, roles,
                      SOPRANO_CENTRE if style == "bach" else _melody_centre(decoder, ranges), raw)


def _melody_centre(decoder: Decoder, ranges: list[tuple[int, int]]) -> float:
    """Where a style's melodies sing: their mean pitch as the decoder counted it from the training
    pieces, or (a decoder counted before that) the middle of the melody's range."""
    counted = decoder.stats.melody_centre
    return counted if counted is not None else (ranges[0][0] + ranges[0][1]) / 2


def _keras_generator(folder: Path):
    from .gan import load_generator  # TensorFlow: only the Keras fallback needs it

    return load_generator(folder)[0]


def _untrained_generator(config: GanConfig):
    import_tensorflow()
    import keras

    from .gan import build_generator  # TensorFlow: only the untrained ablation needs it

    keras.utils.set_random_seed(0)
    return build_generator(config)
