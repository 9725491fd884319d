"""The music studio: a small ipywidgets app to make music with the GAN, the AR-CNN and the Transformer.

Choose a melody (a sample, typed notes or an uploaded MIDI file), a model and its controls,
press Generate: the studio shows the piano roll, plays the audio and offers the files.
``Studio.generate()`` does what a click does, so notebooks and tests can drive it.
"""

from __future__ import annotations

import base64
import html
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import HTML, display

from .arcnn import load_enhancer
from .audio import SAMPLE_RATE, play, preload_soundfont, synthesize, write_audio
from .export import candidate_names
from .files import in_repository, rename_all_new, shown
from .melody_source import MelodyError, melody_from
from .harmonize import Harmonizer, load_harmonizer
from .metrics import note_changes
from .extend import extend
from .midi import MidiFileError, PianoRoll, extract_melody, read_midi, slice_bars, whole_bars, write_midi
from .note_edits import kept_phrase
from .plots import plot_enhancement, plot_pianoroll
from .samples import MELODIES
from .styles import model_for_style, shipped_styles
from .transformer import Sampling, load_melody_model

__all__ = ["Studio", "StudioResult", "MODELS", "make_music"]

MODELS = ("GAN", "AR-CNN", "extend", "both")  # "extend": the Transformer; "both": the GAN, then the AR-CNN
SAMPLING_METHODS = ("nucleus (top-p)", "top-k", "every word")
SOURCES = ("sample", "typed notes", "MIDI upload")
MAX_SEED = 2**31 - 1  # the seed widget stops here: a seed is part of the file names


@dataclass
class StudioResult:
    """What one press of Generate made: the melody, the music and the files written."""

    melody: PianoRoll
    music: PianoRoll
    summary: str
    files: dict[str, Path]


def make_music(melody: PianoRoll, model: str, harmonizer, enhancer, seed: int = 0,
               progress=None, extender=None, sampling: Sampling = Sampling(), seconds: float = 20.0,
               **controls) -> tuple[PianoRoll, PianoRoll, str]:
    """The GAN's four voices, the AR-CNN's enhancement, the Transformer's extension by ``seconds``
    (drawn as ``sampling`` says), or both GAN and AR-CNN (the voices, then enhanced; in both,
    the melody's notes are never removed or shortened, only the GAN's voices are).

    Returns the last model's input, its output and a one-line summary. ``controls`` are those
    of ``arcnn.enhance``; ``progress`` gets ``update(n)`` calls.
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}")
    if model == "extend":
        result = extend(melody, extender, seconds=seconds, sampling=sampling, seed=seed)
        new_seconds = (result.music.n_steps - result.new_from_step) * melody.seconds_per_step
        return melody, result.music, f"Transformer: {len(result.new_notes)} new notes, {new_seconds:.0f} s more"
    music, summary = melody, ""
    if model in ("GAN", "both"):
        music = harmonizer(melody, seed)
        summary = "GAN: alto, tenor and bass added"
        if progress is not None:
            progress.update(1)
    if model in ("AR-CNN", "both"):
        before = music  # the AR-CNN merges the voices into one track itself
        kept = 0 if model == "both" else None  # the user's melody never loses a note
        music, _ = enhancer(before, seed=seed, progress=progress, kept_track=kept, **controls)
        added, removed, shortened = note_changes(before, music)  # counted as the picture counts them
        summary = (summary + "; " if summary else "") + \
            f"AR-CNN: {len(added)} notes added, {len(removed) + len(shortened)} removed or shortened"
        if model == "both":  # said from this result, not promised
            summary += f"; your melody's notes: {kept_phrase(melody.notes(0), music.notes(0))}"
        return before, music, summary
    return melody, music, summary


class _WidgetProgress:
    """An ``update(n)`` interface over an IntProgress bar."""

    def __init__(self, bar: widgets.IntProgress, total: int) -> None:
        self.bar = bar
        bar.value, bar.max = 0, max(1, total)

    def update(self, n: int = 1) -> None:
        self.bar.value = min(self.bar.max, self.bar.value + n)


def _download_link(path: Path, mime: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<a download="{path.name}" href="data:{mime};base64,{data}">{path.name}</a>'


def _style_choice(harmonizer: Harmonizer) -> str:
    """A harmonizer's entry in the studio's style list: its style where it is that style's shipped
    model (or a variant of it: untrained, raw), else its style and folder (a learner's own run)."""
    if harmonizer.style in shipped_styles() and \
            Path(harmonizer.folder).resolve() == model_for_style(harmonizer.style).resolve():
        return harmonizer.style
    return f"{harmonizer.style} ({in_repository(harmonizer.folder) or Path(harmonizer.folder).resolve()})"


class Studio:
    """The studio's widgets and what Generate does. ``display(studio.widget)`` shows it."""

    def __init__(self, harmonizer: Harmonizer | None = None, enhancer=None, outdir: str | Path = "out/studio",
                 extender=None) -> None:
        styles = shipped_styles()
        given = _style_choice(harmonizer) if harmonizer is not None else "bach"  # what the list shows first
        self._harmonizers = {given: harmonizer} if harmonizer is not None else {}
        self._enhancer, self._extender = enhancer, extender
        self.outdir = Path(outdir)
        preload_soundfont()  # ready by the first click
        style = {"description_width": "110px"}
        self.source = widgets.ToggleButtons(options=SOURCES, value="sample", description="melody from", style=style)
        self.sample = widgets.Dropdown(options=[(m.title, key) for key, m in MELODIES.items()], value="twinkle",
                                       description="sample", style=style)
        self.typed = widgets.Text(value="C4 C4 G4 G4 A4 A4 G4- F4 F4 E4 E4 D4 D4 C4-", description="notes",
                                  style=style, layout=widgets.Layout(width="600px"))
        self.upload = widgets.FileUpload(accept=".mid,.midi", multiple=False, description="MIDI file")
        self.bars = widgets.IntSlider(value=8, min=1, max=16, description="bars", style=style)
        self.model = widgets.ToggleButtons(options=MODELS, value="GAN", description="model", style=style)
        self.style = widgets.Dropdown(options=styles + [given] * (given not in styles), value=given,
                                      description="GAN's style", style=style)
        self.seed = widgets.BoundedIntText(value=0, min=0, max=MAX_SEED, description="seed", style=style)
        self.iterations = widgets.IntSlider(value=100, min=0, max=400, step=10, description="iterations", style=style)
        self.max_added = widgets.IntSlider(value=60, min=0, max=500, step=10, description="max notes added", style=style)
        self.max_removed = widgets.FloatSlider(value=0, min=0, max=100, step=5, description="max removed %", style=style)
        self.max_added.tooltip = "new notes at most, each at least an 8th long"
        self.max_removed.tooltip = "percent of the input's notes that may be removed or shortened"
        self.temperature = widgets.FloatSlider(value=1.0, min=0.1, max=3.0, step=0.1, description="creative risk",
                                               style=style)
        self.sampling = widgets.ToggleButtons(options=SAMPLING_METHODS, value=SAMPLING_METHODS[0],
                                              description="sampling", style=style)
        self.top_p = widgets.FloatSlider(value=0.9, min=0.1, max=1.0, step=0.05, description="top-p", style=style)
        self.top_k = widgets.IntSlider(value=8, min=1, max=40, description="top-k", style=style)
        self.extension = widgets.IntSlider(value=20, min=5, max=30, description="extension (s)", style=style)
        self.generate_button = widgets.Button(description="Generate", button_style="success", icon="music")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="progress", style=style)
        self.status = widgets.HTML()
        self.output = widgets.Output()
        self.result: StudioResult | None = None
        self.generate_button.on_click(self._on_click)
        arcnn_controls = widgets.VBox([self.iterations, self.max_added, self.max_removed])
        extend_controls = widgets.VBox([self.sampling, self.top_p, self.top_k, self.extension])
        self.widget = widgets.VBox([
            self.source, self.sample, self.typed, self.upload, self.bars,
            self.model, self.style, self.seed, self.temperature,
            widgets.HTML("<b>AR-CNN controls</b> (counted in notes: an added note lasts at least an 8th)"), arcnn_controls,
            widgets.HTML("<b>Transformer controls</b> (extend: how each next note is drawn, and how much longer)"),
            extend_controls, widgets.HBox([self.generate_button, self.progress]), self.status, self.output])

    def melody(self) -> tuple[PianoRoll, str]:
        """The chosen melody, cut to the first ``bars`` bars, and a name for its files."""
        if self.source.value == "sample":
            roll, _, name = melody_from(self.sample.value)
        elif self.source.value == "typed notes":
            roll, _, name = melody_from(self.typed.value)
        else:
            if not self.upload.value:
                raise MelodyError("upload a MIDI file first (or choose another source)")
            roll, name = self._uploaded_melody(self.upload.value[0])
        whole = whole_bars(roll)
        bars = min(self.bars.value, whole.n_steps // whole.steps_per_bar)
        return slice_bars(whole, 0, bars), name

    def _uploaded_melody(self, upload: dict) -> tuple[PianoRoll, str]:
        """The melody of an uploaded MIDI file, kept under a safe name in ``outdir/uploads``
        (a browser may send any name); a file that is no usable MIDI is a ``MelodyError``."""
        name = re.sub(r"[^\w\- ]", "_", Path(str(upload["name"])).stem)[:60].strip() or "upload"
        folder = self.outdir / "uploads"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=f"{name}-", suffix=".mid", delete=False) as file:
                file.write(bytes(upload["content"]))
            return extract_melody(read_midi(file.name)), name
        except (MidiFileError, OSError) as exc:
            raise MelodyError(f"{shown(upload['name'])}: {exc}") from None

    def chosen_sampling(self) -> Sampling:
        """The Transformer's sampling controls as one ``Sampling``."""
        method = self.sampling.value
        return Sampling(self.temperature.value, top_k=self.top_k.value if method == "top-k" else None,
                        top_p=self.top_p.value if method == "nucleus (top-p)" else None)

    def _models(self):
        """The chosen style's harmonizer (loaded on first use, then kept), the enhancer and the extender."""
        harmonizer = self._harmonizers.get(self.style.value)
        if self.model.value in ("GAN", "both") and harmonizer is None:
            harmonizer = self._harmonizers[self.style.value] = load_harmonizer(model_for_style(self.style.value))
        if self.model.value in ("AR-CNN", "both") and self._enhancer is None:
            self._enhancer = load_enhancer()
        if self.model.value == "extend" and self._extender is None:
            self._extender = load_melody_model()
        return harmonizer, self._enhancer

    def generate(self, inline: bool = False) -> StudioResult | None:
        """Make music from the controls' values, write its files, show and play it (in the
        studio's output area, or with ``inline`` in the calling cell).

        A bad melody shows a one-line message instead and returns None.
        """
        self.generate_button.disabled = True
        try:
            try:
                melody, name = self.melody()
            except MelodyError as exc:
                self.status.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
                return None
            model = self.model.value
            bars = melody.n_steps // melody.steps_per_bar
            arcnn_steps = round(self.iterations.value * max(1, bars / 8)) if model in ("AR-CNN", "both") else 0
            progress = _WidgetProgress(self.progress, arcnn_steps + (model != "AR-CNN") + 1)
            self.status.value = f"generating {bars} bars with {model}..."
            harmonizer, enhancer = self._models()
            before, music, summary = make_music(
                melody, model, harmonizer, enhancer, seed=self.seed.value, progress=progress,
                iterations=self.iterations.value, max_notes_added=self.max_added.value,
                max_removed_pct=self.max_removed.value, temperature=self.temperature.value,
                extender=self._extender, sampling=self.chosen_sampling(), seconds=self.extension.value)
            audio = synthesize(music)
            paths, ax = self._write(music, before, audio, f"{name}-{model.lower()}-seed{self.seed.value}",
                                    model, f"{name}: {summary}")
            progress.update(1)
            self.result = StudioResult(melody, music, summary, {k: paths[k] for k in ("mid", "mp3", "png")})
            self.status.value = f"{summary} ({len(audio) / SAMPLE_RATE:.0f} s of audio)"
            links = " · ".join(_download_link(paths[k], mime) for k, mime in
                               (("mid", "audio/midi"), ("mp3", "audio/mpeg"), ("png", "image/png")))
            outputs = (ax.figure, play(paths["mp3"]), HTML(f"download: {links}"))
            if inline:
                display(*outputs)
            else:
                with self.output:
                    self.output.clear_output()
                    display(*outputs)
            plt.close(ax.figure)
            return self.result
        finally:
            self.generate_button.disabled = False

    def _write(self, music: PianoRoll, before: PianoRoll, audio, stem: str, model: str,
               title: str) -> tuple[dict[str, Path], object]:
        """MIDI, MP3 and the picture, written aside and then given free names together
        (``stem``, ``stem-2``, ...): earlier files are never replaced, even by another studio."""
        self.outdir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".studio-", dir=self.outdir))
        try:
            staged = {kind: staging / f"{stem}.{kind}" for kind in ("mid", "mp3", "png")}
            with ThreadPoolExecutor(max_workers=1) as pool:  # the MP3 encoder runs beside the picture
                mp3 = pool.submit(write_audio, audio, staged["mp3"])
                write_midi(music, staged["mid"])
                ax = plot_pianoroll(music, title=title) if model in ("GAN", "extend") \
                    else plot_enhancement(before, music, title=title)
                ax.figure.savefig(staged["png"], dpi=100, bbox_inches="tight")  # the legend sits outside
                mp3.result()
            paths = next(names for names in candidate_names(self.outdir, stem)
                         if rename_all_new({staged[kind]: names[kind] for kind in staged}))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return paths, ax

    def _on_click(self, _button) -> None:
        self.generate()

