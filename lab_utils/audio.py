"""Synthesize piano rolls and MIDI files, play them in a notebook, write WAV and MP3.

The synthesizer is TinySoundFont (the ``tinysoundfont`` wheel) playing a General MIDI
soundfont: it is self-contained (no system library, unlike FluidSynth's bindings), so it
installs the same way on Linux, macOS, Windows, Colab and SageMaker, and it renders
offline into a numpy buffer far faster than real time. The soundfont comes from the system
(Debian's ``fluid-soundfont-gm``) or from ``LAB_SOUNDFONT``. Without one, a small built-in
additive synthesizer stands in (plucked keyboards, organ, voices and strings) and says so once.

Loading the soundfont (FluidR3: 141 MB, 0.3 s or more) happens once per process, in a background
thread that ``preload_soundfont`` can start early; every render then starts from a fresh copy
that shares the loaded samples.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pretty_midi

from .files import atomic_path
from .midi import PianoRoll, midi_channel, read_midi, to_pretty_midi

if TYPE_CHECKING:
    from tinysoundfont._tinysoundfont import SoundFont

__all__ = ["synth_events", "SAMPLE_RATE", "find_soundfont", "preload_soundfont", "synthesize", "write_audio", "play", "synthesizer_name",
           "add_reverb"]

SAMPLE_RATE = 44100
TAIL_SECONDS = 1.5  # room for the last notes to ring out
PEAK = 0.89  # -1 dBFS: normalized audio never clips
SOUNDFONT_PATHS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/opt/homebrew/share/soundfonts/default.sf2",
    "/usr/local/share/soundfonts/default.sf2",
)
MAX_VOICES = 256  # notes sounding at once (with release tails), TinySoundFont's default
_warned_fallback = False
_font_lock = threading.Lock()
_font: tuple[Path, Future] | None = None  # the soundfont loaded, or loading, in this process


def find_soundfont() -> Path | None:
    """The General MIDI soundfont to use: ``LAB_SOUNDFONT`` first, then system locations."""
    candidates = [os.environ.get("LAB_SOUNDFONT", ""), *SOUNDFONT_PATHS]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def synthesizer_name() -> str:
    """Which synthesizer ``synthesize`` will use, for notes and notebooks."""
    soundfont = find_soundfont()
    if soundfont is not None and _tinysoundfont() is not None:
        return f"TinySoundFont with {soundfont.name}"
    return "built-in fallback synthesizer"


def _tinysoundfont():
    try:
        import tinysoundfont
    except ImportError:
        return None
    return tinysoundfont


def preload_soundfont() -> None:
    """Start loading the soundfont in a background thread, so that ``synthesize`` finds it ready.

    Call it as early as possible. Reading the file overlaps any work; parsing it (about 0.3 s)
    holds the GIL, so it hides completely only behind waiting (a notebook between cells or
    clicks) or GIL-free work. Later renders in the process reuse the loaded soundfont. Without a
    soundfont or TinySoundFont, or once loading has begun, it does nothing.
    """
    soundfont = find_soundfont()
    if soundfont is not None and _tinysoundfont() is not None:
        _loaded_font(soundfont)


def _loaded_font(path: Path) -> Future:
    """The soundfont at ``path``, loaded (or being loaded) once in a daemon thread; one is kept."""
    global _font
    with _font_lock:
        if _font is None or _font[0] != path:
            future = Future()
            threading.Thread(target=_load_font, args=(path, future), name="soundfont", daemon=True).start()
            _font = (path, future)
        return _font[1]


def _load_font(path: Path, future: Future) -> None:
    from tinysoundfont._tinysoundfont import OutputMode, SoundFont

    try:
        font = SoundFont(path.read_bytes())  # the read releases the GIL, the parse does not
        font.set_output(OutputMode.StereoInterleaved, SAMPLE_RATE, 0.0)
    except Exception as exc:  # handed to the caller of synthesize
        future.set_exception(exc)
    else:
        future.set_result(font)


def _as_pretty_midi(music: PianoRoll | pretty_midi.PrettyMIDI | str | os.PathLike) -> pretty_midi.PrettyMIDI:
    if isinstance(music, pretty_midi.PrettyMIDI):
        return music
    if isinstance(music, PianoRoll):
        return to_pretty_midi(music)
    return to_pretty_midi(read_midi(music))


def synthesize(music: PianoRoll | pretty_midi.PrettyMIDI | str | os.PathLike) -> np.ndarray:
    """Render music to stereo float32 audio, shape (samples, 2), at ``SAMPLE_RATE``.

    The result is peak-normalized to -1 dBFS and ends with a short tail.
    """
    pm = _as_pretty_midi(music)
    soundfont = find_soundfont()
    if soundfont is not None and _tinysoundfont() is not None:
        audio = _render_soundfont(pm, _loaded_font(soundfont).result())
    else:
        _say_fallback_once()
        audio = _render_fallback(pm)
    peak = float(np.abs(audio).max())
    return (audio * (PEAK / peak) if peak > 0 else audio).astype(np.float32)


def _say_fallback_once() -> None:
    global _warned_fallback
    if not _warned_fallback:
        print("audio: no General MIDI soundfont found, using the built-in synthesizer "
              "(install fluid-soundfont-gm or set LAB_SOUNDFONT to a .sf2 file)", file=sys.stderr)
        _warned_fallback = True


CONTROL, NOTE_OFF, NOTE_ON = 0, 1, 2  # the order of events at the same sample


def synth_events(pm: pretty_midi.PrettyMIDI) -> tuple[list[tuple[int, int, int, int, int]], list[tuple[int, int, bool]]]:
    """Events (sample, kind, channel, pitch or controller, velocity or value) and channel programs."""
    events = []
    channels = []
    for i, inst in enumerate(pm.instruments):
        channel = midi_channel(i, inst.is_drum)
        channels.append((channel, inst.program, inst.is_drum))
        for cc in inst.control_changes:  # e.g. channel volume (7) for the mix
            events.append((round(cc.time * SAMPLE_RATE), CONTROL, channel, cc.number, cc.value))
        for n in inst.notes:
            start = round(n.start * SAMPLE_RATE)
            end = max(start + 1, round(n.end * SAMPLE_RATE))
            events.append((end, NOTE_OFF, channel, n.pitch, 0))
            events.append((start, NOTE_ON, channel, n.pitch, n.velocity))
    return sorted(events), channels


def _render_soundfont(pm: pretty_midi.PrettyMIDI, loaded: SoundFont) -> np.ndarray:
    """Play the events on a copy of the loaded soundfont, straight into the output array.

    TinySoundFont's own binding (what ``tinysoundfont.Synth`` wraps) copies a loaded soundfont
    with ``tsf_copy``: the samples are shared, channels and voices start fresh, so one load
    serves every render (a reused ``Synth`` would keep ringing voices and channel settings).
    """
    from tinysoundfont._tinysoundfont import SoundFont

    font = SoundFont(loaded)
    font.set_max_voices(MAX_VOICES)  # a copy starts without voices
    events, channels = synth_events(pm)
    for channel, program, is_drum in channels:
        font.channel_set_bank(channel, 128 if is_drum else 0)
        font.channel_set_preset_number(channel, 0 if is_drum else program, False)
    total = (events[-1][0] if events else 0) + int(TAIL_SECONDS * SAMPLE_RATE)
    audio = np.empty((total, 2), np.float32)
    now = 0
    for sample, kind, channel, number, value in events:
        if sample > now:
            font.render(audio[now:sample], False)
            now = sample
        if kind == NOTE_ON:
            font.channel_note_on(channel, number, value / 127)
        elif kind == NOTE_OFF:
            font.channel_note_off(channel, number)
        else:
            font.channel_midi_control(channel, number, value)
    font.render(audio[now:], False)
    return audio


# --- the built-in fallback ------------------------------------------------------------------

def _timbre(program: int) -> tuple[np.ndarray, float, bool]:
    """Harmonic amplitudes, decay rate (1/s) and vibrato for a GM program family."""
    if program < 8 or 104 <= program < 112:  # pianos, harpsichord, plucked
        return np.array([1.0, 0.6, 0.45, 0.3, 0.22, 0.15, 0.1, 0.07]), 2.5, False
    if 16 <= program < 24:  # organs: steady, rich, no decay
        return np.array([1.0, 0.8, 0.3, 0.5, 0.1, 0.3, 0.05, 0.2]), 0.0, False
    if 40 <= program < 56:  # strings, ensembles, choir
        return np.array([1.0, 0.5, 0.33, 0.25, 0.2, 0.16, 0.12, 0.1]), 0.3, True
    if 88 <= program < 96:  # pads: soft and warm
        return np.array([1.0, 0.3, 0.1, 0.05]), 0.0, True
    return np.array([1.0, 0.4, 0.25, 0.12, 0.06]), 0.8, False  # winds and the rest


def _render_fallback(pm: pretty_midi.PrettyMIDI) -> np.ndarray:
    end = pm.get_end_time() if pm.instruments else 0.0
    total = int((end + TAIL_SECONDS) * SAMPLE_RATE) + 1
    mono = np.zeros(total, np.float64)
    attack, release = int(0.01 * SAMPLE_RATE), int(0.12 * SAMPLE_RATE)
    for inst in pm.instruments:
        if inst.is_drum:
            continue
        harmonics, decay, vibrato = _timbre(inst.program)
        volume = next((cc.value for cc in inst.control_changes if cc.number == 7), 127) / 127
        for n in inst.notes:
            start = int(n.start * SAMPLE_RATE)
            length = max(1, int((n.end - n.start) * SAMPLE_RATE))
            t = np.arange(length + release) / SAMPLE_RATE
            freq = pretty_midi.note_number_to_hz(n.pitch)
            phase = 2 * np.pi * freq * t
            if vibrato:
                phase += 0.004 * 2 * np.pi * freq / 5.5 * np.sin(2 * np.pi * 5.5 * t)
            wave = sum(a * np.sin(k * phase) * np.exp(-decay * k * t)
                       for k, a in enumerate(harmonics, 1) if k * freq < SAMPLE_RATE / 2)
            envelope = np.ones_like(t)
            envelope[:attack] = np.linspace(0, 1, attack)[: len(t)]
            envelope[length:] = np.linspace(1, 0, len(t) - length)
            piece = wave * envelope * (n.velocity / 127) * volume
            stop = min(total, start + len(piece))
            mono[start:stop] += piece[: stop - start]
    return np.stack([mono, mono], axis=1)


# --- files and notebooks --------------------------------------------------------------------

AUDIO_FORMATS = {".wav": ("WAV", "PCM_16"), ".mp3": ("MP3", "MPEG_LAYER_III")}  # suffix: soundfile's names


def _encode(audio: np.ndarray, target, suffix: str, compression: float | None = None) -> None:
    """Audio into ``target`` (a path or a binary file object) as WAV or MP3."""
    import soundfile

    file_format, subtype = AUDIO_FORMATS[suffix]
    options = {"compression_level": compression} if compression is not None and suffix == ".mp3" else {}
    soundfile.write(target, np.clip(audio, -1.0, 1.0), SAMPLE_RATE, format=file_format, subtype=subtype, **options)


def write_audio(audio: np.ndarray, path: str | os.PathLike, compression: float | None = None) -> Path:
    """Write audio as WAV (16-bit) or MP3, by the file's suffix; whole or not at all.

    ``compression`` (MP3 only, 0 to 1) trades quality for size: 0.5 is about 100 kbit/s.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in AUDIO_FORMATS:
        raise ValueError(f"audio files must end in .wav or .mp3, not {suffix!r}")
    with atomic_path(path) as tmp:
        _encode(audio, tmp, suffix, compression)
    return path


PLAYER_COMPRESSION = 0.5  # a notebook's players at about 110 kbit/s (libsndfile's default: about 135)


def play(music: PianoRoll | pretty_midi.PrettyMIDI | np.ndarray | str | os.PathLike):
    """An audio player for the notebook (Jupyter, Colab and SageMaker alike).

    The sound is embedded as MP3 (``PLAYER_COMPRESSION``), about a twelfth of WAV's size, so an
    executed notebook stays light; an ``.mp3`` file plays as it is, anything else (audio, a roll, a MIDI file) is
    synthesized first.
    """
    import io

    from IPython.display import Audio

    if isinstance(music, (str, os.PathLike)) and Path(music).suffix.lower() == ".mp3":
        data = Path(music).read_bytes()
    else:
        encoded = io.BytesIO()
        _encode(music if isinstance(music, np.ndarray) else synthesize(music), encoded, ".mp3", PLAYER_COMPRESSION)
        data = encoded.getvalue()
    player = Audio(data=data)
    player.mimetype = "audio/mpeg"  # IPython takes bytes for WAV unless told
    return player


def add_reverb(audio: np.ndarray, seconds: float = 3.0, decay: float = 2.4, wet: float = 0.28,
               seed: int = 0) -> np.ndarray:
    """A hall around stereo audio: convolution with decaying noise (``decay`` s to -60 dB).

    The result is longer by ``seconds`` (the tail) and keeps the input's peak level.
    """
    from scipy import signal

    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    envelope = np.exp(-6.9 * np.arange(n) / (decay * SAMPLE_RATE)).astype(np.float32)
    impulse = rng.standard_normal((n, 2)).astype(np.float32) * envelope[:, None]
    impulse[: min(int(0.02 * SAMPLE_RATE), n // 2)] = 0.0  # 20 ms before the first reflections
    impulse /= np.sqrt((impulse ** 2).sum(axis=0, keepdims=True))
    audio = audio.astype(np.float32)
    tail = signal.fftconvolve(audio.T, impulse.T, axes=1).T  # float32 all the way, one row per channel
    mixed = np.pad((1 - wet) * audio, ((0, n), (0, 0)))
    mixed[: len(tail)] += wet * tail
    peak = float(np.abs(mixed).max())
    return (mixed * (float(np.abs(audio).max()) / peak) if peak > 0 else mixed).astype(np.float32)
