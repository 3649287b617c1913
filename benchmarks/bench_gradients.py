"""Gradient benchmark: nbexplain's gradient methods against Captum, in the same run.

Run: ``.venv/bin/python benchmarks/bench_gradients.py`` (``--quick`` for one timed repeat,
``--only SUBSTRING`` to run some cases). Captum is a benchmark-only dependency.

Method:

- every case runs in a **fresh subprocess** (``python bench_gradients.py --case NAME``): it builds
  the model and inputs, reads its resident set size, runs one warm-up call and 3 timed calls
  (``time.perf_counter``; the median is reported), then reads ``ru_maxrss`` (the process's peak
  resident set). **Peak memory** is ``ru_maxrss`` minus the RSS before the first call: what the
  method added at its peak, allocator caches included; it is the same measure for both libraries;
- **completeness error** (Integrated Gradients, DeepLIFT): ``|sum(attributions) - (f(x) - f(b))|``
  per sample, computed by this script from each library's attributions in float64, reported as
  the largest over the samples (absolute) and the median relative to ``|f(x) - f(b)|``;
- targets are fixed class indices (the same for both libraries), baselines are zeros, and the
  integration rule is Gauss-Legendre (Captum's default) for both;
- ``internal_batch_size``: Captum's default ``None`` (every sample x step pair in one pass) and a
  fixed size; ours ``"auto"`` (default: the largest chunk within a 2 GiB CPU budget, from a
  measured per-input cost) and the same fixed size;
- Captum's DeepLift cannot run on in-place ReLU; it gets a deep copy with ``inplace=False``
  (the same function); ours runs on the original model;
- the GPU section (ResNet-50, 8 x 3x224x224, 64 steps, fp32 and bf16 autocast, peak
  ``torch.cuda.max_memory_allocated``) runs only when ``torch.cuda.is_available()``.

Goal (issue 3): match Captum's fp32 time and peak memory; beat it with the bf16 path on GPU.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

REPEATS = 3


# -- models and inputs ----------------------------------------------------------------------------
def digits_setup() -> tuple[torch.nn.Module, torch.Tensor, list[int]]:
    """small_cnn (random weights) on 64 of scikit-learn's digits, 1x8x8 scaled to [0, 1]."""
    from sklearn.datasets import load_digits
    from torch_models import small_cnn

    x = torch.tensor(load_digits().images[:64, None] / 16.0, dtype=torch.float32)
    return small_cnn(10).eval(), x, [i % 10 for i in range(64)]


def resnet_setup(depth: str, n: int, seed: int = 0) -> tuple[torch.nn.Module, torch.Tensor, list[int]]:
    from torch_models import resnet

    x = torch.randn(n, 3, 224, 224, generator=torch.Generator().manual_seed(seed))
    return resnet(depth).eval(), x, [(7 * i + 3) % 1000 for i in range(n)]


def _basic_block_forward(self: Any, x: torch.Tensor) -> torch.Tensor:
    """BasicBlock.forward with a second ReLU module for the second use, and no in-place add."""
    identity = x if self.downsample is None else self.downsample(x)
    out = self.relu(self.bn1(self.conv1(x)))
    out = self.bn2(self.conv2(out))
    return self.relu_out(out + identity)


def not_inplace(model: torch.nn.Module) -> torch.nn.Module:
    """A deep copy Captum's DeepLift can run: ReLUs not in place, each ReLU module used once.

    Captum's DeepLift refuses a ReLU module used twice (torchvision's BasicBlock uses
    ``self.relu`` twice) and in-place ReLUs; the copy computes the same function.
    """
    from torch_models import BasicBlock

    twin = copy.deepcopy(model)
    for m in list(twin.modules()):
        if isinstance(m, torch.nn.ReLU):
            m.inplace = False
        if isinstance(m, BasicBlock):
            m.relu_out = torch.nn.ReLU()
            m.forward = types.MethodType(_basic_block_forward, m)  # type: ignore[method-assign]
    return twin


# -- the cases ------------------------------------------------------------------------------------
def completeness(model: torch.nn.Module, x: torch.Tensor, attr: Any, targets: list[int]) -> tuple[float, float]:
    """Largest ``|sum(attr) - (f(x) - f(0))|`` over samples, and the median of it over ``|f(x) - f(0)|``.

    The median, not the largest, relative error: a sample whose ``f(x)`` is almost ``f(0)``
    makes any relative error huge and says nothing about the method."""
    with torch.no_grad():
        idx = torch.tensor(targets)[:, None]
        fx = model(x).gather(1, idx).double().squeeze(1)
        fb = model(torch.zeros_like(x)).gather(1, idx).double().squeeze(1)
    total = torch.as_tensor(np.asarray(attr)).double().flatten(1).sum(1)
    err = (total - (fx - fb)).abs()
    return float(err.max()), float((err / (fx - fb).abs().clamp_min(1e-12)).median())


def case_runner(name: str) -> tuple[Callable[[], Any], torch.nn.Module, torch.Tensor, list[int], str]:
    """(call, model, inputs, targets, kind) for case ``name``: ``<setup>/<library>/<method>[/<ibs>]``."""
    setup, lib, method, *rest = name.split("/")
    ibs: Any = rest[0] if rest else None
    if ibs not in (None, "auto", "none"):
        ibs = int(ibs)
    if setup == "digits":
        model, x, t = digits_setup()
        steps = 64
    elif setup == "resnet18":
        model, x, t = resnet_setup("18", 4)
        steps = 32
    elif setup == "resnet50":
        model, x, t = resnet_setup("50", 8)
        steps = 64
    else:
        raise ValueError(name)
    device = "cuda" if setup == "resnet50" else "cpu"
    model, x = model.to(device), x.to(device)
    bf16 = method.endswith("-bf16")
    method = method.removesuffix("-bf16")

    if lib == "nbexplain":
        from nbexplain.explainers import DeepLift, GradCAM, IntegratedGradients, Saliency

        opts: dict[str, Any] = {"internal_batch_size": "auto" if ibs in (None, "auto") else ibs}
        if bf16:
            opts["dtype"] = torch.bfloat16
        if method == "ig":
            ours: Any = IntegratedGradients(model, steps=steps, **opts)
        elif method == "saliency":
            ours = Saliency(model, **opts)
        elif method == "deeplift":
            ours = DeepLift(model, **opts)
        elif method == "gradcam":
            ours = GradCAM(model, layer=model.layer4, **opts)
        else:
            raise ValueError(name)
        return (lambda: ours.explain(x, target=t).values), model, x, t, method

    from captum.attr import DeepLift as CDeepLift
    from captum.attr import IntegratedGradients as CIG
    from captum.attr import LayerAttribution, LayerGradCam
    from captum.attr import Saliency as CSaliency

    cibs = None if ibs in (None, "none") else ibs
    if method == "ig":
        ig = CIG(model)

        def call() -> Any:
            if bf16:
                with torch.autocast(device_type=device, dtype=torch.bfloat16):
                    return ig.attribute(x, target=t, n_steps=steps, internal_batch_size=cibs).detach().float()
            return ig.attribute(x, target=t, n_steps=steps, internal_batch_size=cibs).detach()
        return call, model, x, t, method
    if method == "saliency":
        sal = CSaliency(model)
        return (lambda: sal.attribute(x, target=t, abs=False).detach()), model, x, t, method
    if method == "deeplift":
        dl = CDeepLift(not_inplace(model))
        return (lambda: dl.attribute(x, target=t).detach()), model, x, t, method
    if method == "gradcam":
        gc_ = LayerGradCam(model, model.layer4)

        def cam() -> Any:
            maps = gc_.attribute(x, target=t, relu_attributions=True)
            return LayerAttribution.interpolate(maps, x.shape[2:], interpolate_mode="bilinear").detach()
        return cam, model, x, t, method
    raise ValueError(name)


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run_case(name: str, repeats: int) -> dict[str, Any]:
    """Run one case in this process: warm-up, ``repeats`` timed calls, peak memory, completeness."""
    import warnings

    warnings.filterwarnings("ignore")
    call, model, x, targets, method = case_runner(name)
    cuda = x.device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = rss_bytes()
    attr = call()  # warm-up
    times = []
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        attr = call()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    if cuda:
        peak = torch.cuda.max_memory_allocated() - base
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    out: dict[str, Any] = {"case": name, "median_s": statistics.median(times), "times": times, "peak_bytes": peak}
    if method in ("ig", "deeplift"):
        out["delta_abs"], out["delta_rel"] = completeness(model, x, attr.cpu() if hasattr(attr, "cpu") else attr,
                                                          targets)
    return out


def spawn(name: str, repeats: int) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--case", name, "--repeats", str(repeats)],
                          capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        return {"case": name, "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- the report -----------------------------------------------------------------------------------
CPU_GROUPS = [
    ("small_cnn on digits, 64 x 1x8x8, IG 64 steps", [
        ("IG, ibs Captum None / ours auto", "digits/captum/ig/none", "digits/nbexplain/ig/auto"),
        ("IG, ibs 512 both", "digits/captum/ig/512", "digits/nbexplain/ig/512"),
        ("Saliency", "digits/captum/saliency", "digits/nbexplain/saliency"),
        ("DeepLift", "digits/captum/deeplift", "digits/nbexplain/deeplift"),
    ]),
    ("ResNet-18 (random weights), 4 x 3x224x224, IG 32 steps", [
        ("IG, ibs Captum None / ours auto", "resnet18/captum/ig/none", "resnet18/nbexplain/ig/auto"),
        ("IG, ibs 32 both", "resnet18/captum/ig/32", "resnet18/nbexplain/ig/32"),
        ("Saliency", "resnet18/captum/saliency", "resnet18/nbexplain/saliency"),
        ("DeepLift", "resnet18/captum/deeplift", "resnet18/nbexplain/deeplift"),
        ("Grad-CAM (layer4)", "resnet18/captum/gradcam", "resnet18/nbexplain/gradcam"),
    ]),
]
GPU_GROUPS = [
    ("ResNet-50 (random weights), 8 x 3x224x224, IG 64 steps", [
        ("IG fp32, ibs 256 / ours auto", "resnet50/captum/ig/256", "resnet50/nbexplain/ig/auto"),
        ("IG fp32, ibs 256 both", "resnet50/captum/ig/256", "resnet50/nbexplain/ig/256"),
        ("IG bf16 autocast, ibs 256 / ours auto", "resnet50/captum/ig-bf16/256", "resnet50/nbexplain/ig-bf16/auto"),
    ]),
]


def fmt_mb(b: float) -> str:
    return f"{b / 2**20:8.0f}"


def report(groups: list[Any], repeats: int, only: str | None) -> list[str]:
    lines = []
    for title, rows in groups:
        head = ["", f"### {title}", "",
                "| case | Captum s | ours s | time ratio | Captum peak MiB | ours peak MiB | memory ratio "
                "| completeness error Captum / ours (max abs; median rel) |",
                "|---|---:|---:|---:|---:|---:|---:|---|"]
        print("\n".join(head), flush=True)
        lines += head
        for label, theirs, ours in rows:
            if only and only not in theirs and only not in ours:
                continue
            c, o = spawn(theirs, repeats), spawn(ours, repeats)
            if "error" in c or "error" in o:
                lines.append(f"| {label} | {c.get('error', '')} | {o.get('error', '')} | | | | | |")
                print(lines[-1], flush=True)
                continue
            delta = ""
            if "delta_abs" in c:
                delta = (f"{c['delta_abs']:.2e}; {c['delta_rel']:.1e} / {o['delta_abs']:.2e}; {o['delta_rel']:.1e}")
            lines.append(
                f"| {label} | {c['median_s']:.3f} | {o['median_s']:.3f} | {o['median_s'] / c['median_s']:.2f} "
                f"| {fmt_mb(c['peak_bytes']).strip()} | {fmt_mb(o['peak_bytes']).strip()} "
                f"| {o['peak_bytes'] / max(c['peak_bytes'], 1):.2f} | {delta} |")
            print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--quick", action="store_true", help="one timed repeat per case")
    parser.add_argument("--only", help="run only cases whose name contains this")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.repeats)))
        return
    repeats = 1 if args.quick else args.repeats
    cpu = platform.processor() or platform.machine()
    try:
        model_name = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if "model name" in line)
    except (OSError, StopIteration):
        model_name = cpu
    print(f"# machine: {model_name}, {os.cpu_count()} cores, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"# time: median of {repeats} calls after a warm-up; peak: ru_maxrss (CPU) or max_memory_allocated "
          "(GPU) minus the level before the first call, each case in a fresh subprocess")
    print("## CPU")
    report(CPU_GROUPS, repeats, args.only)
    print("\n## GPU")
    if torch.cuda.is_available():
        print(f"# device: {torch.cuda.get_device_name()}")
        report(GPU_GROUPS, repeats, args.only)
    else:
        print("No GPU present (torch.cuda.is_available() is False): the GPU cases (ResNet-50, 8 x 3x224x224, "
              "64 steps, fp32 and bf16) were not run.")
    print(f"# load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
