"""Explorer benchmark: repaint, what-if and beeswarm times of the Dashboard in JupyterLab (Chromium).

Run: ``.venv/bin/python benchmarks/bench_explorer.py`` (needs the built bundle and Chromium).

A notebook is generated and run in a real JupyterLab 4 with a real kernel; times are taken in
the page with ``performance.now()`` from the user's action to the view's ``data-draws`` bump
(a MutationObserver), and in the kernel with ``time.perf_counter`` around the computation.

1. Cached sample switch: a row click in the sample table -> the panel and the explanation bars
   redrawn, for samples whose explanation is in the cache (goal: within 50 ms).
2. What-if: a slider released on a 12-feature tabular MLP explained by exact KernelSHAP (all
   4,096 coalitions, 50 background rows, CPU) -> the new bars drawn (goal: within 150 ms).
   The peer figure is shap's KernelExplainer on the same model, sample and background with
   ``nsamples=4096`` (its exact setting for 12 features), timed in the same kernel.
3. Beeswarm: 10,000 samples x 20 features, the first draw (``data-draw-ms``: decode, layout,
   paint; goal: within 200 ms), and the bytes of its state.
Goals from issue 5. ``--nodelay`` runs the same with TCP_NODELAY on the server's kernel websockets
(jupyter_server leaves Nagle's algorithm on, which with the browser's delayed ACK can hold a
reply for about 40 ms); compare the two runs to see how much of the tail is the transport.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


REPEATS = 30

SETUP = '''import json, time
import numpy as np
import torch
from torch import nn
from sklearn.datasets import load_breast_cancer
import nbexplain as nbx

torch.manual_seed(0)
cancer = load_breast_cancer()
X = cancer.data[:, :12].astype(np.float32)
y = cancer.target
mean, std = X.mean(0), X.std(0) + 1e-6


class Standardised(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean))
        self.register_buffer("std", torch.as_tensor(std))
        self.net = net

    def forward(self, x):
        return self.net((x - self.mean) / self.std)


mlp = Standardised(nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 2)))
opt = torch.optim.Adam(mlp.parameters(), lr=1e-2)
for _ in range(150):
    opt.zero_grad()
    nn.functional.cross_entropy(mlp(torch.as_tensor(X)), torch.as_tensor(y)).backward()
    opt.step()
mlp.eval()
dash = nbx.Dashboard(mlp, X, y, feature_names=list(cancer.feature_names[:12]), methods=["kernel_shap"],
                     page_size=20, index=0)
for i in range(20):   # warm the cache: the first page's explanations
    dash.session.explain(i, "kernel_shap")
dash.wait()
dash'''

BEESWARM = '''rng = np.random.default_rng(0)
bv = rng.normal(size=(10_000, 20)) * np.linspace(2, 0.1, 20)
bf = rng.normal(size=(10_000, 20))
bee = nbx.Beeswarm(bv, feature_values=bf, feature_names=[f"f{j}" for j in range(20)])
bee'''

PEER = '''import shap
row = X[7:8]
ex = shap.KernelExplainer(lambda A: torch.softmax(mlp(torch.as_tensor(A, dtype=torch.float32)), 1).detach().numpy(),
                          dash.session.background)
ex.shap_values(row, nsamples=4096, silent=True)   # warm
times_shap = []
for _ in range(5):
    t0 = time.perf_counter(); ex.shap_values(row, nsamples=4096, silent=True); times_shap.append(time.perf_counter() - t0)
times_ours = []
for _ in range(5):
    t0 = time.perf_counter(); dash.session.explain_input(row[0], "kernel_shap", 1); times_ours.append(time.perf_counter() - t0)
print(json.dumps({"shap_ms": 1000 * float(np.median(times_shap)), "ours_ms": 1000 * float(np.median(times_ours))}))'''

# In the page: start a timer, do the action, resolve when every watched root's data-draws moved.
TIMED_ACTION = """async ([action, watch, index, value]) => {
  const roots = watch.map((sel) => document.querySelector(sel));
  if (roots.some((r) => !r)) throw new Error('missing ' + watch);
  // Row clicks: done when every watched root's data-draws moved. Slider moves: done when the
  // attributions shown (the .nbx-bar-value texts, which only Python changes) differ.
  const values = () => [...roots[0].querySelectorAll('.nbx-bar-value')].map((e) => e.textContent).join('|');
  const before = roots.map((r) => r.dataset.draws);
  const beforeValues = values();
  const done = new Promise((resolve) => {
    const check = () => action === 'row'
      ? roots.every((r, k) => r.dataset.draws !== before[k])
      : values() !== beforeValues;
    const obs = new MutationObserver(() => { if (check()) { obs.disconnect(); resolve(performance.now()); } });
    roots.forEach((r) => obs.observe(r, { attributes: true, attributeFilter: ['data-draws'], childList: true,
                                           subtree: true, characterData: true }));
  });
  const t0 = performance.now();
  if (action === 'row') {
    document.querySelector(`[data-view=sample_table] tr.nbx-row[data-index="${index}"]`).click();
  } else {
    // the first what-if slider shown (its feature is among the top bars); value = a fraction of its range
    const s = document.querySelector('[data-bench=bars] input[type=range].nbx-whatif');
    s.value = String(Math.round(Number(s.min) + value * (Number(s.max) - Number(s.min))));
    s.dispatchEvent(new Event('input', { bubbles: true }));
    s.dispatchEvent(new Event('change', { bubbles: true }));
  }
  const t1 = await done;
  return t1 - t0;
}"""


# With --nodelay the server's kernel websockets get TCP_NODELAY (jupyter_server does not set it):
# a config file, found through JUPYTER_CONFIG_PATH, patches the handler before the server starts.
NODELAY_CONFIG = '''from jupyter_server.services.kernels.websocket import KernelWebsocketHandler

_open = KernelWebsocketHandler.open


async def _open_nodelay(self, kernel_id):
    self.set_nodelay(True)
    return await _open(self, kernel_id)


KernelWebsocketHandler.open = _open_nodelay
'''


def main() -> None:
    from _lab import lab_notebook
    from browser.lab import execute_in_kernel, wait_for_draws  # type: ignore[import-not-found]

    nodelay = "--nodelay" in sys.argv
    results: dict[str, object] = {"nodelay": nodelay}
    with lab_notebook("bench_explorer.ipynb", [SETUP, BEESWARM],
                      server_config=NODELAY_CONFIG if nodelay else None) as (page, nb, _tmp):
        dash_cell = page.locator(".jp-NotebookPanel:visible .jp-CodeCell").nth(0)
        panel = dash_cell.locator(".nbx-sample-panel").first
        bars = dash_cell.locator(".nbx-feature-bars").first
        wait_for_draws(bars, 0)
        bee = page.locator(".nbx-beeswarm").first
        wait_for_draws(bee, 0)
        results["beeswarm_first_draw_ms"] = float(bee.get_attribute("data-draw-ms") or "nan")
        results["beeswarm_state_bytes"] = execute_in_kernel(
            nb, "from ipywidgets.widgets.widget import _remove_buffers\n"
                "st, _, bufs = _remove_buffers(bee.get_state())\n"
                "print(json.dumps(len(json.dumps(st)) + sum(memoryview(b).nbytes for b in bufs)))")
        # Mark the roots so the page can find them.
        panel.evaluate("(el) => el.setAttribute('data-bench', 'panel')")
        bars.evaluate("(el) => el.setAttribute('data-bench', 'bars')")
        watch = ["[data-bench=panel]", "[data-bench=bars]"]
        switch = []
        for k in range(REPEATS):
            switch.append(page.evaluate(TIMED_ACTION, ["row", watch, (k % 19) + 1, 0]))
            page.wait_for_timeout(150)
        results["cached_switch_ms"] = switch
        execute_in_kernel(nb, "dash.select(7); dash.wait(); print(json.dumps(1))")
        page.wait_for_timeout(300)
        if page.locator("[data-bench=bars] input[type=range].nbx-whatif").count() == 0:
            raise RuntimeError("no what-if slider on the page")
        whatif = []
        for k in range(REPEATS):
            whatif.append(page.evaluate(TIMED_ACTION, ["slider", ["[data-bench=bars]"], 0, 0.2 + 0.6 * (k % 2)]))
            page.wait_for_timeout(250)
        results["whatif_ms"] = whatif
        results["kernel_timings"] = execute_in_kernel(nb, "print(json.dumps(list(dash.timings)))")
        results["kernel_ms"] = execute_in_kernel(nb, PEER, timeout_s=300)
    report(results)


def report(r: dict) -> None:
    med = statistics.median
    print(f"machine: {platform.processor() or platform.machine()}, {platform.system()}, python {platform.python_version()}; "
          f"kernel websocket TCP_NODELAY: {'on (--nodelay)' if r['nodelay'] else 'off (jupyter_server default)'}")
    def p90(xs: list[float]) -> float:
        return sorted(xs)[int(0.9 * (len(xs) - 1))]

    sw, wi = r["cached_switch_ms"], r["whatif_ms"]
    print(f"cached sample switch, row click -> panel + bars redrawn: median {med(sw):.1f} ms, p90 {p90(sw):.1f} ms, "
          f"max {max(sw):.1f} ms over {len(sw)} (goal <= 50 ms)")
    print(f"what-if slider released -> new exact KernelSHAP bars drawn: median {med(wi):.1f} ms, p90 {p90(wi):.1f} ms, "
          f"max {max(wi):.1f} ms over {len(wi)} (goal <= 150 ms)")
    kt = r["kernel_timings"]
    sel = [ms for what, ms in kt if what == "select"]
    exp = [ms for what, ms in kt if what == "explain"]
    print(f"  kernel side: showing a cached sample median {med(sel):.2f} ms; what-if predict + explain median "
          f"{med(exp):.1f} ms (the rest is messaging and drawing)")
    k = r["kernel_ms"]
    print(f"  in the kernel: our exact KernelSHAP {k['ours_ms']:.1f} ms; shap KernelExplainer nsamples=4096 "
          f"{k['shap_ms']:.1f} ms; ratio shap/ours {k['shap_ms'] / k['ours_ms']:.1f}x")
    print(f"beeswarm 10,000 x 20 first draw: {r['beeswarm_first_draw_ms']:.1f} ms (goal <= 200 ms); "
          f"state {r['beeswarm_state_bytes'] / 1e6:.2f} MB")
    print(json.dumps(r))


if __name__ == "__main__":
    main()
