"""AR-CNN sampling speed in one process: 100 iterations on 8 bars, changing one thing at a time.

From the DeepComposer sample's method (a 31.9M-parameter U-Net on the full 128 x 128 roll, called
with ``model.predict`` once per flip) to ours (a 1.1M-parameter U-Net on the 4 octaves the
chorales use, 4 flips per forward pass, its LiteRT copy). Whole processes, as a user meets them,
are in ``benchmarks/inference_speed.py``.
Run: python benchmarks/arcnn_speed.py
"""

from __future__ import annotations

import time


def main(iterations: int = 100) -> None:
    import numpy as np

    from lab_utils.arcnn import ARCNN_CONFIGS, arcnn_folder, build_unet, enhance, load_arcnn, load_scorer
    from lab_utils.evaluate import first_bars
    from lab_utils.samples import melody_roll

    melody = first_bars(melody_roll("twinkle"))
    big = build_unet(ARCNN_CONFIGS["reference"])
    roll = np.zeros((1, 128, 128, 1), np.float32)
    started = time.perf_counter()
    for _ in range(iterations):
        big.predict(roll, verbose=0)
    rows = [("31.9M U-Net, predict() per flip", time.perf_counter() - started)]
    small, config = load_arcnn(arcnn_folder())
    fast, _ = load_scorer(arcnn_folder(), runtime="litert")
    for name, model, per_pass in (("1.1M U-Net on 48 pitches, Keras, 1 flip/pass", small, 1),
                                  ("same, 4 flips per pass", small, 4),
                                  ("same, LiteRT copy", fast, 4)):
        enhance(melody, model, config, iterations=1, edits_per_pass=per_pass)  # trace / warm up
        started = time.perf_counter()
        enhance(melody, model, config, iterations=iterations, edits_per_pass=per_pass)
        rows.append((name, time.perf_counter() - started))
    print(f"{'the sampling loop alone':52s} {'seconds':>8s}")
    for name, seconds in rows:
        print(f"{name:52s} {seconds:8.2f}")


if __name__ == "__main__":
    main()
