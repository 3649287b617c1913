"""IGPathView benchmark: one 3x224x224 image, 64 Gauss-Legendre steps, CPU, in JupyterLab (Chromium).

Run: ``.venv/bin/python benchmarks/bench_ig_path.py`` (``--model resnet18`` for a ResNet-18-shaped
network with random weights instead of the default small CNN; ``--repeats N``). Needs the built
bundle and Chromium.

A notebook is generated and run in a real JupyterLab 4 with a real kernel (the shared harness
``benchmarks/_lab.py``). After a warm-up (imports, one small IGPathView built and dropped), a cell
``view = nbx.IGPathView(model, x, steps=64, convergence=False); view`` is typed and run with
Shift+Enter, ``--repeats`` times:

1. kernel: ``time.perf_counter`` around the construction (the one batched pass over the 33 grid
   alphas and the 64 rule points, the packing to the wire budget); for comparison, plain
   ``IntegratedGradients(model, steps=64)`` on the same input;
2. page: ``performance.now()`` from the Shift+Enter keydown to the new view's ``data-draws`` > 0 (a
   MutationObserver): the time to first draw as the user sees it;
3. wire bytes: the view's state (JSON without buffers, plus the binary buffers);
4. slider frame time: in the page, for every alpha of the grid (ten sweeps, back and forth), ``performance.now()``
   around setting the slider and dispatching its ``input`` event, which redraws synchronously (the
   three canvases, the marker, the read-outs) plus a forced layout; goal: every frame < 16 ms. The
   view's own ``data-frame-ms`` (its redraw alone) is reported too;
5. the completeness chart (``compute_convergence``: 5 rules x 2..256 steps, one pass over the
   union of their points), timed in the kernel, small CNN only (ResNet-18: minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODELS = {
    "small": '''torch.manual_seed(0)
model = nn.Sequential(nn.Conv2d(3, 16, 5, stride=4, padding=2), nn.ReLU(), nn.Conv2d(16, 32, 3, stride=2, padding=1),
                      nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10)).eval()''',
    "resnet18": '''from tests.torch_models import resnet
model = resnet("18").eval()''',
}

SETUP = '''import json, time
import torch
from torch import nn
from ipywidgets.widgets.widget import _remove_buffers
import nbexplain as nbx
{model}
x = torch.rand(3, 224, 224, generator=torch.Generator().manual_seed(0))
nbx.IGPathView(model, x, steps=4, n_alphas=3, convergence=False).close()   # warm-up: imports, first pass
construct_ms = []
t0 = time.perf_counter()
nbx.IntegratedGradients(model, steps=64).explain(x[None])
ig_ms = 1000 * (time.perf_counter() - t0)
print(torch.get_num_threads())'''

CELL = '''t0 = time.perf_counter()
view = nbx.IGPathView(model, x, steps=64, convergence=False)
construct_ms.append(1000 * (time.perf_counter() - t0))
view'''

WATCH = """() => {
  window.__nbxT0 = null;
  const onKey = (e) => {
    if (e.key === 'Enter' && e.shiftKey) { window.__nbxT0 = performance.now(); window.removeEventListener('keydown', onKey, true); }
  };
  window.addEventListener('keydown', onKey, true);
  const sel = '.nbx-ig-path';
  document.querySelectorAll(sel).forEach((g) => { g.dataset.benchOld = '1'; });
  window.__nbxDone = new Promise((resolve) => {
    const check = () => [...document.querySelectorAll(sel)].some((g) => !g.dataset.benchOld && Number(g.dataset.draws || 0) > 0);
    const obs = new MutationObserver(() => { if (check()) { obs.disconnect(); resolve(performance.now()); } });
    obs.observe(document.body, { attributes: true, attributeFilter: ['data-draws'], childList: true, subtree: true });
  });
}"""

SWEEP = """() => {
  const root = [...document.querySelectorAll('.nbx-ig-path')].pop();
  const slider = root.querySelector('input.nbx-igp-alpha');
  const n = Number(slider.max) + 1;
  const outer = [], inner = [];
  for (let pass = 0; pass < 10; pass++) {
    for (let k = 0; k < n; k++) {
      const g = pass % 2 ? n - 1 - k : k;
      const t0 = performance.now();
      slider.value = String(g);
      slider.dispatchEvent(new Event('input', { bubbles: true }));
      void root.offsetHeight;  // the layout the redraw causes
      outer.push(performance.now() - t0);
      inner.push(Number(root.dataset.frameMs));
      if (root.dataset.frame !== String(g)) throw new Error(`frame ${g} not shown`);
    }
  }
  return { n, outer, inner };
}"""

STATE = '''state, _, buffers = _remove_buffers(view.get_state())
print(json.dumps({"json": len(json.dumps(state)), "buffers": sum(memoryview(b).nbytes for b in buffers),
                  "note": view.note, "frames": list(view.frames.shape), "ig_ms": ig_ms, "construct_ms": construct_ms,
                  "pass_ms": 1000 * view.path.seconds, "estimate_s": view.convergence_seconds}))'''

CONVERGENCE = '''t0 = time.perf_counter()
view.compute_convergence()
print(json.dumps({"convergence_ms": 1000 * (time.perf_counter() - t0), "error": view.error}))'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="small")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from _lab import lab_notebook
    from browser.lab import execute_in_kernel, wait_kernel_idle  # type: ignore[import-not-found]

    results: dict[str, object] = {"model": args.model}
    cells = [SETUP.replace("{model}", MODELS[args.model])]
    with lab_notebook("bench_ig_path.ipynb", cells, viewport=(1400, 1000)) as (page, nb, tmp):
        results["torch_threads"] = int(nb.cells.first.locator(".jp-OutputArea-output").first.text_content() or 0)
        first_draw = []
        for _ in range(args.repeats):
            last = nb.cells.last
            last.locator(".jp-InputArea-prompt").click()
            page.keyboard.press("Escape")
            page.keyboard.press("b")
            editor = nb.cells.last.locator(".cm-content")
            editor.click()
            editor.fill(CELL)
            page.evaluate(WATCH)
            page.keyboard.press("Shift+Enter")
            t1 = page.evaluate("() => Promise.race([window.__nbxDone, new Promise((r) => setTimeout(() => r(null), 300000))])")
            if t1 is None:
                page.screenshot(path=str(tmp / "timeout.png"))
                raise RuntimeError(f"the view never drew within 300 s (screenshot: {tmp / 'timeout.png'})")
            first_draw.append(t1 - page.evaluate("() => window.__nbxT0"))
            wait_kernel_idle(nb, timeout_ms=300_000)
            page.wait_for_timeout(300)
        results["first_draw_ms"] = first_draw
        results["sweep"] = page.evaluate(SWEEP)
        results["state"] = execute_in_kernel(nb, STATE)
        if args.model == "small":
            results["convergence"] = execute_in_kernel(nb, CONVERGENCE, timeout_s=600)
        page.locator(".nbx-ig-path").last.screenshot(path=str(ROOT / "test-artifacts" / "bench_ig_path.png"))
    report(results)


def report(r: dict) -> None:
    med = statistics.median
    st = r["state"]
    print(f"machine: {platform.processor() or platform.machine()}, {platform.system()}, python "
          f"{platform.python_version()}; torch threads {r['torch_threads']}; model {r['model']} (random weights), one "
          "3x224x224 image, 64 Gauss-Legendre steps, 33 alphas, CPU")
    fd, ck = r["first_draw_ms"], st["construct_ms"]
    print(f"time to first draw (Shift+Enter -> view drawn): median {med(fd):.0f} ms, min {min(fd):.0f}, "
          f"max {max(fd):.0f} over {len(fd)}")
    print(f"  of which IGPathView(...) in the kernel: median {med(ck):.0f} ms (its gradient pass over 97 points: "
          f"{st['pass_ms']:.0f} ms); plain IntegratedGradients(steps=64) on the same input: {st['ig_ms']:.0f} ms")
    total = st["json"] + st["buffers"]
    print(f"wire: {total / 1e6:.3f} MB ({st['buffers'] / 1e6:.3f} MB binary buffers + {st['json'] / 1e3:.1f} kB JSON); "
          f"frames {st['frames']}; note: {st['note']!r}")
    sw = r["sweep"]
    outer, inner = sw["outer"], sw["inner"]
    slow = [round(v, 1) for v in outer if v >= 16]
    p99 = sorted(outer)[int(0.99 * (len(outer) - 1))]
    print(f"slider frame time over {len(outer)} frames ({sw['n']} alphas x 10 sweeps): median {med(outer):.2f} ms, "
          f"99th percentile {p99:.2f} ms, max {max(outer):.2f} ms (input event + redraw + layout; goal every frame "
          f"< 16 ms: {'met' if not slow else f'{len(slow)} frames over: {slow}'}); the view's redraw alone: median "
          f"{med(inner):.2f} ms, max {max(inner):.2f} ms")
    if "convergence" in r:
        print(f"completeness chart (5 rules x 2..256 steps): {r['convergence']['convergence_ms']:.0f} ms in the kernel "
              f"(estimated beforehand: {st['estimate_s']:.1f} s)")
    print(json.dumps(r))


if __name__ == "__main__":
    main()
