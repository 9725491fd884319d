"""The challenge track leaves the notebook: its mastered audio, its picture, and the files for
the upload (MIDI, WAV, MP3, PNG and a JSON with title, description and tags), written together
or not at all, never over earlier ones."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .compose import TAG, Composition
from .files import numbered_stems, rename_all_new
from .melody_source import MelodyError
from .midi import STEPS_PER_BEAT

__all__ = ["preload_writers", "render_audio", "plot_composition", "upload_metadata", "output_names", "candidate_names", "write_composition", "SUFFIXES"]


def _import_writers() -> None:
    try:
        import matplotlib.pyplot  # noqa: F401

        from . import mastering  # noqa: F401  (pyloudnorm and scipy.signal: most of the wait)
    except ImportError:  # the main thread's own import meets it again, where it is reported
        pass


def preload_writers() -> threading.Thread:
    """Start importing what writing a track needs (mastering's pyloudnorm and scipy.signal, and
    matplotlib: about 1 s) in a background thread. Call it before the models make the music:
    their forward passes run in LiteRT without holding the GIL, so the imports run beside them.
    An import the main thread asks for meanwhile waits for this one to finish it."""
    thread = threading.Thread(target=_import_writers, name="import writers", daemon=True)
    thread.start()
    return thread


def render_audio(composition: Composition) -> np.ndarray:
    """Stereo audio lasting the requested seconds: synthesized, reverberated, faded, and
    mastered (``mastering.master``: no DC, -14 LUFS, true peak at most -1 dBTP)."""
    import pretty_midi

    from .audio import SAMPLE_RATE, add_reverb, synthesize  # heavy (pretty_midi), wanted only once the music is made
    from .mastering import master  # heavy (pyloudnorm, scipy.signal): preload_writers imports it beside the models

    pm = pretty_midi.PrettyMIDI(mido_object=composition.midi())
    audio = add_reverb(synthesize(pm), seed=composition.seed)
    n = int(round(composition.parameters.seconds * SAMPLE_RATE))
    audio = np.pad(audio, ((0, max(0, n - len(audio))), (0, 0)))[:n]
    fade = int(1.0 * SAMPLE_RATE)
    audio[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    return master(audio, SAMPLE_RATE)


def plot_composition(composition: Composition, audio: np.ndarray | None = None):
    """The whole piece as a piano roll, one colour per part, with the sections named; with
    ``audio``, its short-term loudness (LUFS, 3-s windows) below, in seconds, the sections marked."""
    import matplotlib.pyplot as plt

    from .plots import plot_pianoroll  # heavy (matplotlib)

    roll = composition.roll()
    rows = 1 if audio is None else 2
    fig, axes = plt.subplots(rows, 1, figsize=(16, 6 + 2.5 * (rows - 1)), squeeze=False,
                             gridspec_kw={"height_ratios": [6, 2.5][:rows]})
    ax = axes[0, 0]
    plot_pianoroll(roll, ax=ax, title=composition.title, background=2)
    top = ax.get_ylim()[1]
    for section in composition.sections:
        start = section.start_bar * composition.steps_per_bar
        ax.axvline(start, color="black", linewidth=1.2)
        ax.text(start + 2, top - 2, section.label, fontsize=10, va="top", weight="bold")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize=9, ncol=6, frameon=False,
              handles=ax.get_legend().legend_handles)
    if audio is not None:
        from .audio import SAMPLE_RATE  # heavy (pretty_midi), wanted only once the music is made
        from .mastering import SHORT_TERM_SECONDS, short_term_loudness  # heavy (pyloudnorm, scipy.signal): preload_writers imports it beside the models

        times, lufs = short_term_loudness(audio, SAMPLE_RATE)
        curve = axes[1, 0]
        curve.plot(times + SHORT_TERM_SECONDS / 2, np.maximum(lufs, -45), color="#333333")  # at each window's centre
        beat_times = np.concatenate([[0.0], np.cumsum(60.0 / composition.beat_tempi)])
        for section in composition.sections:
            second = beat_times[min(len(beat_times) - 1, section.start_bar * composition.steps_per_bar // STEPS_PER_BEAT)]
            curve.axvline(second, color="black", linewidth=1.0)
            curve.text(second + 0.3, -44, section.label, fontsize=8, va="bottom")
        curve.set(xlim=(0, len(audio) / SAMPLE_RATE), ylim=(-45, -5), xlabel="seconds",
                  ylabel="loudness (LUFS, 3 s)")
        curve.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def upload_metadata(composition: Composition, melody_source: str, models: dict[str, str]) -> dict:
    """What the upload needs (title, description, tags) and what made the piece."""
    from .audio import synthesizer_name  # heavy (pretty_midi), wanted only once the music is made

    return {
        "title": composition.title,
        "description": composition.description,
        "tags": [TAG, "bach", "baroque", "space", "ambient", "generative-ai", "gan", "ar-cnn", "deepcomposer"],
        "melody": melody_source,
        "seed": composition.seed,
        "models": models,
        "parameters": dataclasses.asdict(composition.parameters),
        "figures": {k: round(v, 4) for k, v in composition.figures().items()},
        "synthesizer": synthesizer_name(),
    }


SUFFIXES = (".mid", ".wav", ".mp3", ".png", ".json")


def candidate_names(outdir: Path, stem: str) -> Iterator[dict[str, Path]]:
    """The five paths (by kind: mid, wav, ...) for ``stem``, then for ``stem-2``, ``stem-3``, ..."""
    for name in numbered_stems(stem):
        yield {s[1:]: outdir / f"{name}{s}" for s in SUFFIXES}


def output_names(outdir: Path, stem: str, force: bool) -> dict[str, Path]:
    """Paths for the five files; with existing files and no ``force``, a new stem (-2, -3, ...).

    A look only: another writer may take these names before they are written.
    ``write_composition`` takes its names atomically, as it writes.
    """
    return next(paths for paths in candidate_names(outdir, stem)
                if force or not any(path.exists() for path in paths.values()))


def write_composition(composition: Composition, outdir: str | Path, stem: str, force: bool = False,
                      metadata: dict | None = None) -> dict[str, Path]:
    """Write MIDI, WAV, MP3, PNG and JSON; all appear together or none do.

    Without ``force``, earlier files are never replaced: the five names are taken atomically
    (``files.rename_all_new``), so of two writers finishing at once each gets its own stem
    (``stem``, ``stem-2``, ...). Returns the paths written.
    """
    import matplotlib.pyplot as plt

    from .audio import SAMPLE_RATE, write_audio  # heavy (pretty_midi), wanted only once the music is made
    from .mastering import measure  # heavy (pyloudnorm, scipy.signal): preload_writers imports it beside the models

    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise MelodyError(f"{outdir}: not a folder")
    outdir.mkdir(parents=True, exist_ok=True)
    audio = render_audio(composition)
    staging = Path(tempfile.mkdtemp(prefix=".compose-", dir=outdir))
    try:
        staged = {s[1:]: staging / f"piece{s}" for s in SUFFIXES}
        with ThreadPoolExecutor(max_workers=1) as pool:  # the MP3 encoder runs beside the rest
            mp3 = pool.submit(write_audio, audio, staged["mp3"])
            staged["mid"].write_bytes(composition.midi_bytes())
            write_audio(audio, staged["wav"])
            fig = plot_composition(composition, audio)
            fig.savefig(staged["png"], dpi=100, metadata={"Software": None})
            plt.close(fig)
            info = dict(metadata or {})
            info["audio_seconds"] = round(len(audio) / SAMPLE_RATE, 3)
            info["mastering"] = measure(audio, SAMPLE_RATE).as_dict()
            mp3.result()
        for paths in candidate_names(outdir, stem):
            info["files"] = {kind: path.name for kind, path in paths.items()}
            staged["json"].write_text(json.dumps(info, indent=1) + "\n")
            moves = {staged[kind]: path for kind, path in paths.items()}
            if force:
                for source, target in moves.items():
                    os.replace(source, target)
                return paths
            if rename_all_new(moves):
                return paths
    finally:
        shutil.rmtree(staging, ignore_errors=True)
