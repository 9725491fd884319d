"""Audio: real instruments through the soundfont, a fallback that is not a bare sine."""

from __future__ import annotations

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
    roll = dataset.chorales[0].roll()
    _check(audio.synthesize(roll), roll.seconds)
    assert audio.synthesizer_name().startswith("TinySoundFont")


def test_fallback_sounds_like_an_instrument(monkeypatch, capsys):
    monkeypatch.setattr(audio, "find_soundfont", lambda: None)
    monkeypatch.setattr(audio, "_warned_fallback", False)
    roll = melody_roll("A4-- A4--", tempo=60.0)  # 440 Hz for 6 s
    roll.programs = [6]  # harpsichord
    sound = audio.synthesize(roll)
    _check(sound, roll.seconds)
    spectrum = np.abs(np.fft.rfft(sound[: audio.SAMPLE_RATE, 0]))
    freqs = np.fft.rfftfreq(audio.SAMPLE_RATE, 1 / audio.SAMPLE_RATE)
    fundamental = spectrum[np.abs(freqs - 440) < 3].max()
    overtone = spectrum[np.abs(freqs - 880) < 3].max()
    assert overtone > 0.2 * fundamental  # harmonics, not a bare sine
    audio.synthesize(roll)
    assert capsys.readouterr().err.count("built-in synthesizer") == 1  # said once


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


def test_play_gives_a_notebook_player():
    player = audio.play(melody_roll("C4 E4 G4"))
    assert player._repr_html_().startswith("<audio") or "audio" in player._repr_html_()


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
