"""KernelSHAP, adaptive against fixed budget: model evaluations and time at equal error, in one process.

Run: ``.venv/bin/python benchmarks/bench_kernel_shap_adaptive.py`` (``--quick``: fewer rows).

Method:

- 20 features; two models whose exact Shapley values are known:
  **product**: ``w.x`` plus 6 products of three features and 3 of four (coefficients 0.3 / 0.15),
  16 background rows, 100 explained rows; exact values analytic (unanimity decomposition, checked
  against enumeration in tests/explainers/perturbation/test_uncertainty.py);
  **mlp**: bench_agnostic's torch MLP (``20 -> 64 -> 64 -> 1``, tanh, torch's default init,
  seed 0), 10 background rows, 8 explained rows; exact values by our exact mode (all 2**20
  coalitions x 10 background rows per row, about 6 s a row here); then the same MLP timed at
  bench_agnostic's cost (100 background rows, 30 rows), where the model evaluations dominate;
- **adaptive**: ``KernelShap(model, bg)`` with its defaults (``n_samples="auto"``, ``tol=0.01``:
  every standard error within ``tol / 3.02`` of the row's largest ``|value|``);
- **fixed**: ``n_samples`` = today's former default ``2*M + 2048 = 2088``, and the smallest
  budget on a grid (x 1.25 steps) whose error is at most the adaptive run's ("equal error");
- **error**: per row the largest ``|value - exact|`` over the features relative to the row's
  largest ``|exact|``; the worst row and the mean over rows are printed;
- **coalitions**: distinct coalitions evaluated, summed over the rows (each one is ``background``
  model rows); **time**: wall clock of ``explain`` on all rows (``time.perf_counter``), the median
  of 3 runs, in the same process, seed 0 everywhere.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nbexplain.explainers.perturbation.kernel_shap import KernelShap

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "explainers" / "perturbation"))
from test_uncertainty import product_model  # the analytic model of the tests

F = 20
DEFAULT = 2 * F + 2048


def rel_error(values: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per row: max |values - truth| / max |truth|."""
    return np.abs(values - truth).max(1) / np.abs(truth).max(1)


def run(model: Any, bg: np.ndarray, X: np.ndarray, repeats: int = 3, **kw: Any) -> tuple[float, Any]:
    """Median time of ``KernelShap(model, bg, **kw).explain(X, target=0)`` and its result."""
    ex = KernelShap(model, bg, **kw)
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a row at the cap is reported in the table
            out = ex.explain(X, target=0)
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def section(name: str, model: Any, bg: np.ndarray, X: np.ndarray, truth: np.ndarray) -> int | None:
    n = len(X)
    print(f"\n== {name}: {n} rows, {len(bg)} background rows, {F} features")
    t_a, a = run(model, bg, X)
    err_a, used = rel_error(a.values, truth), a.diagnostics["coalitions"]
    rows = [("adaptive (n_samples='auto', tol=0.01)", t_a, int(used.sum()), err_a)]
    t_d, d = run(model, bg, X, n_samples=DEFAULT)
    rows.append((f"fixed n_samples={DEFAULT} (former default)", t_d, int(d.diagnostics["coalitions"].sum()),
                 rel_error(d.values, truth)))
    budget, matched = 512, None
    while budget <= 16 * DEFAULT:
        _, e = run(model, bg, X, repeats=1, n_samples=budget)
        if rel_error(e.values, truth).max() <= err_a.max():
            matched = budget
            break
        budget = int(budget * 1.25)
    if matched is not None:
        t_m, m = run(model, bg, X, n_samples=matched)
        rows.append((f"fixed n_samples={matched} (equal worst error)", t_m, int(m.diagnostics["coalitions"].sum()),
                     rel_error(m.values, truth)))
    print(f"{'run':44s} {'coalitions':>10s} {'model rows':>11s} {'time s':>7s} {'worst err':>9s} {'mean err':>8s}")
    for label, t, c, err in rows:
        print(f"{label:44s} {c:10d} {c * len(bg):11d} {t:7.2f} {err.max():9.2%} {err.mean():8.2%}")
    print(f"adaptive per row: coalitions min {used.min()} median {int(np.median(used))} max {used.max()}; "
          f"converged {int(a.diagnostics['converged'].sum())}/{n}; rows <= 1% error {(err_a <= 0.01).sum()}/{n}")
    if matched is not None:
        c_m = rows[-1][2]
        print(f"at equal worst error ({err_a.max():.2%}): {c_m / rows[0][2]:.2f}x the coalitions and "
              f"{rows[-1][1] / t_a:.2f}x the time for the fixed budget")
    else:
        print(f"no fixed budget up to {16 * DEFAULT} reached the adaptive run's worst error {err_a.max():.2%}")
    print(f"vs the former default: {rows[0][2] / rows[1][2]:.2f}x the coalitions, {t_a / t_d:.2f}x the time")
    return matched


def timing_section(model: Any, bg: np.ndarray, X: np.ndarray, matched: int | None) -> None:
    """Time at a realistic model cost (bench_agnostic's 100 background rows), no truth: coalitions and time."""
    print(f"\n== torch MLP at bench_agnostic's cost: {len(X)} rows, {len(bg)} background rows (no exact truth here)")
    runs = [("adaptive (n_samples='auto', tol=0.01)", {}), (f"fixed n_samples={DEFAULT} (former default)",
                                                          {"n_samples": DEFAULT})]
    if matched is not None:
        runs.append((f"fixed n_samples={matched} (the MLP's equal-error budget)", {"n_samples": matched}))
    print(f"{'run':52s} {'coalitions':>10s} {'model rows':>11s} {'time s':>7s}")
    base = None
    for label, kw in runs:
        t, e = run(model, bg, X, **kw)
        c = int(e.diagnostics["coalitions"].sum())
        base = base or t
        print(f"{label:52s} {c:10d} {c * len(bg):11d} {t:7.2f}  ({t / base:.2f}x the adaptive time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rows (30 product, 3 mlp)")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(f"torch {torch.__version__}, CPU threads {torch.get_num_threads()}")

    f, bg, X, truth = product_model(7, n_rows=30 if args.quick else 100)
    section("product model (exact values analytic)", f, bg, X, truth)

    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(F, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(),
                              torch.nn.Linear(64, 1)).eval()
    rng = np.random.default_rng(0)
    bg, X = rng.normal(size=(10, F)).astype(np.float32), rng.normal(size=(3 if args.quick else 8, F)).astype(np.float32)
    t = time.perf_counter()
    exact = KernelShap(mlp, bg, exact_max_features=20).explain(X, target=0)
    print(f"\n(mlp truth: exact enumeration of 2^20 coalitions, {time.perf_counter() - t:.0f} s for {len(X)} rows)")
    matched = section("torch MLP (exact values by enumeration)", mlp, bg, X, exact.values)
    bg100, X100 = _normal(100, 0), _normal(10 if args.quick else 30, 1)
    timing_section(mlp, bg100, X100, matched)


def _normal(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, F)).astype(np.float32)


if __name__ == "__main__":
    main()
