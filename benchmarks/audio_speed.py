"""The audio half of ``compose``, stage by stage: today's code against the code it replaced.

The default challenge track (Twinkle Twinkle, seed 0, 60 s) is composed once; then every stage
runs ``--repeats`` times, the earlier implementation and today's alternating in one process,
each on the same input. The earlier implementations live only here, as references, with the
largest difference between their output and today's.

- soundfont load: reading FluidR3 and parsing it (``Synth.sfload`` then, ``preload_soundfont``'s
  thread now), once per process. In the background it hides behind idle time (the studio
  waiting for a click); the parse holds the GIL, so behind compose's own work only the read hides.
- synthesize: playing the events, the soundfont loaded (then: a freshly loaded ``Synth`` per
  render, chunks copied out of its buffers; now: a copy sharing the loaded samples, rendered
  straight into the output array). A second render in one process (the studio) paid the load
  again then, and does not now.
- reverb: one FFT convolution (then numpy's, now ``scipy.signal.fftconvolve`` per channel).
- master / measure: K-weighting every 3-s and 10-s window and oversampling every sample (then)
  against K-weighting once with running sums and oversampling only near loud samples (now).
- plot loudness: the short-term curve under the piano roll.

Run: python benchmarks/audio_speed.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pretty_midi
import pyloudnorm
import tinysoundfont
from scipy import signal
from scipy.fft import next_fast_len

from lab_utils import audio, mastering
from lab_utils.audio import SAMPLE_RATE as RATE


# --- the earlier implementations (references) ------------------------------------------------

def load_then(path: Path) -> tinysoundfont.Synth:
    """A Synth with the soundfont read and parsed: what every render began with."""
    synth = tinysoundfont.Synth(samplerate=RATE)
    synth.sfload(path.read_bytes())
    return synth


def reverb_then(sound: np.ndarray, seconds: float = 3.0, decay: float = 2.4, wet: float = 0.28,
                seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    envelope = np.exp(-6.9 * np.arange(n) / (decay * RATE)).astype(np.float32)
    impulse = rng.standard_normal((n, 2)).astype(np.float32) * envelope[:, None]
    impulse[: min(int(0.02 * RATE), n // 2)] = 0.0
    impulse /= np.sqrt((impulse ** 2).sum(axis=0, keepdims=True))
    dry = np.pad(sound.astype(np.float32), ((0, n), (0, 0)))
    size = next_fast_len(len(dry) + n, real=True)
    tail = np.fft.irfft(np.fft.rfft(dry, size, axis=0) * np.fft.rfft(impulse, size, axis=0), size, axis=0)[: len(dry)]
    mixed = (1 - wet) * dry + wet * tail
    return (mixed * (float(np.abs(sound).max()) / float(np.abs(mixed).max()))).astype(np.float32)


def peaks_then(sound: np.ndarray) -> np.ndarray:
    oversampled = signal.resample_poly(sound.astype(np.float32), 4, 1, axis=0)
    return np.abs(oversampled[: len(sound) * 4]).reshape(len(sound), -1).max(axis=1)


def short_term_then(sound: np.ndarray, hop: float = 1.0, window: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    meter = pyloudnorm.Meter(RATE, block_size=mastering.SHORT_TERM_SECONDS)
    size, step = int(window * RATE), int(hop * RATE)
    starts = np.arange(0, max(1, len(sound) - size + 1), step)
    with np.errstate(divide="ignore"):
        values = np.array([meter.integrated_loudness(sound[s: s + size]) for s in starts])
    return starts / RATE, values


def master_then(sound: np.ndarray) -> np.ndarray:
    clean = mastering.remove_dc(sound, RATE)
    loud = clean * 10 ** ((mastering.TARGET_LUFS - pyloudnorm.Meter(RATE).integrated_loudness(clean)) / 20)
    ceiling = 10 ** ((mastering.CEILING_DBTP - 0.2) / 20)
    peaks = peaks_then(loud)
    if peaks.max() > ceiling:
        loud = mastering._limit(loud, peaks, RATE, ceiling)
    return (loud - loud.mean(axis=0)).astype(np.float32)


def measure_then(sound: np.ndarray) -> dict[str, float]:
    _, short_term = short_term_then(sound)
    finite = short_term[np.isfinite(short_term)]
    starts, ten_seconds = short_term_then(sound, hop=2.0, window=10.0)
    return {"integrated_lufs": pyloudnorm.Meter(RATE).integrated_loudness(sound),
            "true_peak_dbtp": 20 * np.log10(peaks_then(sound).max() + 1e-12),
            "loudness_range_lu": np.percentile(finite, 95) - np.percentile(finite, 10),
            "loudest_10s_start": starts[np.argmax(ten_seconds)]}


# --- today's code, as export.render_audio and write_composition call it -----------------------

def load_now(path: Path) -> object:
    """preload_soundfont's work, waited for, as in a fresh process."""
    audio._font = None
    return audio._loaded_font(path).result()


def fit(sound: np.ndarray, seconds: float) -> np.ndarray:
    """export.render_audio's cut to the requested length with a 1-s fade."""
    n = int(round(seconds * RATE))
    sound = np.pad(sound, ((0, max(0, n - len(sound))), (0, 0)))[:n]
    sound[-RATE:] *= np.linspace(1.0, 0.0, RATE, dtype=np.float32)[:, None]
    return sound


def measure_now(sound: np.ndarray) -> dict[str, float]:
    figures = mastering.measure(sound, RATE)
    return {k: getattr(figures, k) for k in ("integrated_lufs", "true_peak_dbtp", "loudness_range_lu", "loudest_10s_start")}


def difference(then, now) -> str:
    """The largest difference between an earlier stage's output and today's."""
    if isinstance(then, dict):
        return "figures " + " ".join(f"{abs(then[k] - now[k]):.0e}" for k in then)
    if isinstance(then, tuple):  # (times, LUFS), silent windows at -inf in both
        then, now = then[1], now[1]
        finite = np.isfinite(then)
        assert np.array_equal(finite, np.isfinite(now))
        return f"{np.abs(then[finite] - now[finite]).max():.0e} LU"
    assert then.shape == now.shape
    return f"{np.abs(then - now).max() / np.abs(then).max():.0e} of the peak"


def timed(function: Callable, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def compose_default() -> pretty_midi.PrettyMIDI:
    from lab_utils.arcnn import load_enhancer
    from lab_utils.compose import compose
    from lab_utils.harmonize import load_harmonizer
    from lab_utils.melody_source import melody_from

    melody, title, _ = melody_from("twinkle")
    piece = compose(melody, load_harmonizer(), load_enhancer(), seconds=60.0, seed=0, title=title)
    return pretty_midi.PrettyMIDI(mido_object=piece.midi())


def main(repeats: int) -> None:
    pm = compose_default()
    soundfont = audio.find_soundfont()
    if soundfont is None:
        raise SystemExit("no General MIDI soundfont: this benchmark measures the TinySoundFont path")
    dry = audio.synthesize(pm)
    wet = fit(audio.add_reverb(dry), 60.0)
    mastered = mastering.master(wet, RATE)
    def nothing() -> None:
        return None

    stages = [  # name, what the earlier stage needs first (not timed), the earlier stage, today's
        ("soundfont load (once a process)", nothing, lambda _: load_then(soundfont), lambda: load_now(soundfont)),
        # the notes are played as before (tests/test_audio.py: bit-identical to a fresh Synth)
        ("synthesize (font loaded)", nothing, lambda _: audio.synthesize(pm), lambda: audio.synthesize(pm)),
        ("add_reverb", nothing, lambda _: reverb_then(dry), lambda: audio.add_reverb(dry)),
        ("master", nothing, lambda _: master_then(wet), lambda: mastering.master(wet, RATE)),
        ("measure", nothing, lambda _: measure_then(mastered), lambda: measure_now(mastered)),
        ("plot loudness (short-term)", nothing, lambda _: short_term_then(mastered),
         lambda: mastering.short_term_loudness(mastered, RATE)),
    ]
    print(f"60-s track, {repeats} runs each, alternating, median wall seconds")
    print(f"{'stage':34s} {'before':>7s} {'after':>7s} {'saved':>7s}  largest difference")
    medians = {}
    for name, prepare, then, now in stages:
        runs = {"before": [], "after": []}
        for _ in range(repeats):
            seconds_then, result_then = timed(then, prepare())
            seconds_now, result_now = timed(now)
            runs["before"].append(seconds_then)
            runs["after"].append(seconds_now)
        medians[name] = before, after = statistics.median(runs["before"]), statistics.median(runs["after"])
        note = "" if name.startswith("soundfont") else difference(result_then, result_now)
        print(f"{name:34s} {before:7.3f} {after:7.3f} {before - after:7.3f}  {note}")
    before, after = (sum(pair[i] for pair in medians.values()) for i in (0, 1))
    print(f"{'render + measure (fresh process)':34s} {before:7.3f} {after:7.3f} {before - after:7.3f}")
    again = after - medians[stages[0][0]][1]
    print(f"{'  again in that process (studio)':34s} {'':7s} {again:7.3f}           "
          "(before: each render parsed the soundfont again)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    main(parser.parse_args().repeats)
