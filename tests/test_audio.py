"""Audio: real instruments through the soundfont, a fallback that is not a bare sine."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import soundfile

from lab_utils import audio
from lab_utils.samples import melody_roll


def _check(sound: np.ndarray, seconds: float) -> None:
    assert sound.ndim == 2 and sound.shape[1] == 2
    assert abs(len(sound) / audio.SAMPLE_RATE - (seconds + audio.TAIL_SECONDS)) < 0.05
    assert np.abs(sound).max() <= 0.9
    rms = np.sqrt(np.mean(sound[: int(seconds * audio.SAMPLE_RATE)] ** 2))
    assert rms > 0.02


@pytest.mark.skipif(audio.find_soundfont() is None, reason="no General MIDI soundfont installed")
def test_soundfont_rendering(dataset):
    roll = dataset.pieces[0].roll()
    _check(audio.synthesize(roll), roll.seconds)
    assert audio.synthesizer_name().startswith("TinySoundFont")


def test_fallback_sounds_like_an_instrument(monkeypatch):
    monkeypatch.setattr(audio, "find_soundfont", lambda: None)
    roll = melody_roll("A4-- A4--", tempo=60.0)  # 440 Hz for 6 s
    roll.programs = [6]  # harpsichord
    sound = audio.synthesize(roll)
    _check(sound, roll.seconds)
    spectrum = np.abs(np.fft.rfft(sound[: audio.SAMPLE_RATE, 0]))
    freqs = np.fft.rfftfreq(audio.SAMPLE_RATE, 1 / audio.SAMPLE_RATE)
    fundamental = spectrum[np.abs(freqs - 440) < 3].max()
    overtone = spectrum[np.abs(freqs - 880) < 3].max()
    assert overtone > 0.2 * fundamental  # harmonics, not a bare sine


def _python(code: str) -> subprocess.CompletedProcess:
    """``code`` run in a fresh Python (this package's state as a new process starts it)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)


def test_fallback_is_said_once_a_process():
    said = _python("from lab_utils import audio\n"
                   "from lab_utils.samples import melody_roll\n"
                   "audio.find_soundfont = lambda: None\n"
                   "for _ in range(3):\n"
                   "    audio.synthesize(melody_roll('C4 E4 G4'))\n").stderr
    assert said.count("built-in synthesizer") == 1, said


@pytest.mark.parametrize("suffix", [".wav", ".mp3"])
def test_write_audio(tmp_path, suffix):
    roll = melody_roll("twinkle")
    sound = audio.synthesize(roll)
    path = audio.write_audio(sound, tmp_path / f"t{suffix}")
    data, rate = soundfile.read(path)
    assert rate == audio.SAMPLE_RATE
    assert abs(len(data) - len(sound)) / rate < 0.1
    assert np.sqrt(np.mean(data ** 2)) > 0.02
    assert [p.name for p in tmp_path.iterdir()] == [f"t{suffix}"]  # no temporary left


def test_play_embeds_the_sound_as_mp3_a_browser_plays(tmp_path):
    """The player's HTML carries an MP3 (audio/mpeg) that decodes to the whole sound, at a
    fraction of WAV's size; an MP3 file is embedded as it is."""
    import base64
    import io
    import re

    sound = audio.synthesize(melody_roll("C4 E4 G4 C5-"))
    html = audio.play(sound)._repr_html_()
    found = re.search(r'<source src="data:audio/mpeg;base64,([^"]+)" type="audio/mpeg"', html)
    assert found and "<audio" in html
    data = base64.b64decode(found.group(1))
    decoded, rate = soundfile.read(io.BytesIO(data), dtype="float32")
    assert rate == audio.SAMPLE_RATE and abs(len(decoded) - len(sound)) / rate < 0.1
    assert np.sqrt(np.mean(decoded ** 2)) > 0.02
    assert len(data) * 8 / (len(sound) / rate) < 100_000  # bit/s: this sound takes 90 k (libsndfile default: 109 k)
    written = audio.write_audio(sound, tmp_path / "t.mp3")
    assert base64.b64encode(written.read_bytes()).decode() in audio.play(written)._repr_html_()


@pytest.mark.parametrize("renderer", ["soundfont", "fallback"])
def test_channel_volume_sets_a_part_in_the_mix(renderer, monkeypatch):
    if renderer == "soundfont" and audio.find_soundfont() is None:
        pytest.skip("no General MIDI soundfont installed")
    if renderer == "fallback":
        monkeypatch.setattr(audio, "find_soundfont", lambda: None)
    import pretty_midi

    ratios = []
    for volume in (127, 64):
        pm = audio.to_pretty_midi(melody_roll("A4---", tempo=60.0))  # 440 Hz for 4 s
        pm.instruments[0].control_changes.append(pretty_midi.ControlChange(7, volume, 0.0))
        bass = pretty_midi.Instrument(program=0, name="bass at full volume")
        bass.notes.append(pretty_midi.Note(80, 45, 0.0, 4.0))  # 110 Hz
        pm.instruments.append(bass)
        sound = audio.synthesize(pm)[: audio.SAMPLE_RATE, 0]
        spectrum = np.abs(np.fft.rfft(sound))
        freqs = np.fft.rfftfreq(len(sound), 1 / audio.SAMPLE_RATE)
        ratios.append(spectrum[np.abs(freqs - 440) < 3].max() / spectrum[np.abs(freqs - 110) < 3].max())
    assert ratios[1] < 0.7 * ratios[0]  # the A4 part is quieter beside the bass at volume 64


# --- speed-ups that must not change the sound or the figures -------------------------------

@pytest.fixture(scope="module")
def chorale_audio(dataset) -> tuple[np.ndarray, np.ndarray]:
    """A chorale as the challenge track is made: synthesized, with reverb, before and after mastering."""
    from lab_utils.mastering import master

    wet = audio.add_reverb(audio.synthesize(dataset.pieces[0].roll()))
    return wet, master(wet, audio.SAMPLE_RATE)


def _oversampled_peaks(sound: np.ndarray) -> np.ndarray:
    """The reference: the whole audio oversampled 4x, the largest |value| around each sample."""
    from scipy import signal

    oversampled = signal.resample_poly(sound.astype(np.float32), 4, 1, axis=0)
    return np.abs(oversampled[: len(sound) * 4]).reshape(len(sound), -1).max(axis=1)


def test_peaks_are_exact_where_they_matter(chorale_audio):
    from lab_utils import mastering

    wet, mastered = (sound[: 10 * audio.SAMPLE_RATE] for sound in chorale_audio)  # 10 s hold every kind of peak
    for sound in (wet, mastered, 3 * wet):  # unmastered, mastered, and clipping far over full scale
        reference = _oversampled_peaks(sound)
        for floor in (0.5, float(np.abs(sound).max()), 10 ** (-1.2 / 20)):
            peaks = mastering.sample_peaks(sound, floor)
            above = reference > floor
            np.testing.assert_array_equal(peaks[above], reference[above])  # the same values, not close ones
            assert (peaks[~above] <= floor).all() and (peaks >= reference).all()
        assert mastering.true_peak_dbtp(sound) == pytest.approx(20 * np.log10(reference.max()), abs=1e-6)


def test_interpolator_is_resample_polys_own_and_its_bound_holds():
    from scipy import signal

    from lab_utils import mastering

    noise = np.random.default_rng(0).standard_normal((5000, 2)).astype(np.float32)
    default = signal.resample_poly(noise, 4, 1, axis=0)
    np.testing.assert_array_equal(default, signal.resample_poly(noise, 4, 1, axis=0, window=mastering.INTERPOLATOR))
    reached = max(np.abs(signal.resample_poly(np.sign(mastering.INTERPOLATOR[::-1][k::4]), 4, 1)).max()
                  for k in range(4))  # samples whose signs line up with one polyphase branch: the worst case
    assert 0.999 * mastering.OVERSHOOT <= reached <= mastering.OVERSHOOT < 2.3  # the bound holds and is tight


def test_short_term_loudness_matches_pyloudnorm_window_by_window(chorale_audio):
    import pyloudnorm

    from lab_utils.mastering import SHORT_TERM_SECONDS, short_term_loudness

    rate = audio.SAMPLE_RATE
    wet, mastered = chorale_audio
    sound = np.concatenate([mastered[: 20 * rate], np.zeros((12 * rate, 2), np.float32), 0.01 * mastered[: 20 * rate]])
    meter = pyloudnorm.Meter(rate, block_size=SHORT_TERM_SECONDS)
    for hop, window in ((1.0, SHORT_TERM_SECONDS), (2.0, 10.0)):  # measure's two uses
        starts, values = short_term_loudness(sound, rate, hop=hop, window=window)
        with np.errstate(divide="ignore"):
            reference = np.array([meter.integrated_loudness(sound[int(s * rate): int(s * rate) + int(window * rate)])
                                  for s in starts])
        silent = ~np.isfinite(reference)
        assert silent.any() and not silent.all()  # gated to silence and not, both checked
        np.testing.assert_array_equal(np.isfinite(values), ~silent)
        np.testing.assert_allclose(values[~silent], reference[~silent], rtol=0, atol=1e-4)  # LU


def test_measure_matches_pyloudnorm_and_mastering_targets_hold(chorale_audio):
    import pyloudnorm

    from lab_utils.mastering import measure

    rate = audio.SAMPLE_RATE
    wet, mastered = chorale_audio
    figures = measure(mastered, rate)
    assert figures.integrated_lufs == pytest.approx(pyloudnorm.Meter(rate).integrated_loudness(mastered), abs=1e-4)
    assert -15.0 <= figures.integrated_lufs <= -13.0
    assert figures.true_peak_dbtp <= -1.0 and figures.max_window_dc < 0.001
    assert figures.true_peak_dbtp == pytest.approx(20 * np.log10(_oversampled_peaks(mastered).max()), abs=1e-6)


def test_reverb_equals_the_direct_convolution():
    rate = audio.SAMPLE_RATE
    dry = audio.synthesize(melody_roll("C4 E4 G4 C5"))
    wet = audio.add_reverb(dry, seed=1)
    n = int(3.0 * rate)  # the reference: the same impulse, convolved in double precision
    rng = np.random.default_rng(1)
    impulse = rng.standard_normal((n, 2)).astype(np.float32) * np.exp(-6.9 * np.arange(n) / (2.4 * rate)).astype(np.float32)[:, None]
    impulse[: int(0.02 * rate)] = 0.0
    impulse /= np.sqrt((impulse ** 2).sum(axis=0, keepdims=True))
    padded = np.pad(dry, ((0, n), (0, 0))).astype(np.float64)
    size = len(padded) + n
    spectrum = np.fft.rfft(padded, size, axis=0) * np.fft.rfft(impulse.astype(np.float64), size, axis=0)
    tail = np.fft.irfft(spectrum, size, axis=0)[: len(padded)]
    mixed = 0.72 * padded + 0.28 * tail
    reference = mixed * np.abs(dry).max() / np.abs(mixed).max()
    assert wet.shape == reference.shape and wet.dtype == np.float32
    assert np.abs(wet - reference).max() <= 1e-4 * np.abs(reference).max()


@pytest.mark.skipif(audio.find_soundfont() is None, reason="no General MIDI soundfont installed")
def test_one_soundfont_load_serves_every_render_unchanged():
    import tinysoundfont

    first, second = melody_roll("twinkle"), melody_roll("C4 E4 G4 C5", tempo=60.0)
    audio.preload_soundfont()
    renders = [audio.synthesize(first), audio.synthesize(second), audio.synthesize(first)]
    np.testing.assert_array_equal(renders[0], renders[2])  # nothing rings on from the render before
    pm = audio.to_pretty_midi(first)  # the reference: a fresh tinysoundfont.Synth, as the package documents it
    synth = tinysoundfont.Synth(samplerate=audio.SAMPLE_RATE)
    sfid = synth.sfload(str(audio.find_soundfont()))
    events, channels = audio.synth_events(pm)
    for channel, program, is_drum in channels:
        synth.program_select(channel, sfid, 128 if is_drum else 0, 0 if is_drum else program)
    chunks, now = [], 0
    for sample, kind, channel, number, value in events:
        if sample > now:
            chunks.append(np.frombuffer(synth.generate(sample - now), np.float32))
            now = sample
        if kind == audio.NOTE_ON:
            synth.noteon(channel, number, value)
        elif kind == audio.NOTE_OFF:
            synth.noteoff(channel, number)
        else:
            synth.control_change(channel, number, value)
    chunks.append(np.frombuffer(synth.generate(len(renders[0]) - now), np.float32))
    raw = np.concatenate(chunks).reshape(-1, 2)
    np.testing.assert_array_equal(renders[0], (raw * (audio.PEAK / np.abs(raw).max())).astype(np.float32))


def test_preload_without_a_soundfont_does_nothing():
    out = _python("import sys, threading\n"
                  "from lab_utils import audio\n"
                  "from lab_utils.samples import melody_roll\n"
                  "audio.find_soundfont = lambda: None\n"
                  "audio.preload_soundfont()\n"
                  "print(sorted(t.name for t in threading.enumerate()))\n"
                  "print('tinysoundfont' in sys.modules)\n"
                  "print(len(audio.synthesize(melody_roll('C4 E4 G4'))))\n").stdout.split("\n")
    assert out[0] == "['MainThread']"  # no loading thread begun
    assert out[1] == "False"  # nor the synthesizer imported
    assert int(out[2]) > 0  # the built-in synthesizer plays, as before
