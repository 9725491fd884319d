"""Four-part voice leading: what Bach's chorales do, counted, and a joint decoder that follows it.

The GAN says, for every step, pitch and voice, how much it wants that note. Turning that into
singable alto, tenor and bass lines is a search over chords and voicings, one per beat: a
state is (chord, alto, tenor, bass) under the melody's note, and the best path through the
states balances

- the generator's evidence (``gan``),
- how Bach moves from chord to chord and which chord tone he puts in the bass (``harmony``),
- the interval each voice moves by, with the odds of Bach's voices among their moves (``motion``
  for the bass, ``inner_motion`` for alto and tenor): keeping a pitch is scored as an interval of
  even odds, since Bach's most common single move (stay) would otherwise win beat after beat,
- how far apart voices sit (``spacing``),
- the rules a harmony teacher checks first: parallel fifths and octaves between any two voices,
  the melody included (``parallels``); hidden octaves into the outer voices, consecutive fifths
  and octaves by contrary motion, a leap wider than an octave (two faults), an unresolved
  leading tone, a chromatic note that does not resolve by step (``rules``); a voice moving past
  where its neighbour just was (``overlap``: Bach's voices do it on 9 % of beat moves); a bass
  that stands still under moving voices (``still``); a beat that sounds only two pitch classes
  (``incomplete``); the alto never above the melody, the tenor and bass crossing the voice above
  by a few semitones at most; a doubled leading tone and a chord without its third are tried only
  where nothing else fits,
- cadences where phrases end (``cadence``), a root-position tonic where a melody ends on its tonic.

Between the beats (``add_offbeat_motion``, ``add_ornaments``) each voice holds, passes, skips to
another chord tone, is suspended over the beat or runs a 16th, as often as Bach's voices do
(the generator's evidence weighs in by ``offbeat_gan``).

A "beat" is a beat of the style's metre: a 4/2 piece (a half-note beat) is counted as if written
in 4/4 at half its length (``midi.on_quarter_beats``), so Palestrina's half notes are what a
chorale's quarters are here, and a melody harmonized in his style gets a chord per half note.

Everything probabilistic is counted from the training split (:func:`count_voice_leading`);
the weights are chosen on the validation split by ``scripts/tune_decoder.py``. Both are kept
in one :class:`Decoder` saved next to the model as ``decoder.json``.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np

from .metrics import CHORDS, beat_pitches, key_scale
from .midi import STEPS_PER_BEAT, beat_scale, on_quarter_beats, quarters_per_beat, top_pitches

__all__ = ["DecoderWeights", "VoiceLeadingStats", "Decoder", "count_voice_leading", "decode_voices",
           "chord_label", "melody_steps_on", "add_offbeat_motion", "add_ornaments", "DECODER_FILE",
           "load_decoder", "save_decoder"]

DECODER_FILE = "decoder.json"
N_SHAPES = 9  # chord shapes per root in ``metrics.CHORDS`` (triads, then sevenths)
N_LABELS = 12 * N_SHAPES  # a chord label is (root above the tonic, shape)
MOTION_SPAN = 12  # voice motion is counted in semitones from -12 to +12 (wider leaps pooled)
SPACING_BINS = (-12, 24)  # the interval between neighbouring voices, semitones
MIN_CHORD_SHARE = 0.002  # chords rarer than this in Bach's beats (of one mode) are not tried
BEAM = 64  # paths kept per beat: raising it searches wider and slower
VOICINGS = 256  # voicings tried per beat: those that score best on their own (cadence bonus included)
SMOOTHING = 5.0  # pseudo-counts that pull chord transitions towards how common each chord is
# semitones the tenor may sing above the alto, or the bass above the tenor: Bach's tenor crosses
# the alto on 1.2 % of beats (the bass the tenor on 0.4 %), mostly by 3 to 5 semitones
CROSSING = 5
OCTAVE = 12
PAIRS = list(combinations(range(4), 2))
OFFBEAT_MOVES = ("hold", "pass", "skip", "neighbour")


@dataclass(frozen=True)
class DecoderWeights:
    """How much each kind of evidence counts. These are the defaults; the shipped model's weights
    were chosen on the validation split (``scripts/tune_decoder.py``)."""

    gan: float = 2.0  # raising it makes the voices follow the generator's loudest pitches
    harmony: float = 1.0  # raising it makes chord progressions and inversions more typical of Bach
    motion: float = 1.0  # raising it makes the bass move by the intervals Bach's bass moves by (more steps)
    inner_motion: float = 0.5  # the same for the alto and tenor
    spacing: float = 0.5  # raising it keeps the voices at Bach's distances from each other
    parallels: float = 40.0  # price of one parallel fifth or octave: more than the generator's wishes can pay
    chromatic: float = 0.5  # price of each note outside the key; raising it makes secondary dominants rarer
    rules: float = 2.0  # price of a hidden octave, overlap, unresolved leading tone or chromatic note
    cadence: float = 3.0  # bonus for V at a half cadence and root-position I at other phrase ends
    still: float = 2.0  # price of a bass that keeps its pitch while two or more upper voices move
    overlap: float = 1.0  # price of a voice moving past where its neighbour just was (crossings need one)
    incomplete: float = 2.0  # price of a beat sounding only two pitch classes (a triad without its fifth and doubled)
    offbeat_gan: float = 1.0  # how much the generator's evidence sways the off-beat moves (0: Bach's odds alone)
    unison: float = 0.0  # price of each pair of voices on one pitch, crossed or not (0: only the spacing odds count them)


@dataclass
class VoiceLeadingStats:
    """Log-probabilities counted from chorales (key-relative, so they hold in any key)."""

    transitions: dict[str, list[list[float]]]  # mode -> [from label][to label]
    chord_share: dict[str, list[float]]  # mode -> share of beats per label
    opening: dict[str, list[float]]  # mode -> log p of the first chord's label, in root position (2 * label + 1) or not
    motion: list[list[list[float]]]  # [melody holds, melody moves] -> alto, tenor, bass -> log p of each move, -12..12
    spacing: list[list[float]]  # soprano-alto, alto-tenor, tenor-bass -> log p per interval
    bass_position: list[float]  # log p of the bass's pitch class above the chord's root (0..11)
    offbeat: list[list[list[float]]]  # alto, tenor, bass -> [beats a third apart, others] -> log p of each move
    melody_outside: float  # share of beats, with the melody moving on by step, whose melody note is outside the chord
    suspension: list[float]  # alto, tenor, bass: share of steps down held over the beat
    sixteenth: list[float]  # alto, tenor, bass: share of thirds from the off-beat filled by a 16th
    n_beats: int = 0
    # alto, tenor, bass: where the melody strikes a beat and the voice keeps its pitch, the share of
    # those beats on which it strikes it again (a hymn's new syllable) rather than holding it over
    # (a motet's long note); a decoder counted before this was learned restrikes always
    restrike: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    # quarters in the style's beat (the most common among its pieces): 2 for Palestrina's 4/2,
    # whose chords are chosen per half note; 1 for Bach's chorales
    beat_quarters: int = 1
    # where the style's melodies sing: their mean pitch, weighted by length (None: not counted)
    melody_centre: float | None = None


@dataclass
class Decoder:
    """Statistics and weights together: everything the decoding needs besides the GAN."""

    stats: VoiceLeadingStats
    weights: DecoderWeights = field(default_factory=DecoderWeights)


def save_decoder(decoder: Decoder, folder: Path) -> None:
    """``decoder.json`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    data = {"weights": dataclasses.asdict(decoder.weights), "stats": dataclasses.asdict(decoder.stats)}
    (folder / DECODER_FILE).write_text(json.dumps(data))


def load_decoder(folder: Path) -> Decoder:
    """The decoder saved in ``folder``."""
    data = json.loads((folder / DECODER_FILE).read_text())
    return Decoder(VoiceLeadingStats(**data["stats"]), DecoderWeights(**data["weights"]))


# --- what Bach does -------------------------------------------------------------------------

_CHORD_MASKS = np.array([[pc in c for pc in range(12)] for c in CHORDS])  # (label by absolute root, 12)
_ROOTS = np.repeat(np.arange(12), N_SHAPES)


def chord_label(pitch_classes: set[int], bass_pc: int, tonic: int) -> int:
    """The key-relative label of the chord that explains ``pitch_classes`` best.

    Most tones covered first, then fewest chord tones missing, then the bass as the root.
    """
    present = np.zeros(12, bool)
    present[list(pitch_classes)] = True
    covered = (_CHORD_MASKS & present).sum(axis=1)
    missing = (_CHORD_MASKS & ~present).sum(axis=1)
    score = 4 * covered - missing + 0.5 * (_ROOTS == bass_pc)
    absolute = int(np.argmax(score))
    return ((_ROOTS[absolute] - tonic) % 12) * N_SHAPES + absolute % N_SHAPES


def _root(labels, tonic: int):
    """The pitch class of the root of key-relative chord labels."""
    return (np.asarray(labels) // N_SHAPES + tonic) % 12


def _absolute(label: int, tonic: int) -> int:
    """A key-relative chord label as an index of ``metrics.CHORDS``."""
    return int(_root(label, tonic)) * N_SHAPES + label % N_SHAPES


def _log_share(counts: np.ndarray, pseudo: float = 0.5) -> np.ndarray:
    counts = counts + pseudo
    return np.log(counts / counts.sum(axis=-1, keepdims=True))


def melody_steps_on(top: np.ndarray, first_beat: int) -> np.ndarray:
    """For each beat of a melody line (T,) of pitches (-1 rests) starting at ``first_beat``: whether
    the note sounding on the beat is followed, within the beat or on the next one, by a note a step away."""
    beats = np.arange(first_beat, len(top), STEPS_PER_BEAT)
    out = np.zeros(len(beats), bool)
    for k, t in enumerate(beats):
        now = top[t]
        later = top[t + 1 : t + STEPS_PER_BEAT + 1]
        moved = later[later != now]
        out[k] = now >= 0 and len(moved) > 0 and moved[0] >= 0 and abs(int(moved[0]) - now) <= 2
    return out


def _offbeat_kind(on_beat: int, middle: int, next_beat: int, chord: set[int]) -> str | None:
    """What a voice does on the off-beat 8th: 'hold'; 'pass' (a step between two beats a third
    apart); 'skip' (to another tone of the beat's chord, within a third of the next beat);
    'neighbour' (a step away and back); None for anything else."""
    if middle < 0 or middle == on_beat:
        return "hold"
    if min(on_beat, next_beat) < middle < max(on_beat, next_beat) and abs(next_beat - on_beat) in (3, 4):
        return "pass"
    if middle % 12 in chord and abs(next_beat - middle) <= 4:
        return "skip"
    if next_beat == on_beat and abs(middle - on_beat) <= 2:
        return "neighbour"
    return None


def _count_ornaments(roll, beat: int, counts: np.ndarray) -> None:
    """Count, for the beat starting at step ``beat``, suspensions and 16th passing notes per voice.

    A suspension: the voice steps down by a 2nd from the end of the previous beat to this beat's
    off-beat 8th, holding the old pitch over the beat (against stepping down on the beat). A 16th:
    from the off-beat 8th to the next beat the voice moves a third, through a passing 16th.
    """
    end = beat + STEPS_PER_BEAT
    if beat < 1 or end >= roll.n_steps:
        return
    for v in range(3):
        line = roll.sounding[beat - 1 : end + 1, :, v + 1]
        if not line.any(axis=1).all():
            continue
        before, on, middle, last, after = (int(np.argmax(line[k])) for k in (0, 1, 1 + STEPS_PER_BEAT // 2, -2, -1))
        struck = roll.onsets[beat, on, v + 1]
        if before - middle in (1, 2):
            held = on == before and not struck
            counts[0, v] += (held or on == middle, held)
        if abs(after - middle) in (3, 4):
            counts[1, v] += (1, last != middle and min(middle, after) < last < max(middle, after))


def count_voice_leading(chorales: list) -> VoiceLeadingStats:
    """Count chord transitions, voice motion, spacing, inversions and passing notes.

    ``chorales`` are :class:`~lab_utils.chorales.Piece` objects (the training split).
    """
    from music21 import key as m21key

    transitions = {m: np.zeros((N_LABELS, N_LABELS)) for m in ("major", "minor")}
    shares = {m: np.zeros(N_LABELS) for m in ("major", "minor")}
    openings = {m: np.zeros(2 * N_LABELS) for m in ("major", "minor")}
    motion = np.zeros((2, 3, 2 * MOTION_SPAN + 1))
    spacing = np.zeros((3, SPACING_BINS[1] - SPACING_BINS[0] + 1))
    bass_position = np.zeros(12)
    offbeat = np.zeros((3, 2, len(OFFBEAT_MOVES)))
    outside = np.zeros(2)  # beats where the melody moves on by step; those with its note outside the chord
    ornaments = np.zeros((2, 3, 2))  # suspension, sixteenth -> voice -> (situations, taken)
    restrikes = np.zeros((3, 2))  # voice -> (held pitch under a melody onset, struck again)
    n_beats = 0
    scales: Counter[int] = Counter()  # pieces counted per beat of so many quarters
    melody_sums = np.zeros(2)  # the melodies' pitch times length, and their length
    for chorale in chorales:
        name, mode = chorale.key.rsplit(" ", 1)
        tonic = m21key.Key(name, mode).tonic.pitchClass
        roll = chorale.roll()
        melody = roll.notes(0)
        melody_sums += (sum(n.pitch * n.length for n in melody), sum(n.length for n in melody))
        scale = beat_scale(roll, quarters_per_beat(roll.time_signature))
        scales[scale] += 1
        roll = on_quarter_beats(roll, scale)  # counted per beat of the piece's metre
        beats = beat_pitches(roll)  # (beats, 4)
        full = (beats >= 0).all(axis=1)
        labels = np.array([chord_label({int(p) % 12 for p in row}, int(row[3]) % 12, tonic) if ok else -1
                           for row, ok in zip(beats, full)])
        steps_on = melody_steps_on(top_pitches(roll.sounding[:, :, 0]), roll.pickup_steps % STEPS_PER_BEAT)
        for row, label, step_on in zip(beats[full], labels[full], steps_on[full]):
            if step_on:
                outside += (1, not _CHORD_MASKS[_absolute(label, tonic)][row[0] % 12])
            shares[mode][label] += 1
            bass_position[(row[3] - _root(label, tonic)) % 12] += 1
            for k in range(3):
                spacing[k, np.clip(row[k] - row[k + 1], *SPACING_BINS) - SPACING_BINS[0]] += 1
        n_beats += int(full.sum())
        if full.any():
            first = int(np.argmax(full))
            openings[mode][2 * labels[first] + int(beats[first, 3] % 12 == _root(labels[first], tonic))] += 1
        first_beat = roll.pickup_steps % STEPS_PER_BEAT
        for i in np.nonzero(full[:-1] & full[1:])[0]:  # consecutive beats where all four sing
            transitions[mode][labels[i], labels[i + 1]] += 1
            melody_moves = int(beats[i + 1, 0] != beats[i, 0])
            middle = first_beat + i * STEPS_PER_BEAT + STEPS_PER_BEAT // 2
            next_beat = first_beat + (i + 1) * STEPS_PER_BEAT
            if roll.onsets[next_beat, :, 0].any():
                for v in range(3):
                    if beats[i + 1, v + 1] == beats[i, v + 1]:
                        restrikes[v] += (1, roll.onsets[next_beat, beats[i + 1, v + 1], v + 1])
            chord = {int(p) % 12 for p in beats[i]}
            for v in range(3):
                step = beats[i + 1, v + 1] - beats[i, v + 1]
                motion[melody_moves, v, np.clip(step, -MOTION_SPAN, MOTION_SPAN) + MOTION_SPAN] += 1
                if not roll.sounding[middle, :, v + 1].any():
                    continue
                struck = np.nonzero(roll.onsets[middle, :, v + 1])[0]
                kind = _offbeat_kind(beats[i, v + 1], int(struck[0]) if len(struck) else -1, beats[i + 1, v + 1], chord)
                if kind is not None:
                    offbeat[v, 0 if abs(step) in (3, 4) else 1, OFFBEAT_MOVES.index(kind)] += 1
            _count_ornaments(roll, first_beat + i * STEPS_PER_BEAT, ornaments)
    chord_share = {}
    transition_logp = {}
    for mode in ("major", "minor"):
        share = (shares[mode] + 0.1) / (shares[mode].sum() + 0.1 * N_LABELS)
        chord_share[mode] = share.tolist()
        counts = transitions[mode]
        smoothed = (counts + SMOOTHING * share[None, :]) / (counts.sum(axis=1, keepdims=True) + SMOOTHING)
        transition_logp[mode] = np.log(smoothed).round(4).tolist()
    return VoiceLeadingStats(
        transitions=transition_logp, chord_share=chord_share,
        opening={m: _log_share(openings[m], pseudo=0.1).round(4).tolist() for m in openings},
        motion=_log_share(motion).round(4).tolist(), spacing=_log_share(spacing).round(4).tolist(),
        bass_position=_log_share(bass_position).round(4).tolist(),
        offbeat=_log_share(offbeat).round(4).tolist(),
        melody_outside=round(float(np.clip(outside[1] / max(outside[0], 1), 1e-4, 1 - 1e-4)), 4),
        suspension=(ornaments[0, :, 1] / np.maximum(ornaments[0, :, 0], 1)).round(4).tolist(),
        sixteenth=(ornaments[1, :, 1] / np.maximum(ornaments[1, :, 0], 1)).round(4).tolist(), n_beats=n_beats,
        restrike=(restrikes[:, 1] / np.maximum(restrikes[:, 0], 1)).round(4).tolist(),
        beat_quarters=scales.most_common(1)[0][0] if scales else 1,
        melody_centre=round(float(melody_sums[0] / melody_sums[1]), 2) if melody_sums[1] else None)


# --- the search -----------------------------------------------------------------------------


@dataclass
class _Beat:
    """The candidate states of one beat: pitches (n, 4) soprano to bass, chord labels (n,)."""

    pitches: np.ndarray
    labels: np.ndarray
    score: np.ndarray  # what the state earns on its own


def _chord_pitches(chord_pcs: np.ndarray, low: int, high: int) -> np.ndarray:
    pitches = np.arange(low, high + 1)
    return pitches[chord_pcs[pitches % 12]]


def _candidates(melody: int, labels: np.ndarray, tonic: int, ranges: list[tuple[int, int]],
                strict: bool, melody_outside: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """All voicings (the alto at or below the melody, the tenor and bass at most ``CROSSING`` above the
    voice above, each within its range) of ``labels``
    that hold the melody's pitch class, or with ``melody_outside`` that do not (an accented
    passing note or appoggiatura in the melody, over the chord it resolves into).

    ``strict`` also asks for a complete chord (root, third, and the seventh of a seventh chord),
    at most an octave between neighbouring upper voices and one leading tone at most.
    """
    all_pitches, all_labels = [], []
    leading = (tonic + 11) % 12
    for label in labels:
        absolute = _absolute(label, tonic)
        pcs = _CHORD_MASKS[absolute]
        if pcs[melody % 12] == melody_outside:
            continue
        alto, tenor, bass = (_chord_pitches(pcs, *ranges[v]) for v in (1, 2, 3))
        a, t, b = (g.ravel() for g in np.meshgrid(alto, tenor, bass, indexing="ij"))
        ok = (a <= melody) & (t <= a + CROSSING) & (b <= t + CROSSING) & (melody - t <= 24)
        if strict:
            ok &= (melody - a <= 12) & (a - t <= 12)
            root = _root(label, tonic)
            shape = sorted(CHORDS[absolute], key=lambda pc: (pc - root) % 12)
            sounding = np.stack([a, t, b] if melody_outside else [np.full_like(a, melody), a, t, b]) % 12
            for essential in shape[:2] + shape[3:]:  # root, third (and the seventh)
                ok &= (sounding == essential).any(axis=0)
            ok &= (sounding == leading).sum(axis=0) <= 1
        if ok.any():
            voicing = np.stack([np.full(ok.sum(), melody), a[ok], t[ok], b[ok]], axis=1)
            all_pitches.append(voicing)
            all_labels.append(np.full(ok.sum(), label))
    if not all_pitches:
        return np.zeros((0, 4), np.int64), np.zeros(0, np.int64)
    return np.concatenate(all_pitches), np.concatenate(all_labels)


def _move_tables(stats: VoiceLeadingStats, w: DecoderWeights, tonic: int, scale: np.ndarray) -> np.ndarray:
    """(2, 3, 128, 128) score of each voice moving from pitch p to pitch c, while the melody holds
    its pitch or moves, rules included: Bach's odds of the interval among the voice's moves
    (keeping the pitch: even odds), a leading tone that does not rise to the tonic, a chromatic
    note that does not move by step (or stay), a leap wider than an octave (two faults)."""
    pitches = np.arange(128)
    move = pitches[None, :] - pitches[:, None]
    leading = pitches % 12 == (tonic + 11) % 12
    chromatic = ~scale[pitches % 12]
    by_step_or_still = np.abs(move) <= 2
    faults = (leading[:, None] & (move != 1) & (move != 0) | chromatic[:, None] & ~by_step_or_still).astype(int) \
        + 2 * (np.abs(move) > OCTAVE)
    return (_interval_odds(stats, w)[:, :, np.clip(move, -MOTION_SPAN, MOTION_SPAN) + MOTION_SPAN]
            - w.rules * faults[None, None]).astype(np.float32)


def _interval_odds(stats: VoiceLeadingStats, w: DecoderWeights) -> np.ndarray:
    """(2, 3, 2 * MOTION_SPAN + 1) weighted log-odds of each interval a voice moves by, given that
    it moves (melody holding or moving; alto, tenor, bass); keeping the pitch gets even odds."""
    motion = np.asarray(stats.motion)
    stay = motion[:, :, MOTION_SPAN : MOTION_SPAN + 1]
    odds = motion - np.log1p(-np.exp(np.minimum(stay, -1e-6)))
    odds[:, :, MOTION_SPAN] = -np.log(2 * MOTION_SPAN + 1)
    return odds * np.array([w.inner_motion, w.inner_motion, w.motion])[None, :, None]


def _transition(prev: _Beat, cur: _Beat, harmony: np.ndarray, moves: np.ndarray, w: DecoderWeights) -> np.ndarray:
    """Score (n_prev, n_cur) of moving from each state of ``prev`` to each of ``cur``.

    ``harmony`` is Bach's chord-to-chord log-probability table, ``moves`` from ``_move_tables``.
    """
    score = w.harmony * harmony[prev.labels][:, cur.labels]  # rows, then columns: 4x faster than np.ix_
    p, c = prev.pitches, cur.pitches
    melody_moves = c[0, 0] != p[0, 0]  # the melody moves the same way from every state
    for v in (1, 2, 3):
        score += moves[int(melody_moves), v - 1][p[:, v]][:, c[:, v]]
    penalty = np.zeros(score.shape, np.float32)
    for i, j in PAIRS:  # only where the two voices arrive at a perfect interval
        after = (c[:, i] - c[:, j]) % 12
        cols = np.flatnonzero((after == 0) | (after == 7))
        if not len(cols):
            continue
        same = (p[:, i] - p[:, j])[:, None] % 12 == after[None, cols]
        upper, lower = (np.sign(c[None, cols, v] - p[:, v, None]) for v in (i, j))
        both = (upper == lower) & (lower != 0)
        penalty[:, cols] += w.parallels * (both & same)
        penalty[:, cols] += w.rules * ((upper == -lower) & (lower != 0) & same)  # by contrary motion
        if (i, j) == (0, 3) and abs(c[0, 0] - p[0, 0]) > 2:  # hidden octaves and fifths, soprano leaping
            penalty[:, cols] += w.rules * (both & ~same)
    upper_moving = sum((c[None, :, v] != p[:, None, v]).astype(np.int8) for v in range(3)) >= 2
    penalty += w.still * (upper_moving & (c[None, :, 3] == p[:, None, 3]))
    for upper in range(3):  # overlap: a voice moves past where its neighbour just was
        penalty += w.overlap * ((c[None, :, upper + 1] > p[:, None, upper]) | (c[None, :, upper] < p[:, None, upper + 1]))
    return score - penalty


def _state_score(beat: _Beat, evidence: np.ndarray, stats: VoiceLeadingStats, w: DecoderWeights,
                 tonic: int, scale: np.ndarray) -> np.ndarray:
    """What each state earns alone: the GAN's evidence, notes outside the key (a price), spacing,
    the bass's chord tone, two pitch classes only and neighbours in unison (prices)."""
    pitches = beat.pitches
    score = w.gan * sum(evidence[pitches[:, v], v - 1] for v in (1, 2, 3))
    score = score - w.chromatic * (~scale[pitches[:, 1:] % 12]).sum(axis=1)
    spacing = np.asarray(stats.spacing)
    for k in range(3):
        gap = np.clip(pitches[:, k] - pitches[:, k + 1], *SPACING_BINS) - SPACING_BINS[0]
        score = score + w.spacing * spacing[k][gap]
    root = _root(beat.labels, tonic)
    score = score + w.harmony * np.asarray(stats.bass_position)[(pitches[:, 3] - root) % 12]
    classes = np.sort(pitches % 12, axis=1)
    two_or_fewer = (np.diff(classes, axis=1) != 0).sum(axis=1) <= 1
    unisons = (np.diff(np.sort(pitches, axis=1), axis=1) == 0).sum(axis=1)  # neighbours in pitch, crossed or not
    return score - w.incomplete * two_or_fewer - w.unison * unisons


def _cadence_bonus(beat: _Beat, kind: str, tonic: int) -> np.ndarray:
    """1 where a state is the cadence's chord in root position (``kind``: 'full' or 'half')."""
    root_above_tonic = beat.labels // N_SHAPES
    shape = beat.labels % N_SHAPES
    triad = shape <= 1
    if kind == "full":
        return (triad & (root_above_tonic == 0) & (beat.pitches[:, 3] % 12 == tonic)).astype(float)
    return ((root_above_tonic == 7) & (shape == 0) & (beat.pitches[:, 3] % 12 == (tonic + 7) % 12)).astype(float)


def decode_voices(melody: np.ndarray, resolves: np.ndarray, evidence: np.ndarray, ranges: list[tuple[int, int]],
                  key: tuple[int, str], decoder: Decoder, phrase_ends: dict[int, str] | None = None,
                  final: int | None = None) -> np.ndarray:
    """Alto, tenor and bass, one pitch per beat: (beats, 3), -1 where the melody rests.

    ``melody`` (beats,) is the melody's pitch on each beat (-1 for a rest); ``resolves`` (beats,)
    True where the melody moves on by step within the beat or onto the next (its note may then
    lie outside the chord); ``evidence`` (beats, 128, 3) how much the generator wants each pitch
    per voice on each beat.
    ``phrase_ends`` maps beats to 'full' or 'half' (a cadence wanted there); from beat ``final``
    on the piece ends on a root-position tonic, held to the end.
    """
    tonic, mode = key
    stats, w = decoder.stats, decoder.weights
    scale = np.zeros(12, bool)
    scale[list(key_scale(tonic, mode))] = True
    share = np.asarray(stats.chord_share[mode])
    labels = np.nonzero(share >= MIN_CHORD_SHARE)[0]
    phrase_ends = phrase_ends or {}
    out = np.full((len(melody), 3), -1, np.int64)
    sung = np.nonzero(melody >= 0)[0]
    beats: list[_Beat] = []
    outside = np.log([1 - stats.melody_outside, stats.melody_outside])
    cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def voicings(pitch: int, tried: np.ndarray, strict: bool, outside_chord: bool) -> tuple[np.ndarray, np.ndarray]:
        found = (pitch, tried.tobytes(), strict, outside_chord)  # the same melody pitch has the same voicings
        if found not in cache:
            cache[found] = _candidates(pitch, tried, tonic, ranges, strict, outside_chord)
        return cache[found]

    for i in list(sung):
        for strict, tried in ((True, labels), (False, labels), (False, np.arange(N_LABELS))):
            pitches, chord = voicings(int(melody[i]), tried, strict, False)
            if final is not None and i >= final and melody[i] % 12 == tonic:
                keep = _cadence_bonus(_Beat(pitches, chord, np.zeros(len(chord))), "full", tonic) > 0
                pitches, chord = (pitches[keep], chord[keep]) if keep.any() else (pitches, chord)
            if len(pitches):
                break
        if not len(pitches):  # a melody note out of every voicing's reach: the choir rests there
            sung = sung[sung != i]
            continue
        in_chord = np.ones(len(chord), bool)
        if resolves[i] and strict and i not in phrase_ends and (final is None or i < final):
            more_pitches, more_chords = voicings(int(melody[i]), labels, True, True)
            pitches, chord = np.concatenate([pitches, more_pitches]), np.concatenate([chord, more_chords])
            in_chord = np.concatenate([in_chord, np.zeros(len(more_chords), bool)])
        beat = _Beat(pitches, chord, np.zeros(len(chord)))
        beat.score = _state_score(beat, evidence[i], stats, w, tonic, scale) \
            + w.harmony * np.where(in_chord, outside[0], outside[1])
        if i in phrase_ends:
            beat.score = beat.score + w.cadence * _cadence_bonus(beat, phrase_ends[i], tonic)
        if len(beat.labels) > VOICINGS:
            best = np.argsort(beat.score)[::-1][:VOICINGS]
            beat = _Beat(beat.pitches[best], beat.labels[best], beat.score[best])
        beats.append(beat)
    if not beats:
        return out
    harmony = np.asarray(stats.transitions[mode], np.float32)
    moves = _move_tables(stats, w, tonic, scale)
    first = beats[0]
    root_position = first.pitches[:, 3] % 12 == _root(first.labels, tonic)
    values = first.score + w.harmony * np.asarray(stats.opening[mode])[2 * first.labels + root_position]
    kept = np.argsort(values)[::-1][:BEAM]
    backs = []
    for n in range(1, len(beats)):
        prev, cur = beats[n - 1], beats[n]
        pruned = _Beat(prev.pitches[kept], prev.labels[kept], prev.score[kept])
        total = values[kept][:, None] + _transition(pruned, cur, harmony, moves, w)
        if final is not None and sung[n] > final:  # the final chord is held
            same = (pruned.pitches[:, None, :] == cur.pitches[None, :, :]).all(axis=2)
            total = np.where(same, total, -np.inf) if same.any() else total
        best = np.argmax(total, axis=0)
        values = total[best, np.arange(len(best))] + cur.score
        backs.append(kept[best])
        kept = np.argsort(values)[::-1][:BEAM]
    state = int(np.argmax(values))
    for n in range(len(beats) - 1, -1, -1):
        out[sung[n]] = beats[n].pitches[state, 1:]
        if n:
            state = int(backs[n - 1][state])
    return out


def add_offbeat_motion(voices: np.ndarray, evidence: np.ndarray, melody: np.ndarray, melody_mid: np.ndarray,
                       scale: set[int], decoder: Decoder, rng: np.random.Generator) -> np.ndarray:
    """The pitch of each voice on the off-beat 8th of each beat: held, a passing note, a skip to
    another chord tone, or a neighbour (a step away from a note the next beat repeats).

    ``voices`` (beats, 3) are the decoded beats; ``evidence`` (beats, 128, 3) what the generator
    wants on the off-beat 8ths; ``melody`` and ``melody_mid`` the melody on each beat and half-way
    through it. Each voice draws its move with Bach's odds (counted per voice) times the
    generator's evidence, among the moves that stay between the neighbouring voices and make no
    parallel fifth or octave with any voice on the way in or out; holding too, where anything else
    is left (the melody may move on the off-beat).
    """
    w = decoder.weights
    prior = np.asarray(decoder.stats.offbeat)
    mid = voices.copy()
    for i in range(len(voices) - 1):
        if melody_mid[i] < 0 or melody[i + 1] < 0:
            continue
        chord = {int(p) % 12 for p in (melody[i], *voices[i]) if p >= 0}
        start = np.concatenate([[melody[i]], voices[i]])
        end = np.concatenate([[melody[i + 1]], voices[i + 1]])
        for v in (2, 0, 1):  # bass first: it moves most on the off-beat in Bach's chorales
            a, b = int(voices[i, v]), int(voices[i + 1, v])
            if a < 0 or b < 0:
                continue
            options = {a: "hold"}
            if abs(b - a) in (3, 4):
                between = [p for p in range(min(a, b) + 1, max(a, b)) if p % 12 in scale]
                if between:
                    options.setdefault(between[len(between) // 2], "pass")
            for p in range(a - 9, a + 10):
                if p != a and p % 12 in chord and abs(b - p) <= 4:
                    options.setdefault(p, "skip")
            if b == a:
                for p in (a - 2, a - 1, a + 1, a + 2):
                    if p % 12 in scale:
                        options.setdefault(p, "neighbour")
            situation = prior[v][0 if abs(b - a) in (3, 4) else 1]
            pitches, scores, clean = [], [], []
            for pitch, kind in options.items():
                here = np.concatenate([[melody_mid[i]], mid[i]])
                here[v + 1] = pitch
                fits = _singable(here, v + 1) and not _parallel(start, here) and not _parallel(here, end)
                if not fits and kind != "hold":
                    continue
                pitches.append(pitch)
                scores.append(situation[OFFBEAT_MOVES.index(kind)] + w.offbeat_gan * evidence[i, pitch, v])
                clean.append(fits)
            if any(clean):  # holding is the fallback, not a way into a parallel the melody's off-beat makes
                scores = [score if fits else -np.inf for score, fits in zip(scores, clean)]
            chance = np.exp(np.asarray(scores) - max(scores))
            best = pitches[rng.choice(len(pitches), p=chance / chance.sum())]
            mid[i, v] = best
    return mid


def add_ornaments(on_beats: np.ndarray, off_beats: np.ndarray, melody: np.ndarray, scale: set[int],
                  stats: VoiceLeadingStats, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Suspensions and passing 16ths, at Bach's rates per voice; the voices on the 16th grid.

    ``on_beats`` and ``off_beats`` (beats, 3) are the voices on each beat and its off-beat 8th;
    ``melody`` (beats, 4) the melody on each 16th of each beat (-1 rests). A voice stepping down
    onto a beat may hold its old pitch over the beat and step down on the off-beat (a suspension:
    the dissonance on the beat that Bach's cadences lean on); a voice moving a third from the
    off-beat to the next beat may pass through a 16th. Neither is placed where it would cross a
    neighbouring voice or make parallel fifths or octaves. Returns (beats, 4, 3) pitches and
    (beats, 3) True where a voice is tied into the beat.
    """
    quarter = STEPS_PER_BEAT // 2
    grid = np.repeat(np.stack([on_beats, off_beats], axis=1), quarter, axis=1)
    tied = np.zeros(on_beats.shape, bool)
    for i in range(1, len(on_beats) - 1):
        for v in rng.permutation(3):
            before, on = grid[i - 1, -1, v], grid[i, 0, v]
            if min(before, on) < 0 or before - on not in (1, 2) or off_beats[i, v] != on \
                    or rng.random() >= stats.suspension[v]:
                continue
            held = np.concatenate([[melody[i, 0]], grid[i, 0]])
            held[v + 1] = before
            previous = np.concatenate([[melody[i - 1, 0]], grid[i - 1, 0]])
            following = np.concatenate([[melody[i + 1, 0]], grid[i + 1, 0]])
            if _singable(held, v + 1) and not _parallel(previous, held) and not _parallel(held, following):
                grid[i, :quarter, v] = before
                tied[i, v] = True
    for i in range(len(on_beats) - 1):
        for v in rng.permutation(3):
            middle, after = grid[i, quarter, v], grid[i + 1, 0, v]
            if min(middle, after) < 0 or abs(after - middle) not in (3, 4) or melody[i, -1] < 0 \
                    or rng.random() >= stats.sixteenth[v]:
                continue
            between = [p for p in range(min(middle, after) + 1, max(middle, after)) if p % 12 in scale]
            if not between:
                continue
            here = np.concatenate([[melody[i, -1]], grid[i, -1]])
            here[v + 1] = between[len(between) // 2]
            start = np.concatenate([[melody[i, quarter]], grid[i, quarter]])
            end = np.concatenate([[melody[i + 1, 0]], grid[i + 1, 0]])
            if _singable(here, v + 1) and not _parallel(start, here) and not _parallel(here, end):
                grid[i, -1, v] = here[v + 1]
    return grid, tied


def _singable(chord: np.ndarray, v: int) -> bool:
    """Voice ``v`` stays between its neighbours (soprano index 0)."""
    above = chord[v - 1] if chord[v - 1] >= 0 else 128
    below = chord[v + 1] if v + 1 < len(chord) and chord[v + 1] >= 0 else -1
    return below < chord[v] <= above


def _parallel(before: np.ndarray, after: np.ndarray) -> bool:
    """Whether any two voices move in parallel fifths or octaves from ``before`` to ``after``."""
    for i, j in PAIRS:
        if min(before[i], before[j], after[i], after[j]) < 0:
            continue
        mi, mj = after[i] - before[i], after[j] - before[j]
        if mi and mj and np.sign(mi) == np.sign(mj) and (before[i] - before[j]) % 12 == (after[i] - after[j]) % 12 \
                and (after[i] - after[j]) % 12 in (0, 7):
            return True
    return False
