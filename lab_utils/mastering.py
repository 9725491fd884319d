"""Mastering the challenge track like a record: no DC offset, a loudness target, a true-peak ceiling.

Loudness is ITU-R BS.1770 as ``pyloudnorm`` measures it (integrated, and short-term over 3-s
windows); the true peak is the sample peak of the audio oversampled 4x (``scipy.signal``).
Some soundfont instruments (GM 89, the warm pad, in TinySoundFont) carry a DC offset that
wastes headroom and thumps at the start and end: a 20 Hz high-pass removes it.

Measuring is fast because nothing is done twice: the audio is K-weighted once (pyloudnorm's own
filters) and every window's loudness comes from running sums of that energy; only the samples
that could reach a peak of interest are oversampled (see ``sample_peaks``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pyloudnorm
from scipy import ndimage, signal

__all__ = ["sample_peaks", "DC_CUTOFF_HZ", "TARGET_LUFS", "CEILING_DBTP", "SHORT_TERM_SECONDS", "Mastered", "remove_dc", "true_peak_dbtp",
           "short_term_loudness", "master", "measure", "OVERSAMPLING", "INTERPOLATOR", "OVERSHOOT"]

DC_CUTOFF_HZ = 20.0  # the high-pass: below what a listener hears, above the pad's drift
TARGET_LUFS = -14.0  # integrated loudness of streaming services; the issue allows -16 to -13
CEILING_DBTP = -1.0  # true peak at most this (4x oversampled)
OVERSAMPLING = 4
SHORT_TERM_SECONDS = 3.0  # BS.1770's short-term window
LIMITER_RELEASE_SECONDS = 0.15  # how fast the limiter lets go after a peak

# BS.1770's gating, as pyloudnorm's Meter applies it
GATING_BLOCK_SECONDS = 0.4  # the blocks of integrated loudness
BLOCK_OVERLAP = 0.75
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = 10.0
CHANNEL_GAINS = (1.0, 1.0, 1.0, 1.41, 1.41)  # left, right, centre, surrounds

# resample_poly's own 4x interpolation filter (its default design), spelled out so that the bound
# below belongs to the filter that runs. Each oversampled value is one polyphase branch of it
# applied to the samples within REACH, so it is at most OVERSHOOT (2.24, +7 dB) times the
# largest of them: the most an inter-sample peak can exceed the sample peak (a hair of margin
# covers float32 rounding).
INTERPOLATOR = signal.firwin(20 * OVERSAMPLING + 1, 1 / OVERSAMPLING, window=("kaiser", 5.0)).astype(np.float32)
REACH = len(INTERPOLATOR) // (2 * OVERSAMPLING) + 1
OVERSHOOT = 1.0001 * OVERSAMPLING * max(float(np.abs(INTERPOLATOR[p::OVERSAMPLING]).sum()) for p in range(OVERSAMPLING))


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


def sample_peaks(audio: np.ndarray, floor: float) -> np.ndarray:
    """The largest |value| of the 4x oversampled audio around each sample, over all channels:
    exact wherever it can exceed ``floor``, elsewhere ``floor`` itself (which it does not exceed).

    Only samples within reach of one loud enough to lift a neighbour over ``floor`` are
    oversampled, together with the samples their values depend on (resample_poly on those
    gathered stretches gives the very values it gives on the whole audio): a few percent of a track.
    """
    audio = audio.astype(np.float32).reshape(len(audio), -1)
    hot = np.abs(audio).max(axis=1) * OVERSHOOT > floor
    loud = ndimage.maximum_filter1d(hot, 2 * REACH + 1)
    needed = np.flatnonzero(ndimage.maximum_filter1d(hot, 4 * REACH + 1))
    peaks = np.full(len(audio), floor, np.float32)
    if len(needed):
        oversampled = signal.resample_poly(audio[needed], OVERSAMPLING, 1, axis=0, window=INTERPOLATOR)
        exact = np.abs(oversampled).reshape(len(needed), -1).max(axis=1)
        peaks[loud] = exact[np.searchsorted(needed, np.flatnonzero(loud))]
    return peaks


def true_peak_dbtp(audio: np.ndarray) -> float:
    """The peak of the audio oversampled 4x, in dB relative to full scale."""
    # The interpolator passes each sample itself through at 1.0006x, so the true peak is at least
    # the sample peak: samples whose bound stays under the sample peak cannot hold it.
    peaks = sample_peaks(audio, floor=float(np.abs(audio).max()))
    return float(20 * np.log10(peaks.max() + 1e-12))


class _Loudness:
    """BS.1770 loudness of any stretches of one audio, as pyloudnorm's ``integrated_loudness``
    measures a stretch on its own, with the audio K-weighted once.

    The K-weighting is pyloudnorm's (its Meter's two biquads, run as second-order sections).
    Measured alone, a stretch is filtered from silence; the whole audio is filtered once, so the
    first ``SETTLE_SECONDS`` of each stretch are filtered again from silence, after which the
    filter has forgotten what came before. Energies then come from running sums.
    """

    SETTLE_SECONDS = 0.1  # the 38 Hz high-pass forgets its state to 1e-9 in this time

    def __init__(self, audio: np.ndarray, rate: int):
        stages = pyloudnorm.Meter(rate)._filters.values()
        self.sos = np.vstack([signal.tf2sos(stage.passband_gain * stage.b, stage.a) for stage in stages])
        self.audio, self.rate = audio.reshape(len(audio), -1), rate
        self.sums = self._running_sums(signal.sosfilt(self.sos, self.audio, axis=0), axis=0)

    @staticmethod
    def _running_sums(weighted: np.ndarray, axis: int) -> np.ndarray:
        """Running sums of the energy along ``axis`` (channels last, BS.1770's channel gains), from 0:
        samples a to b carry ``sums[b] - sums[a]``."""
        gains = np.asarray(CHANNEL_GAINS[: weighted.shape[-1]])
        energy = np.einsum("...c,...c,c->...", weighted, weighted, gains)
        return np.cumsum(np.insert(energy, 0, 0.0, axis=axis), axis=axis)

    def gated(self, starts: np.ndarray, size: int, block: float) -> np.ndarray:
        """LUFS of the ``size`` samples from each of ``starts``: mean squares of ``block``-s blocks at
        75 % overlap, an absolute gate at -70 LUFS, a relative gate 10 LU under the mean of what
        passed; -inf where no block passes."""
        rate = self.rate
        if size < block * rate:
            raise ValueError(f"audio must be at least {block:g} s long to measure its loudness")
        step = 1.0 - BLOCK_OVERLAP
        j = np.arange(int(np.round((size / rate - block) / (block * step))) + 1)
        lower = (block * (j * step) * rate).astype(np.int64)  # pyloudnorm's block bounds, to the sample
        upper = np.minimum((block * (j * step + 1) * rate).astype(np.int64), size)
        settle = min(int(self.SETTLE_SECONDS * rate), size)
        heads = signal.sosfilt(self.sos, self.audio[starts[:, None] + np.arange(settle)], axis=1)
        head_sums = self._running_sums(heads, axis=1)
        rows, first = np.arange(len(starts))[:, None], starts[:, None]
        z = (head_sums[rows, np.minimum(upper, settle)] - head_sums[rows, np.minimum(lower, settle)]
             + self.sums[first + np.maximum(upper, settle)] - self.sums[first + np.maximum(lower, settle)]) / (block * rate)
        with np.errstate(divide="ignore", invalid="ignore"):
            blocks = -0.691 + 10 * np.log10(z)
            audible = blocks >= ABSOLUTE_GATE_LUFS
            relative = -0.691 + 10 * np.log10((z * audible).sum(axis=1) / audible.sum(axis=1)) - RELATIVE_GATE_LU
            kept = (blocks > relative[:, None]) & (blocks > ABSOLUTE_GATE_LUFS)
            return -0.691 + 10 * np.log10(np.nan_to_num((z * kept).sum(axis=1) / kept.sum(axis=1)))

    def integrated(self) -> float:
        """The integrated loudness of the whole audio, LUFS."""
        return float(self.gated(np.zeros(1, np.int64), len(self.audio), GATING_BLOCK_SECONDS)[0])

    def windows(self, hop: float, window: float) -> tuple[np.ndarray, np.ndarray]:
        """(window start seconds, LUFS) of every ``window``-s stretch, one per ``hop`` seconds,
        gated over 3-s blocks."""
        size, step = int(window * self.rate), int(hop * self.rate)
        starts = np.arange(0, max(1, len(self.audio) - size + 1), step)
        return starts / self.rate, self.gated(starts, min(size, len(self.audio)), SHORT_TERM_SECONDS)


def short_term_loudness(audio: np.ndarray, rate: int, hop: float = 1.0,
                        window: float = SHORT_TERM_SECONDS) -> tuple[np.ndarray, np.ndarray]:
    """(window start seconds, LUFS) of every ``window``-s stretch (3 s: BS.1770's short-term
    loudness), one per ``hop`` seconds; a longer window is gated over 3-s blocks."""
    return _Loudness(audio, rate).windows(hop, window)


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
    loud = clean * 10 ** ((target_lufs - _Loudness(clean, rate).integrated()) / 20)
    ceiling = 10 ** ((CEILING_DBTP - 0.2) / 20)  # a little margin for what resampling adds back
    peaks = sample_peaks(loud, floor=ceiling)  # exact wherever the limiter has work
    if peaks.max() > ceiling:  # the limiter takes the loudness a little under the target, within range
        loud = _limit(loud, peaks, rate, ceiling)
    loud = loud - loud.mean(axis=0)  # what limiting left of an offset, over the whole piece
    return loud.astype(np.float32)


def measure(audio: np.ndarray, rate: int) -> Mastered:
    """The mastering figures of finished audio."""
    loudness = _Loudness(audio, rate)
    _, short_term = loudness.windows(hop=1.0, window=SHORT_TERM_SECONDS)
    finite = short_term[np.isfinite(short_term)]
    seconds = len(audio) // rate
    windows = audio[: seconds * rate].reshape(seconds, rate, -1).mean(axis=1)
    starts, ten_seconds = loudness.windows(hop=2.0, window=10.0)
    return Mastered(
        integrated_lufs=loudness.integrated(),
        true_peak_dbtp=true_peak_dbtp(audio),
        loudness_range_lu=float(np.percentile(finite, 95) - np.percentile(finite, 10)) if len(finite) else 0.0,
        loudest_10s_start=float(starts[np.argmax(ten_seconds)]),
        max_window_dc=float(np.abs(windows).max()) if seconds else 0.0,
    )
