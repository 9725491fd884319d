"""The Transformer's figures: bits per note beside the Markov baseline's, and what its continuations do.

Bits per note is ``-log2 P(melody) / notes`` over melodies neither model learned from (the test
split, or any folder of MIDI files), every word after a tune's header predicted from the words
before it. The Markov model is trained on the same training tunes, its order chosen on the
validation tunes. The continuations: each melody (a test tune's first bars, or a whole file) is
extended by 20 seconds (the test tunes' own next 20 seconds are counted the same way, for
comparison), and the new notes are counted: in the melody's key, how their intervals
and durations are spread against the training tunes' (total variation distance, 0 = the same
spread, 1 = nothing in common), how many of their 4-note motifs come from the input (reuse), how
many of their 8-note runs do (a loop: DeepComposer's brief asks for new material).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .extend import Extension, ExtendError, extend, melody_of
from .markov import bits_per_note, markov_baseline, train_markov
from .melodies import SOURCES, Tune, TuneSet, melody_in_c, to_c, validation_sample
from .melody_tokens import HEADER_LENGTH, VOCAB_SIZE, note_count
from .metrics import key_scale
from .midi import MidiFileError, Note, PianoRoll, bar_steps, pitch_name, read_midi

__all__ = ["evaluate_melody_model", "continuation_figures", "read_melodies", "motif_share", "CONTINUATION_FIGURES",
           "markov_verdict", "run_markov_verdict", "fair_test_verdict", "blind_guess_sentence", "key_name",
           "in_key_share", "continuation_sentence", "motif_verdict"]

PROMPT_BARS = 4
CONTINUATION_TUNES = 40
SECONDS = 20.0
INTERVALS = np.arange(-12, 13)
DURATIONS = np.arange(1, 33)
CONTINUATION_FIGURES = ("new_seconds", "in_key", "interval_distance", "duration_distance", "motif_reuse",
                        "loop_share", "longest_ratio")


def read_melodies(folder: str | os.PathLike) -> tuple[dict[str, PianoRoll], dict[str, str]]:
    """Every MIDI file's melody under ``folder`` (as ``extend`` finds it), and why others are left out."""
    melodies, skipped = {}, {}
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix.lower() not in (".mid", ".midi"):
            continue
        try:
            melodies[path.name] = melody_of(read_midi(path))
        except (MidiFileError, ExtendError) as exc:
            skipped[path.name] = str(exc)
    return melodies, skipped


def _motifs(notes: list[Note], size: int) -> list[tuple]:
    """Runs of ``size`` notes as their intervals and lengths (where they start: not their key)."""
    runs = []
    for i in range(len(notes) - size + 1):
        run = notes[i : i + size]
        runs.append(tuple(b.pitch - a.pitch for a, b in zip(run, run[1:])) + tuple(n.length for n in run))
    return runs


def motif_share(new: list[Note], given: list[Note], size: int) -> float:
    """Share of the new notes' ``size``-note runs found among the given notes' runs."""
    runs, known = _motifs(new, size), set(_motifs(given, size))
    return float(np.mean([run in known for run in runs])) if runs else 0.0


def motif_verdict(shares: dict[str, float], given: str, size: int = 4) -> str:
    """Which setting's new notes reuse most of ``given``'s ``size``-note motifs, read from
    ``shares`` (``motif_share`` per setting, compared as printed: whole percents), or that none
    reuses one."""
    if not any(shares.values()):
        return f"None of the settings reuses a {size}-note motif of {given}: every share is 0%."
    printed = {label: round(100 * share) for label, share in shares.items()}
    most = max(printed.values())
    best = [label for label, share in printed.items() if share == most]
    return (f"{' and '.join(best)} reuse{'s' if len(best) == 1 else ''} {given}'s {size}-note motifs most: {most}% "
            f"of {'its' if len(best) == 1 else 'their'} new {size}-note motifs are also in {given}.")


def key_name(key: tuple[int, str]) -> str:
    """A key as a person reads it: (4, 'minor') -> 'E minor'."""
    tonic, mode = key
    return f"{pitch_name(60 + tonic)[:-1]} {mode}"


def in_key_share(extension: Extension) -> float:
    """Share of the new notes in the key the melody was read in (``Extension.key``)."""
    return _in_key(extension.new_notes, extension.key) if extension.new_notes else float("nan")


def _in_key(notes: list[Note], key: tuple[int, str]) -> float:
    """Share of ``notes`` whose pitch class is in ``key``'s scale."""
    scale = key_scale(*key)
    return float(np.mean([n.pitch % 12 in scale for n in notes]))


def continuation_sentence(extension: Extension, given: list[Note], whose: str = "your tune", size: int = 4) -> str:
    """The new notes of ``extension`` in one sentence read from them: how many, the share in the key
    the Transformer read from the melody ``given`` (named), and the share of their ``size``-note
    motifs also in it ("none" when none is)."""
    share = motif_share(extension.new_notes, given, size)
    motifs = (f"none of their {size}-note motifs is also in {whose}" if share == 0 else
              f"{share:.0%} of their {size}-note motifs also in {whose}")
    return (f"{len(extension.new_notes)} new notes: {in_key_share(extension):.0%} in {key_name(extension.key)}, the key "
            f"the Transformer reads from {whose}'s notes; {motifs}")


def blind_guess_sentence(tunes: list[np.ndarray], which: str) -> str:
    """Blind guessing's bits per note on ``tunes`` (named ``which``; every word 1 in ``VOCAB_SIZE``)
    and why it is more than log2 of the vocabulary: bar lines and each tune's end word are guessed
    too, but only notes (and rests) are counted."""
    words = sum(len(w) - HEADER_LENGTH for w in tunes)
    per_note = words / sum(note_count(w[HEADER_LENGTH:]) for w in tunes)
    blind = per_note * np.log2(VOCAB_SIZE)  # every word 1 in VOCAB_SIZE, words per note of them
    return (f"blind guessing (all {VOCAB_SIZE} words equally likely): {blind:.2f} bits per note on {which}. Each word "
            f"costs log2({VOCAB_SIZE}) = {np.log2(VOCAB_SIZE):.2f} bits, but the bar lines and each tune's end word "
            f"are guessed too and only the notes (rests included) are counted: {which} have {per_note:.2f} words per "
            f"note, so a note costs {per_note:.2f} times as much.")


SAME_FIGURE = 0.005  # bits per note: two Markov figures this close print as one


def markov_verdict(best: float, run_markov: float, markov_above: float, scored: int, validation: int,
                   learned: int, training: int) -> list[str]:
    """Sentences read from a Transformer run's numbers: its best validation bits per note against
    the Markov figure the same run logged (both on the tunes the run scores), then why that
    figure is or is not ``markov_above``, the Markov model's on all ``validation`` tunes: the run
    scored ``scored`` of them and learned from ``learned`` of the ``training`` tunes."""
    said = f"Its best validation figure, the one whose model is kept, is {best:.3f} bits per note: "
    gap = round(run_markov, 3) - round(best, 3)  # as printed
    if best < run_markov:
        said += (f"{gap:.3f} below the Markov figure its run logged ({run_markov:.3f}), so it "
                 "predicts these tunes better than counting does.")
    else:
        said += (f"{-gap:.3f} above the Markov figure its run logged ({run_markov:.3f}), so not yet "
                 "better than counting.")
    if abs(run_markov - markov_above) < SAME_FIGURE:
        return [said, f"That Markov figure is the {markov_above:.2f} computed above on all {validation:,} "
                      "validation tunes."]
    why = []
    if scored < validation:
        why.append(f"the run scores {scored:,} of the {validation:,} validation tunes (a sample, to save time)")
    if learned < training:
        why.append(f"its Markov model, like its Transformer, learned from {learned:,} of the {training:,} training tunes")
    reason = " and ".join(why) or "the run was made from another build of the tunes"
    apart = round(run_markov, 3) - round(markov_above, 2)  # as printed
    by = f"{abs(apart):.2f}" if abs(apart) >= 0.01 else "less than 0.01"
    return [said, f"That Markov figure is not the {markov_above:.2f} computed above ({by} {'higher' if apart > 0 else 'lower'}): "
                  f"{reason}. Within the run both models meet the same tunes, so the comparison just made is fair."]


def run_markov_verdict(log: dict[str, np.ndarray], markov_above: float, tunes: TuneSet,
                       limit: int | None = None) -> list[str]:
    """``markov_verdict`` for a run's log (``plots.read_log``): its best ``val_bits_per_note`` and
    its ``val_markov_bits_per_note``, the tunes it used counted as ``train_transformer`` takes
    them (``limit``: the first tunes of each split, as that run was given)."""
    valid = tunes.words("valid")
    return markov_verdict(float(np.min(log["val_bits_per_note"])), float(log["val_markov_bits_per_note"][-1]),
                          markov_above, len(validation_sample(valid[:limit])), len(valid),
                          len(tunes.words("train")[:limit]), len(tunes.words("train")))


def fair_test_verdict(markov: float, transformer: float) -> str:
    """The test tunes' bits per note of both models, read as how many times as likely the better
    one found each note, and what to do when the Transformer is behind. The gap is the one between
    the figures as the lab prints them (2 decimals), so the sentence agrees with the line above it."""
    gap = round(round(markov, 2) - round(transformer, 2), 2)
    if gap == 0:
        return (f"The two models score the same, {markov:.2f} bits per note: on average they found the notes of "
                "these tunes about equally likely.")
    if gap > 0:
        return (f"The Transformer is {gap:.2f} bits per note better: on average it found each note of these tunes "
                f"{2 ** gap:.1f} times as likely as the Markov model did.")
    return (f"The Markov model is {-gap:.2f} bits per note better: on average it found each note of these tunes "
            f"{2 ** -gap:.1f} times as likely as this Transformer did. The Markov model is made by counting, in one "
            "pass; the Transformer starts from random weights and learns in small steps, so a short run can leave "
            "it behind: train longer, or set USE_SHIPPED = True above.")


def _spread(values: np.ndarray, support: np.ndarray) -> np.ndarray:
    counts = np.array([np.count_nonzero(values == v) for v in support], float)
    return counts / max(counts.sum(), 1.0)


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(0.5 * np.abs(a - b).sum())


def _reference_spreads(tunes: TuneSet) -> tuple[np.ndarray, np.ndarray]:
    notes = [t.notes for t in tunes.split("train")]
    intervals = np.concatenate([np.diff(n[:, 1]) for n in notes])
    lengths = np.concatenate([n[:, 2] for n in notes])
    return _spread(intervals, INTERVALS), _spread(lengths, DURATIONS)


def _figures(pairs: list[tuple[PianoRoll, list[Note]]], tunes: TuneSet) -> dict:
    """The figures of new notes after given melodies (means over melodies), and all their intervals
    and lengths against the training tunes'."""
    intervals_ref, lengths_ref = _reference_spreads(tunes)
    rows, intervals, lengths = [], [], []
    for melody, new in pairs:
        given = melody.notes(0)
        if not new:
            continue
        read = melody_in_c(given, melody.time_signature)
        joined = given[-1:] + new
        intervals.extend(b.pitch - a.pitch for a, b in zip(joined, joined[1:]))
        lengths.extend(n.length for n in new)
        rows.append({"new_seconds": (new[-1].start + new[-1].length - new[0].start) * melody.seconds_per_step,
                     "in_key": _in_key(new, (read.tonic, read.mode)),
                     "motif_reuse": motif_share(new, given, 4), "loop_share": motif_share(new, given, 8),
                     "longest_ratio": max(n.length for n in new) / max(n.length for n in given)})
    figures = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]} if rows else {}
    figures["interval_distance"] = _distance(_spread(np.array(intervals), INTERVALS), intervals_ref)
    figures["duration_distance"] = _distance(_spread(np.array(lengths), DURATIONS), lengths_ref)
    figures["melodies"] = len(rows)
    figures["at_least_85pct_in_key"] = float(np.mean([r["in_key"] >= 0.85 for r in rows])) if rows else 0.0
    figures["not_a_loop"] = float(np.mean([r["loop_share"] <= 0.5 for r in rows])) if rows else 0.0
    return figures


def continuation_figures(model, melodies: list[PianoRoll], tunes: TuneSet, seconds: float = SECONDS,
                         seed: int = 0) -> dict:
    """Each melody extended by ``seconds`` (seed ``seed`` + its place), and the new notes' figures."""
    return _figures([(melody, extend(melody, model, seconds=seconds, seed=seed + i).new_notes)
                     for i, melody in enumerate(melodies)], tunes)


def _prompt(tune: Tune, bars: int) -> tuple[PianoRoll, list[Note]]:
    """A test tune's first ``bars`` bars (after any pickup) as a melody in its own key, and the
    notes that really follow them (as many as a continuation of ``SECONDS`` at 100 bpm has steps)."""
    end = tune.pickup_steps + bars * bar_steps(tune.time_signature)
    _, shift = to_c([], tune.tonic)
    notes = [Note(s, p - shift, n) for s, p, n in tune.notes.tolist()]
    prompt = PianoRoll.from_notes([[n for n in notes if n.start < end]], time_signature=tune.time_signature,
                                  pickup_steps=tune.pickup_steps)
    horizon = end + round(SECONDS / prompt.seconds_per_step)
    return prompt, [n for n in notes if end <= n.start < horizon]


def evaluate_melody_model(model, tunes: TuneSet, melodies: dict[str, PianoRoll] | None = None,
                          continuations: int = CONTINUATION_TUNES, seed: int = 0) -> dict:
    """Bits per note of the Transformer and the Markov baseline on the test tunes (or ``melodies``),
    and the figures of their continuations."""
    train, valid = tunes.words("train"), tunes.words("valid")
    real = None
    if melodies is None:
        test_tunes = tunes.split("test")
        words = [t.words() for t in test_tunes]
        cut = [_prompt(t, PROMPT_BARS) for t in test_tunes[:: max(1, len(test_tunes) // continuations)]][:continuations]
        prompts = [prompt for prompt, _ in cut]
        real = _figures(cut, tunes)
        where = "the test split"
    else:
        words = [melody_in_c(m.notes(0), m.time_signature, m.pickup_steps, end=True).words for m in melodies.values()]
        prompts = list(melodies.values())
        where = f"{len(melodies)} melodies"
    order, _ = markov_baseline(train, valid)
    markov = train_markov(train, order)
    scored = [w for w in words if len(w) > HEADER_LENGTH]
    by_source = {}
    if melodies is None:  # the folk songs and Bach's sopranos apart
        for source in SOURCES:
            part = [t.words() for t in tunes.split("test", source)]
            by_source[source] = {"transformer": bits_per_note(model.word_probabilities(part), part),
                                 "markov": bits_per_note(markov.word_probabilities(part), part), "tunes": len(part)}
    return {"bits_per_note": {"transformer": bits_per_note(model.word_probabilities(scored), scored),
                              "markov": bits_per_note(markov.word_probabilities(scored), scored)},
            **({"bits_per_note_by_source": by_source} if by_source else {}),
            "markov_order": order, "melodies": where, "tunes": len(scored),
            "continuations": continuation_figures(model, prompts, tunes, seed=seed),
            **({"real_continuations": real} if real else {})}
