"""The challenge track: a melody becomes a one-minute Bach-meets-space piece.

The form is a soft intro, the theme (the tune's opening phrase, harmonized by the GAN),
variations in running 8ths whose melody the AR-CNN rewrites, by turns in the dominant and at
home, harmonized again by the GAN, and a short closing chord; given the Transformer, new phrases
that could follow the tune take the place of the variations in the dominant. It is arranged for a Baroque core
(harpsichord tune, strings inside, church organ bass) and a space colour (a warm pad and a
crystal "starfield" of broken chords), with a tempo that slows at phrase ends and at the close,
a dynamic arc that peaks in the last variation, and a long reverberant tail. The four voices
stay four MIDI tracks, so their figures can be checked against Bach's; a band style's drums play
as its kit on MIDI channel 10. Where the melody comes from is ``melody_source``; audio, picture
and files are ``export``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import mido
import numpy as np

from .extend import new_bars
from .metrics import bass_track, figures, key_scale, melody_key
from .melody_source import MelodyError
from .midi import N_PITCHES, STEPS_PER_BEAT, Note, PianoRoll, midi_channel, slice_bars, top_line, whole_bars

if TYPE_CHECKING:
    from .arcnn import Enhancer
    from .harmonize import Harmonizer
    from .transformer import MelodyModel

__all__ = ["gap_steps", "Arrangement", "ARRANGEMENT", "Section", "Part", "Parameters", "Composition", "plan_form", "vary_melody", "in_words", "played_phrase", "compose", "TAG"]


TAG = "aug-arch-ml-workshop"
RESOLUTION = 480  # MIDI ticks per quarter note
MAX_LEAP = 5  # semitones: the widest leap a variation's new line takes from the AR-CNN's chords
SOPRANO_RANGE = (60, 79)  # C4-G5: where a new phrase's top line is kept


@dataclass(frozen=True)
class Arrangement:
    """The arrangement's numbers, each with what it does; ``ARRANGEMENT`` is the one in use."""

    preferred_tempo: float = 76.0  # quarter notes a minute the form is planned around
    tempo_range: tuple[float, float] = (40.0, 140.0)  # a melody that fits only outside this is refused
    intro_bars: int = 2  # pad and starfield alone before the tune, at least this many bars ...
    intro_share: float = 0.1  # ... and at least this share of the beats: a longer piece keeps its quiet start
    coda_bars: int = 1  # the final chord under a slowing tempo (the close stays under 6 s)
    tail_seconds: float = 3.5  # after the last note: release and reverb
    phrase_bars: int = 4  # the tune is cut into phrases this long
    theme_share: float = 0.4  # the theme (the tune as written) takes at most this share of the body
    dominant: int = -5  # a variation in the dominant sits a fourth below (a fifth above climbs out of range)
    intro_tempo: float = 0.9  # the intro's tempo against the base: spacious
    breath_tempo: float = 0.93  # the last beat of each phrase: a breath
    close_tempo: tuple[float, float] = (0.9, 0.55)  # the coda slows from the first to the second
    # MIDI velocities of the dynamic arc: soft intro, theme, variations from first to last (the
    # last one swells by ``crescendo``), a loud final chord
    velocity_intro: int = 48
    velocity_theme: int = 62
    velocity_variations: tuple[int, int] = (68, 74)
    crescendo: int = 36
    velocity_coda: int = 108
    pad_octaves: tuple[int, int] = (36, 48)  # the pad's bass from C2, its other tones from C3
    starfield_octave: int = 84  # the starfield's broken chords from C6
    # name, General MIDI program, velocity offset, channel volume (the mix: the tune above the rest)
    parts: tuple[tuple[str, int, int, int], ...] = (
        ("Soprano - Harpsichord", 6, 12, 127),
        ("Alto - Strings", 48, -10, 117),
        ("Tenor - Strings", 49, -10, 105),
        ("Bass - Church Organ", 19, -12, 107),
        ("Space Pad", 89, 0, 110),
        ("Starfield - Crystal", 98, 0, 127),
    )
    # a style's drum kit (a band's; on MIDI channel 10, the program the harmonizer gives it): velocity
    # offset and channel volume, under the tune
    kit: tuple[int, int] = (-8, 100)


ARRANGEMENT = Arrangement()


@dataclass(frozen=True)
class Section:
    """A stretch of the piece, in whole bars; ``source`` is the melody's bars it plays,
    ``transpose`` the semitones it is moved by (a variation in the dominant), ``kept_beats`` how
    much of each bar a variation keeps before the AR-CNN's new line takes over."""

    name: str
    start_bar: int
    bars: int
    source: tuple[int, int] = (0, 0)
    transpose: int = 0
    kept_beats: int = 0
    velocity: int = 64  # the section's loudness (MIDI velocity of its voices)
    crescendo: int = 0  # velocity gained from the section's start to its end

    @property
    def label(self) -> str:
        """The section as the picture names it."""
        return f"{self.name} in the dominant" if self.transpose else self.name


@dataclass
class Part:
    """One instrument: its notes on the 16th grid, each with a MIDI velocity."""

    name: str
    program: int
    volume: int = 127  # MIDI channel volume: the part's place in the mix
    notes: list[tuple[Note, int]] = field(default_factory=list)
    is_drum: bool = False  # a drum kit, on MIDI channel 10: a pitch names an instrument


@dataclass(frozen=True)
class Parameters:
    """What made a composed piece (the upload's JSON keeps them)."""

    seconds: float  # the audio's length asked for
    tempo_bpm: float  # the base tempo, before the phrase-end slow-downs
    form: str  # the sections and their bars, in words
    key: tuple[int, str]  # tonic pitch class and mode of the tune
    top_line_notes: int
    top_line_copied: int  # of those, notes copied from the tune (transposed copies too)
    notes_not_copied: float  # 1 - copied / notes (Lab 7's originality counts new bars: judging.new_bars)
    time_signature: tuple[int, int]
    instruments: dict[str, int]  # part name: General MIDI program


@dataclass
class Composition:
    """A composed piece: its parts, form and tempo map, and what made it."""

    title: str
    description: str
    parts: list[Part]
    sections: list[Section]
    steps_per_bar: int
    time_signature: tuple[int, int]
    beat_tempi: np.ndarray  # quarter notes per minute, one per quarter note
    seed: int
    parameters: Parameters

    @property
    def n_steps(self) -> int:
        return self.steps_per_bar * sum(s.bars for s in self.sections)

    def roll(self, parts: slice = slice(None)) -> PianoRoll:
        """The parts (all, or a slice) as one piano roll on the 16th grid."""
        chosen = self.parts[parts]
        return PianoRoll.from_notes([[n for n, _ in p.notes] for p in chosen], n_steps=self.n_steps,
                                    tempo=float(self.beat_tempi[0]), time_signature=self.time_signature,
                                    names=[p.name for p in chosen], programs=[p.program for p in chosen],
                                    drums=[p.is_drum for p in chosen])

    def voices(self) -> PianoRoll:
        """The four sung voices (soprano first), the part the figures judge."""
        return self.roll(slice(0, 4))

    @property
    def seconds(self) -> float:
        """Seconds from the first beat to the end of the last note."""
        return float(np.sum(60.0 / self.beat_tempi))

    def midi(self) -> mido.MidiFile:
        """A type 1 MIDI file: a tempo track, then one named track per part."""
        ticks = RESOLUTION // STEPS_PER_BEAT
        conductor = mido.MidiTrack([mido.MetaMessage("track_name", name=self.title, time=0)])
        numerator, denominator = self.time_signature
        conductor.append(mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator, time=0))
        last, previous = 0, None
        for beat, bpm in enumerate(self.beat_tempi):
            tempo = mido.bpm2tempo(float(bpm))
            if tempo != previous:
                conductor.append(mido.MetaMessage("set_tempo", tempo=tempo, time=beat * RESOLUTION - last))
                last, previous = beat * RESOLUTION, tempo
        file = mido.MidiFile(type=1, ticks_per_beat=RESOLUTION, tracks=[conductor])
        for k, part in enumerate(self.parts):
            channel = midi_channel(k, part.is_drum)
            events = []
            for note, velocity in part.notes:
                events.append((note.start * ticks, 1, note.pitch, velocity))
                events.append(((note.start + note.length) * ticks, 0, note.pitch, 0))
            track = mido.MidiTrack([mido.MetaMessage("track_name", name=part.name, time=0),
                                    mido.Message("program_change", channel=channel, program=part.program, time=0),
                                    mido.Message("control_change", channel=channel, control=7, value=part.volume, time=0)])
            now = 0
            for tick, is_on, pitch, velocity in sorted(events):
                kind = "note_on" if is_on else "note_off"
                track.append(mido.Message(kind, channel=channel, note=pitch, velocity=velocity, time=tick - now))
                now = tick
            file.tracks.append(track)
        return file

    def midi_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.midi().save(file=buffer)
        return buffer.getvalue()

    def figures(self) -> dict[str, float]:
        """The musical figures of the four voices (metrics.FIGURES), in the tune's key."""
        tonic, mode = self.parameters.key
        return figures(self.voices(), key=(tonic, mode))


# --- the form ---------------------------------------------------------------------------------

def plan_form(melody_bars: int, beats_per_bar: float, music_seconds: float, new_phrases: bool = False) -> list[Section]:
    """Intro, theme, variations and coda in whole bars, filling ``music_seconds`` near the
    arrangement's preferred tempo.

    The tune is cut into phrases of ``Arrangement.phrase_bars``. The theme is its first phrase as written;
    the following phrases come back as variations in running 8ths (keeping each bar's first
    beat), by turns in the dominant and in the home key; the last phrase always ends the piece in
    the home key, on the tune's own cadence. A long tune loses
    middle phrases; with time to spare, phrases return in new variations before the end. So the
    tune is heard in full at most once, and mostly varied. With ``new_phrases`` the variations
    in the dominant give way to new phrases of the same length (the Transformer's, in the
    dominant): new material between the theme and the variations at home. The intro, the quiet
    start the dynamic arc grows from, grows with the piece (``Arrangement.intro_share``): the
    body's own arc spans only a few LU, so a fixed 2 bars left a 90-s piece's short-term loudness
    range at about 6 LU against 17 at 30 and 60 s.
    """
    beats = ARRANGEMENT.preferred_tempo * music_seconds / 60
    intro = max(ARRANGEMENT.intro_bars, math.ceil(ARRANGEMENT.intro_share * beats / beats_per_bar))
    available = max(2, round(beats / beats_per_bar) - intro - ARRANGEMENT.coda_bars)
    length = min(ARRANGEMENT.phrase_bars, max(1, melody_bars // 2))
    last = (max(0, melody_bars - length), melody_bars)
    phrases = [(a, min(a + length, last[0])) for a in range(0, last[0], length)] or [last]
    if len(phrases) > 1 and phrases[-1][1] - phrases[-1][0] < length:  # a short remainder joins the phrase before
        phrases[-2:] = [(phrases[-2][0], phrases[-1][1])]
    theme = phrases[0]
    if theme[1] - theme[0] > ARRANGEMENT.theme_share * available:  # little time: the theme is half a phrase
        theme = (theme[0], theme[0] + max(1, (theme[1] - theme[0]) // 2))
    middle = phrases[1:]
    size = (theme[1] - theme[0]) + (last[1] - last[0])
    while middle and size + sum(b - a for a, b in middle) > available:
        middle.pop(len(middle) // 2)
    size += sum(b - a for a, b in middle)
    while size + length <= available:  # time to spare: phrases return, varied
        middle.append(phrases[len(middle) % len(phrases)])
        size += middle[-1][1] - middle[-1][0]
    # the dynamic arc: a soft opening, the theme, each variation louder, a crescendo in the last
    loudness = np.linspace(*ARRANGEMENT.velocity_variations, len(middle) + 1).round().astype(int)  # the last swells on
    sections = [Section("intro", 0, intro, velocity=ARRANGEMENT.velocity_intro),
                Section("theme", intro, theme[1] - theme[0], theme, velocity=ARRANGEMENT.velocity_theme)]
    for number, source in enumerate([*middle, last]):
        ending = number == len(middle)
        in_dominant = not ending and number % 2 == 0
        sections.append(Section("new phrase" if new_phrases and in_dominant else "variation",
                                sections[-1].start_bar + sections[-1].bars, source[1] - source[0],
                                source, transpose=ARRANGEMENT.dominant if in_dominant else 0, kept_beats=1,
                                velocity=int(loudness[number]), crescendo=ARRANGEMENT.crescendo if ending else 0))
    sections.append(Section("coda", sections[-1].start_bar + sections[-1].bars, ARRANGEMENT.coda_bars, velocity=ARRANGEMENT.velocity_coda))
    return sections


def _beat_factors(sections: list[Section], beats_per_bar: int) -> np.ndarray:
    """Relative tempo of each quarter note: spacious intro, breaths at phrase ends, a slowing close."""
    factors = []
    for section in sections:
        beats = section.bars * beats_per_bar
        if section.name == "intro":
            factors += [ARRANGEMENT.intro_tempo] * beats
        elif section.name == "coda":
            factors += list(np.linspace(*ARRANGEMENT.close_tempo, beats))
        else:
            phrase_end = ARRANGEMENT.phrase_bars * beats_per_bar
            factors += [ARRANGEMENT.breath_tempo if (i + 1) % phrase_end == 0 else 1.0 for i in range(beats)]
    return np.array(factors)


# --- the music --------------------------------------------------------------------------------

def gap_steps(melody: PianoRoll, kept_beats: int | None = None, cadence: bool = True) -> np.ndarray:
    """Steps the AR-CNN rewrites: all of every bar (but the last, the cadence, where ``cadence``)
    after its first ``kept_beats`` beats (by default the second half of the bar)."""
    bar = melody.steps_per_bar
    kept = bar - max(STEPS_PER_BEAT, (bar // 2) // STEPS_PER_BEAT * STEPS_PER_BEAT) if kept_beats is None \
        else min(bar - STEPS_PER_BEAT, kept_beats * STEPS_PER_BEAT)
    gaps = np.zeros(melody.n_steps, bool)
    n_bars = melody.n_steps // bar
    for b in range(max(1, n_bars - 1) if cadence else n_bars):
        gaps[b * bar + kept : (b + 1) * bar] = True
    return gaps


def vary_melody(melody: PianoRoll, enhancer: Enhancer, seed: int, kept_beats: int | None = None,
                cadence: bool = True, key: tuple[int, str] | None = None) -> PianoRoll:
    """A variation of a whole-bar melody: the AR-CNN fills gaps left in it (``gap_steps``), in 8th notes.

    The AR-CNN, trained on merged chorales, fills a gap with chords. On each 8th the new note
    is the tone of its chord nearest the note before (at most a 4th away), so the line moves
    mostly by step as a singer's does; only pitches in key and in the melody's range count;
    where the AR-CNN added nothing usable, the line steps on towards the next note of the tune
    (a passing note, or a neighbour when it is already there): running 8ths.
    """
    gaps = gap_steps(melody, kept_beats, cadence)
    holed = replace(melody, sounding=melody.sounding & ~gaps[:, None, None],
                    onsets=melody.onsets & ~gaps[:, None, None])
    enhanced, _ = enhancer(holed, iterations=300, max_notes_added=400, max_removed_pct=0.0, seed=seed)
    added = enhanced.sounding[:, :, 0] & ~holed.sounding[:, :, 0]
    pitches = [n.pitch for n in melody.notes(0)]
    scale = key_scale(*(key or melody_key(melody)))
    usable = np.zeros(added.shape[1], bool)
    usable[min(pitches) - 2 : max(pitches) + 3] = True
    usable &= np.isin(np.arange(added.shape[1]) % 12, list(scale))
    line, starts = top_line(holed.sounding[:, :, 0], holed.onsets[:, :, 0])
    kept_pitch = np.where(line.any(axis=1), np.argmax(line, axis=1), -1)
    current = -1
    for t in range(melody.n_steps):
        if not gaps[t]:
            current = int(kept_pitch[t]) if kept_pitch[t] >= 0 else current
            continue
        if t % 2 == 0 and current >= 0:  # a new 8th: the AR-CNN's note, else a step on the way
            candidates = np.nonzero(added[t] & usable)[0]
            moves = candidates[(candidates != current) & (np.abs(candidates - current) <= MAX_LEAP)]
            if len(moves):  # the AR-CNN's note nearest the line (the higher of two as near)
                chosen = int(moves[np.lexsort((-moves, np.abs(moves - current)))[0]])
            else:
                following = kept_pitch[t:][kept_pitch[t:] >= 0]
                chosen = _step_towards(current, int(following[0]) if len(following) else current, usable, t)
            starts[t, chosen] = True
            current = chosen
        if current >= 0:
            line[t, current] = True
            if t > 0 and not line[t - 1, current]:
                starts[t, current] = True
    return replace(melody, sounding=line[:, :, None], onsets=starts[:, :, None])


def _step_towards(pitch: int, target: int, usable: np.ndarray, t: int) -> int:
    """The next usable pitch from ``pitch`` towards ``target`` (a passing note); at the target, a
    neighbour above or below by turns. ``pitch`` itself where nothing is usable."""
    direction = int(np.sign(target - pitch)) or (1 if (t // 2) % 2 else -1)
    for step in (direction, -direction):
        for candidate in range(pitch + step, pitch + 3 * step, step):
            if 0 <= candidate < len(usable) and usable[candidate]:
                return candidate
    return pitch


def _transposed(tune: PianoRoll, semitones: int) -> tuple[PianoRoll, int]:
    """A one-track tune moved by ``semitones``, an octave the other way where that would leave
    the MIDI range; returns it with the semitones it actually moved."""
    pitches = np.nonzero(tune.sounding.any(axis=(0, 2)))[0]
    if not semitones or not len(pitches):
        return tune, 0
    if pitches.min() + semitones < 0:
        semitones += 12
    elif pitches.max() + semitones >= N_PITCHES:
        semitones -= 12
    moved = np.zeros_like(tune.sounding), np.zeros_like(tune.onsets)
    low, high = max(0, -semitones), min(N_PITCHES, N_PITCHES - semitones)
    for new, old in zip(moved, (tune.sounding, tune.onsets)):
        new[:, low + semitones : high + semitones] = old[:, low:high]
    return replace(tune, sounding=moved[0], onsets=moved[1]), semitones


def _nearest_octave(new: PianoRoll, tune: PianoRoll, semitones: int) -> int:
    """``semitones`` or the same move an octave the other way (a fourth down or a fifth up: the
    same key), whichever leaves fewer of the new phrase's notes outside the tune's range and a
    soprano's (C4-G5; then: nearer the tune's middle). The Transformer's phrases often lie low in
    the tune's range, and a fourth lower still would sink the soprano under the alto."""
    pitches = np.array([n.pitch for n in new.notes(0)])
    if not len(pitches):
        return semitones
    given = np.array([n.pitch for n in tune.notes(0)])
    other = semitones + 12 if semitones < 0 else semitones - 12

    def misfit(shift: int) -> tuple[int, float]:
        moved = pitches + shift
        outside = int(np.count_nonzero((moved < min(given.min(), SOPRANO_RANGE[0]))
                                       | (moved > max(given.max(), SOPRANO_RANGE[1]))))
        return outside, abs(float(moved.mean() - given.mean()))

    return min((semitones, other), key=misfit)


def _drum_tracks(voices: PianoRoll) -> list[int]:
    """The tracks of a harmonization that are drum kits (a band style's drums)."""
    return [k for k in range(1, voices.n_tracks) if voices.drums[k]]


def _kits(voices: PianoRoll) -> list[Part]:
    """A part for each drum track of a harmonization, its name and program, on MIDI channel 10 (a
    drum's pitch names an instrument, never a note to voice); ``compose`` puts them after the four
    voices, before the pad and the starfield."""
    return [Part(voices.names[k], voices.programs[k], ARRANGEMENT.kit[1], is_drum=True) for k in _drum_tracks(voices)]


def _parts_of(voices: PianoRoll) -> dict[int, int]:
    """The part each track of a harmonization plays: the melody the tune's, the bass
    (``metrics.bass_track``) the organ's, the other pitched tracks the strings' in turn, each drum
    track its kit (``_kits``)."""
    bass = bass_track(voices)
    inner = [k for k in range(1, voices.n_tracks) if not voices.drums[k] and k != bass]
    kits = {k: 4 + i for i, k in enumerate(_drum_tracks(voices))}
    return {0: 0, **dict(zip(inner, (1, 2))), **({bass: 3} if bass is not None else {}), **kits}


def _place(voices: PianoRoll, parts: list[Part], section: Section, bar: int) -> None:
    """Add a harmonized section to the four voices' parts and the kits (``_parts_of``), with
    swelling phrase dynamics and the section's crescendo."""
    phrase = ARRANGEMENT.phrase_bars * bar
    start_step = section.start_bar * bar
    for k, part in _parts_of(voices).items():
        offset = ARRANGEMENT.kit[0] if parts[part].is_drum else ARRANGEMENT.parts[part][2]
        for note in voices.notes(k):
            swell = 8 * math.sin(math.pi * (note.start % phrase) / phrase)
            accent = 4 if note.start % bar == 0 else 0
            rise = section.crescendo * note.start / max(1, voices.n_steps)
            v = int(np.clip(section.velocity + offset + swell + accent + rise, 20, 120))
            parts[part].notes.append((Note(note.start + start_step, note.pitch, note.length), v))


def _final_chord(parts: list[Part], end: int, scale: set[int]) -> None:
    """The closing cadence: a root-position triad on the tune's last note (major unless the
    key has only the minor third), struck with that note and held to ``end``. Where the
    harmonizer already ended on that triad in root position, its voices are simply held (and
    strike nothing after it)."""
    last, velocity = max(parts[0].notes)
    parts[0].notes[parts[0].notes.index((last, velocity))] = (last._replace(length=end - last.start), velocity)
    root = last.pitch % 12
    finals = [max((nv for nv in part.notes if nv[0].start <= last.start), default=None) for part in parts[1:4]]
    sounding = [nv for nv in finals if nv is not None and nv[0].start + nv[0].length > last.start]
    if len(sounding) == 3 and sounding[-1][0].pitch % 12 == root and \
            {n.pitch % 12 for n, _ in sounding} <= {root, (root + 3) % 12, (root + 4) % 12, (root + 7) % 12}:
        for part, (note, v) in zip(parts[1:4], sounding):
            part.notes[:] = [nv for nv in part.notes if nv[0].start <= last.start and nv != (note, v)] + \
                [(note._replace(length=end - note.start), v)]
        return
    major = (root + 4) % 12 in scale or (root + 3) % 12 not in scale
    third = (root + (4 if major else 3)) % 12
    ceiling = last.pitch
    for k, pitch_class, lowest in ((1, third, 48), (2, (root + 7) % 12, 41), (3, root, 28)):
        earlier = [(n._replace(length=min(n.length, last.start - n.start)), v)
                   for n, v in parts[k].notes if n.start < last.start]
        previous = earlier[-1][0].pitch if earlier else ceiling - 7
        choices = [p for p in range(lowest, ceiling + 1) if p % 12 == pitch_class]
        pitch = (min(choices, key=lambda p: abs(p - previous)) if choices  # else the nearest below, still a MIDI pitch
                 else max(ceiling - (ceiling - pitch_class) % 12, pitch_class))
        offset = ARRANGEMENT.parts[k][2] - ARRANGEMENT.parts[0][2]
        parts[k].notes[:] = earlier + [(Note(last.start, pitch, end - last.start), velocity + offset)]
        ceiling = pitch


def _chord_at(parts: list[Part], step: int) -> list[int]:
    """Pitches the four voices sound at ``step`` (bass first), or the nearest earlier ones."""
    for t in range(step, -1, -1):
        pitches = sorted({n.pitch for part in parts[:4] for n, _ in part.notes if n.start <= t < n.start + n.length})
        if pitches:
            return pitches
    return []


def _pad(parts: list[Part], sections: list[Section], bar: int, first_chord: list[int]) -> None:
    """Sustained chords below the tune (the next-to-last part): bass in octave 2, the other tones
    in octave 3; one chord per half bar (per bar where a bar has an odd number of beats)."""
    pad = parts[-2]
    hold = bar // 2 if (bar // STEPS_PER_BEAT) % 2 == 0 else bar
    previous: tuple[int, ...] = ()
    for section in sections:
        start, end = section.start_bar * bar, (section.start_bar + section.bars) * bar
        if section.name == "intro":
            changes = [(start, end, first_chord)]
        elif section.name == "coda":
            changes = [(start, end, _chord_at(parts, start - 1))]
        else:
            changes = [(t, t + hold, _chord_at(parts, t)) for t in range(start, end, hold)]
        velocity = section.velocity - 14
        for t, stop, chord in changes:
            if not chord:
                continue
            low, middle = ARRANGEMENT.pad_octaves
            bass = low + (chord[0] - low) % 12
            upper = sorted({middle + (p - middle) % 12 for p in chord[1:]})
            voicing = tuple([bass] + [p for p in upper if p != bass])
            if voicing == previous and pad.notes:  # the same chord goes on sounding
                for i in range(len(pad.notes) - len(voicing), len(pad.notes)):
                    note, v = pad.notes[i]
                    pad.notes[i] = (note._replace(length=stop - note.start), v)
                continue
            pad.notes += [(Note(t, p, stop - t), velocity) for p in voicing]
            previous = voicing


def _starfield(parts: list[Part], sections: list[Section], bar: int, first_chord: list[int]) -> None:
    """Broken chords high above (the last part): 8ths in the intro and variations, a glint per bar
    in the theme, slowing to quarters in the coda."""
    stars = parts[-1]
    for section in sections:
        start, end = section.start_bar * bar, (section.start_bar + section.bars) * bar
        spacing = {"intro": 2, "variation": 2, "new phrase": 2, "coda": 4, "theme": bar}[section.name]
        velocity = section.velocity + 6
        for i, t in enumerate(range(start, end, spacing)):
            chord = first_chord if section.name == "intro" else _chord_at(parts, t if section.name != "coda" else start - 1)
            tones = sorted({ARRANGEMENT.starfield_octave + p % 12 for p in chord})
            if not tones:
                continue
            length = min(spacing, STEPS_PER_BEAT, end - t)
            fade = 1.0 - 0.5 * (t - start) / max(1, end - start) if section.name == "coda" else 1.0
            stars.notes.append((Note(t, tones[i % len(tones)], length), int(velocity * fade)))


def in_words(words: list[str]) -> str:
    """Words joined as a sentence lists them: "a", "a and b", "a, b and c"."""
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def played_phrase(played: list[Section]) -> str:
    """The sections the tune is played in, counted by kind in words: "the theme, 1 new phrase and
    1 variation"."""
    counts = {kind: sum(s.name == kind for s in played) for kind in ("theme", "new phrase", "variation")}
    words = [f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in counts.items() if n and kind != "theme"]
    return in_words((["the theme"] if counts["theme"] else []) + words)


def compose(melody: PianoRoll, harmonizer: Harmonizer, enhancer: Enhancer, seconds: float = 60.0,
            seed: int = 0, title: str = "", progress: Callable[[str], None] | None = None,
            extender: MelodyModel | None = None) -> Composition:
    """Compose a piece lasting ``seconds`` (audio included) from a one-track melody; with an
    ``extender`` (the Transformer) new phrases take the places of the variations in the dominant."""
    if melody.n_tracks != 1 or not melody.onsets.any():
        raise MelodyError("the melody must be one track with notes")
    say = progress or (lambda message: None)
    whole = whole_bars(melody)
    bar = whole.steps_per_bar
    beats_per_bar = bar // STEPS_PER_BEAT
    if bar % STEPS_PER_BEAT:
        raise MelodyError(f"a {whole.time_signature[0]}/{whole.time_signature[1]} bar is not whole quarter notes")
    bars_with_notes = whole.onsets[:, :, 0].any(axis=1).reshape(-1, bar).any(axis=1)
    whole = slice_bars(whole, int(np.argmax(bars_with_notes)), len(bars_with_notes))  # the theme starts with a note
    music_seconds = seconds - ARRANGEMENT.tail_seconds
    sections = plan_form(whole.n_steps // bar, beats_per_bar, music_seconds, new_phrases=extender is not None)
    parts = [Part(name, program, volume) for name, program, _, volume in ARRANGEMENT.parts]
    tonic, mode = melody_key(melody)
    copied = 0  # the top line's notes copied from the tune (transposed copies too)
    played = [s for s in sections if s.name in ("theme", "variation", "new phrase")]  # one after another
    tunes = []
    for number, section in enumerate(played):
        source = slice_bars(whole, *section.source)
        transpose = section.transpose
        if section.name == "new phrase":
            say(f"Transformer: {section.bars} new bars to follow the melody, in the dominant")
            source = new_bars(whole, extender, section.bars, seed=seed + number)
            transpose = _nearest_octave(source, whole, section.transpose)
        tune, moved = _transposed(source, transpose)
        if section.name == "variation" and tune.onsets.any():
            say(f"AR-CNN: a variation on bars {section.source[0] + 1}-{section.source[1]} of the melody"
                + (" in the dominant" if section.transpose else ""))
            tune = vary_melody(tune, enhancer, seed + number, section.kept_beats, cadence=section is played[-1],
                               key=((tonic + moved) % 12, mode))
        if section.name != "new phrase":
            copied += len({(n.start, n.pitch - moved) for n in tune.notes(0)}
                          & {(n.start, n.pitch) for n in source.notes(0)})
        tunes.append(tune)
    # one melody through the harmonizer, so the voices lead across the joins of the sections
    say(f"GAN: harmonizing {played_phrase(played)} ({sum(s.bars for s in played)} bars)")
    joined = replace(whole, sounding=np.concatenate([t.sounding for t in tunes]),
                     onsets=np.concatenate([t.onsets for t in tunes]))
    voices = harmonizer(joined, seed)
    kits = _kits(voices)
    parts[4:4] = kits  # the space colour (pad, starfield) stays last, drawn behind the rest
    first_bar = 0
    for section in played:
        _place(slice_bars(voices, first_bar, first_bar + section.bars), parts, section, bar)
        first_bar += section.bars
    top_line_notes = sum(len(t.notes(0)) for t in tunes)
    coda = sections[-1]
    _final_chord(parts, (coda.start_bar + coda.bars) * bar, key_scale(tonic, mode))
    first_chord = _chord_at(parts, min(n.start for n, _ in parts[0].notes))
    _pad(parts, sections, bar, first_chord)
    _starfield(parts, sections, bar, first_chord)
    for part in parts:
        part.notes.sort()

    factors = _beat_factors(sections, beats_per_bar)
    base = 60.0 * float(np.sum(1.0 / factors)) / music_seconds
    if not ARRANGEMENT.tempo_range[0] <= base <= ARRANGEMENT.tempo_range[1]:
        raise MelodyError(f"cannot fit this melody into {seconds:g} s at a sensible tempo ({base:.0f} bpm)")
    form = ", ".join(f"{s.label} {s.bars} bar{'s' if s.bars != 1 else ''}" for s in sections)
    tune_name = title or "a melody"
    style = getattr(harmonizer, "style", "bach")
    trained_on = "Bach's chorales" if style == "bach" else f"the {style} style's pieces"
    description = (
        f"A Bach-meets-space piece on {tune_name}: {form}. A GAN trained on {trained_on} harmonized "
        f"the theme in four voices; an AR-CNN rewrote the melody of the variation"
        + (", a Transformer trained on folk songs and Bach's sopranos wrote new phrases,"
           if any(s.name == "new phrase" for s in sections) else ",")
        + f" which the GAN harmonized again. Harpsichord, strings{', church organ and drums' if kits else ' and church organ'}"
        f" over a warm space pad and a crystal "
        f"starfield, about {base:.0f} beats a minute, slowing into a long reverberant close. "
        f"Composed offline with the open DeepComposer workshop. #{TAG}")
    return Composition(
        title=f"{tune_name[0].upper()}{tune_name[1:]} in Orbit", description=description, parts=parts,
        sections=sections, steps_per_bar=bar, time_signature=whole.time_signature,
        beat_tempi=np.round(base * factors, 2), seed=seed,
        parameters=Parameters(seconds=seconds, tempo_bpm=round(base, 1), form=form, key=(tonic, mode),
                              top_line_notes=top_line_notes, top_line_copied=copied,
                              notes_not_copied=round(1.0 - copied / max(1, top_line_notes), 4),
                              time_signature=tuple(whole.time_signature),
                              instruments={part.name: part.program for part in parts}))
