"""Mastering the challenge track like a record: no DC offset, a loudness target, a true-peak ceiling.

Loudness is ITU-R BS.1770 as ``pyloudnorm`` measures it (integrated, and short-term over 3-s
windows); the true peak is the sample peak of the audio oversampled 4x (``scipy.signal``).
Some soundfont instruments (GM 89, the warm pad, in TinySoundFont) carry a DC offset that
wastes headroom and thumps at the start and end: a 20 Hz high-pass removes it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pyloudnorm
from scipy import ndimage, signal

__all__ = ["DC_CUTOFF_HZ", "TARGET_LUFS", "CEILING_DBTP", "SHORT_TERM_SECONDS", "Mastered", "remove_dc", "true_peak_dbtp",
           "short_term_loudness", "master", "measure"]

DC_CUTOFF_HZ = 20.0  # the high-pass: below what a listener hears, above the pad's drift
TARGET_LUFS = -14.0  # integrated loudness of streaming services; the issue allows -16 to -13
CEILING_DBTP = -1.0  # true peak at most this (4x oversampled)
OVERSAMPLING = 4
SHORT_TERM_SECONDS = 3.0  # BS.1770's short-term window
LIMITER_RELEASE_SECONDS = 0.15  # how fast the limiter lets go after a peak


@dataclass(frozen=True)
class Mastered:
    """What mastering measured on the finished audio."""

    integrated_lufs: float
    true_peak_dbtp: float
    loudness_range_lu: float  # short-term loudness, 95th minus 10th percentile (EBU R128's LRA idea)
    loudest_10s_start: float  # seconds: where the loudest 10 s begin
    max_window_dc: float  # largest |mean| of any 1-s window, either channel

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in asdict(self).items()}


def remove_dc(audio: np.ndarray, rate: int) -> np.ndarray:
    """A zero-phase 20 Hz high-pass on each channel (Butterworth, 2nd order, forward and back)."""
    sos = signal.butter(2, DC_CUTOFF_HZ, btype="highpass", fs=rate, output="sos")
    return signal.sosfiltfilt(sos, audio, axis=0).astype(np.float32)


def _sample_peaks(audio: np.ndarray) -> np.ndarray:
    """The largest |value| of the 4x oversampled audio around each sample, over both channels."""
    oversampled = signal.resample_poly(audio.astype(np.float32), OVERSAMPLING, 1, axis=0)
    return np.abs(oversampled[: len(audio) * OVERSAMPLING]).reshape(len(audio), -1).max(axis=1)


def true_peak_dbtp(audio: np.ndarray) -> float:
    """The peak of the audio oversampled 4x, in dB relative to full scale."""
    return float(20 * np.log10(_sample_peaks(audio).max() + 1e-12))


def short_term_loudness(audio: np.ndarray, rate: int, hop: float = 1.0,
                        window: float = SHORT_TERM_SECONDS) -> tuple[np.ndarray, np.ndarray]:
    """(window start seconds, LUFS) of every ``window``-s stretch (3 s: BS.1770's short-term
    loudness), one per ``hop`` seconds."""
    meter = pyloudnorm.Meter(rate, block_size=SHORT_TERM_SECONDS)
    size, step = int(window * rate), int(hop * rate)
    starts = np.arange(0, max(1, len(audio) - size + 1), step)
    with np.errstate(divide="ignore"):
        values = np.array([meter.integrated_loudness(audio[s : s + size]) for s in starts])
    return starts / rate, values


def _limit(audio: np.ndarray, peaks: np.ndarray, rate: int, ceiling: float) -> np.ndarray:
    """Gain that holds every (4x oversampled) peak at ``ceiling``, eased in and out so it does not click.

    The gain each sample needs is held for the release time around it (a minimum filter), then
    averaged over the same time: every sample near a peak stays at or below what the peak needs.
    """
    wanted = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-9))
    size = int(LIMITER_RELEASE_SECONDS * rate)
    gain = ndimage.uniform_filter1d(ndimage.minimum_filter1d(wanted, size), size)
    return (audio * gain[:, None]).astype(np.float32)


def master(audio: np.ndarray, rate: int, target_lufs: float = TARGET_LUFS) -> np.ndarray:
    """Remove DC, bring the integrated loudness to ``target_lufs``, hold true peaks at -1 dBTP
    (the limiter has the last word: the loudness may end a few tenths under the target)."""
    clean = remove_dc(audio, rate)
    loud = clean * 10 ** ((target_lufs - pyloudnorm.Meter(rate).integrated_loudness(clean)) / 20)
    ceiling = 10 ** ((CEILING_DBTP - 0.2) / 20)  # a little margin for what resampling adds back
    peaks = _sample_peaks(loud)
    if peaks.max() > ceiling:  # the limiter takes the loudness a little under the target, within range
        loud = _limit(loud, peaks, rate, ceiling)
    loud = loud - loud.mean(axis=0)  # what limiting left of an offset, over the whole piece
    return loud.astype(np.float32)


def measure(audio: np.ndarray, rate: int) -> Mastered:
    """The mastering figures of finished audio."""
    times, short_term = short_term_loudness(audio, rate)
    finite = short_term[np.isfinite(short_term)]
    seconds = len(audio) // rate
    windows = audio[: seconds * rate].reshape(seconds, rate, -1).mean(axis=1)
    starts, ten_seconds = short_term_loudness(audio, rate, hop=2.0, window=10.0)
    return Mastered(
        integrated_lufs=float(pyloudnorm.Meter(rate).integrated_loudness(audio)),
        true_peak_dbtp=true_peak_dbtp(audio),
        loudness_range_lu=float(np.percentile(finite, 95) - np.percentile(finite, 10)) if len(finite) else 0.0,
        loudest_10s_start=float(starts[np.argmax(ten_seconds)]),
        max_window_dc=float(np.abs(windows).max()) if seconds else 0.0,
    )
