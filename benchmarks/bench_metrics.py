"""Trust-metrics benchmark: nbexplain's deletion / insertion curves against Quantus, in the same run.

Run: ``.venv/bin/python benchmarks/bench_metrics.py`` (``--quick``: 4 images; ``--only curves`` for
one section). Quantus is a benchmark- and test-only reference.

Curves section (issue 13), method:

- model: a ResNet-18-shaped network (``tests/torch_models.resnet("18")``: torchvision's layout,
  random weights, BatchNorm statistics randomised), eval mode, float32, CPU,
  ``torch.set_num_threads`` = the CPU count; inputs: 16 seeded standard-normal images 3x224x224,
  fixed targets ``(7 i + 3) % 1000``;
- attributions: seeded random values, one per 14 x 14 patch (256 patches), the same on the three
  channels, so that Quantus's element ranking removes whole patches in the same order as ours;
- steps: 48, not the issue's 50: Quantus requires ``features_in_step`` to divide ``H * W`` = 50176
  = 2^10 * 7^2 while it ranks all ``3 * H * W`` elements, and 3136 (48 steps) is the divisor
  nearest to 50 steps;
- **Quantus** ``PixelFlipping(features_in_step=3136, perturb_baseline=0.0)``: 48 steps of 3136
  elements (5 1/3 patches), each step one model call on the 16 images (``batch_size=64``,
  Quantus's default), ``softmax=False``: logits (random weights give near-uniform probabilities
  of about 1/1000, which would make any agreement look perfect): 768 forward passes;
- **ours** ``deletion_curves(..., steps=48, patch_size=14, baseline=0.0, n_random=0)``: point ``j``
  removes ``round(j * 256 / 48)`` whole patches, so the removed fraction differs from Quantus's by
  at most half a patch; every step of every sample in chunks of ``batch_size="auto"`` rows (the
  2 GiB CPU budget), ``output="logits"``; 784 forward passes (the 16 unmodified inputs included).
  Then ``insertion_curves`` (from the blurred image) and both with a random floor of one order
  (``n_random=1``; the default 3 costs proportionally more);
- agreement: the mean over samples of the largest ``|ours - Quantus|`` along the curve (the
  removed fractions differ slightly, see above), and the two mean AUCs (Quantus's over its steps
  with ``dx = 1``, divided by the number of steps to compare with ours over the fraction);
- times are wall clock (``time.perf_counter``) of one run each after a one-image warm-up (the
  machine may be shared: read the ratios, which come from the same run).

Goal: nbexplain's deletion at least as fast as Quantus's pixel flipping for the same model
evaluations; deletion + insertion in less than twice Quantus's time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from nbexplain.metrics import deletion_curves, insertion_curves  # noqa: E402

SECTIONS: dict[str, Callable[[bool], None]] = {}
STEPS, PATCH = 48, 14


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def resnet_images(n: int) -> tuple[torch.nn.Module, np.ndarray, np.ndarray, np.ndarray]:
    """ResNet-18 (random weights), n images, fixed targets and patch-constant attributions (n, 3, 224, 224)."""
    from torch_models import resnet

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3, 224, 224)).astype(np.float32)
    cells = rng.standard_normal((n, 224 // PATCH, 224 // PATCH)).astype(np.float32)
    attr = np.repeat(np.repeat(cells, PATCH, axis=1), PATCH, axis=2)[:, None].repeat(3, axis=1)
    return resnet("18").eval(), x, np.array([(7 * i + 3) % 1000 for i in range(n)]), attr


def quantus_pixel_flipping(model: torch.nn.Module, x: np.ndarray, y: np.ndarray, a: np.ndarray) -> np.ndarray:
    import quantus

    step = x[0].size // STEPS  # 3136 for 3 x 224 x 224: it divides H * W, as Quantus requires
    pf = quantus.PixelFlipping(features_in_step=step, perturb_baseline=0.0, disable_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.array(pf(model=model, x_batch=x, y_batch=y, a_batch=a, softmax=False, channel_first=True,
                           device="cpu"))


def curves_section(quick: bool) -> None:
    n = 4 if quick else 16
    model, x, y, a = resnet_images(n)
    print(f"== Deletion / insertion curves: ResNet-18 (random weights), {n} x 3x224x224, {STEPS} steps, "
          f"patches {PATCH}x{PATCH} (256), CPU threads: {torch.get_num_threads()}")
    quantus_pixel_flipping(model, x[:1], y[:1], a[:1])  # warm-ups
    deletion_curves(model, x[:1], a[:1], target=y[:1], steps=2, patch_size=PATCH, baseline=0.0, n_random=0)
    kw = {"target": y, "steps": STEPS, "patch_size": PATCH, "n_random": 0, "output": "logits"}
    t_q, q = timed(lambda: quantus_pixel_flipping(model, x, y, a))
    t_d, d = timed(lambda: deletion_curves(model, x, a, baseline=0.0, **kw))
    t_i, ins = timed(lambda: insertion_curves(model, x, a, **kw))
    t_df, df = timed(lambda: deletion_curves(model, x, a, baseline=0.0, **{**kw, "n_random": 1}))
    t_if, inf = timed(lambda: insertion_curves(model, x, a, **{**kw, "n_random": 1}))
    evals_q = n * q.shape[1]
    rows = [
        ("Quantus PixelFlipping (deletion)", t_q, evals_q),
        ("nbexplain deletion_curves", t_d, d.n_evaluations),
        ("nbexplain insertion_curves (blur)", t_i, ins.n_evaluations),
        ("nbexplain deletion + insertion", t_d + t_i, d.n_evaluations + ins.n_evaluations),
        ("nbexplain deletion + random floor (1)", t_df, df.n_evaluations),
        ("nbexplain insertion + random floor (1)", t_if, inf.n_evaluations),
    ]
    print(f"{'run':40s} {'time s':>8s} {'forwards':>9s} {'ms/forward':>10s} {'Quantus/this':>12s}")
    for name, t, ev in rows:
        print(f"{name:40s} {t:8.2f} {ev:9d} {1000 * t / ev:10.1f} {t_q / t:11.2f}x")
    gap = np.abs(d.scores[:, 1:] - q).max(axis=1).mean()
    spread = np.abs(q - q[:, :1]).max(axis=1).mean()
    print(f"agreement (logits): mean over images of max |ours - Quantus| along the curve = {gap:.3g}, against a "
          f"mean range of the curve of {spread:.3g} (removed fractions differ by at most half a patch per point); "
          f"mean AUC ours {d.mean_auc:.4f}, Quantus {np.trapezoid(q, dx=1, axis=1).mean() / q.shape[1]:.4f} "
          "(over its steps, / steps)")
    print(f"goal: deletion at least as fast as Quantus: {t_q / t_d:.2f}x; deletion + insertion under twice Quantus's "
          f"time: {(t_d + t_i) / t_q:.2f}x Quantus")


SECTIONS["curves"] = curves_section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 images instead of 16")
    parser.add_argument("--only", default="", help="run sections whose name contains this")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    for name, section in SECTIONS.items():
        if args.only in name:
            section(args.quick)


if __name__ == "__main__":
    main()
