"""Soak tests: nothing leaks over a notebook session (issue 10 §4).

Re-running a cell builds a new Dashboard and drops (or closes) the old one; explainers are
re-created; what-if sliders are moved many times. Each test repeats the action and then checks
that worker threads are gone, that closed or dropped widgets are freed (a ``weakref`` to them is
dead after ``gc.collect()``), that ipywidgets' registry of live widgets is flat and that resident
memory grew by less than 1 MB per closed dashboard. Reduced sizes: the file runs in well under a
minute on two cores, and every check fails on the leaks the issue measured.
"""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

import ipywidgets
import numpy as np
import pytest
import torch
from ipywidgets.widgets.widget import _instances
from torch_models import mlp

from nbexplain.explainers.perturbation.kernel_shap import KernelShap
from nbexplain.explainers.registry import get_explainer
from nbexplain.tasks import TaskRunner
from nbexplain.widgets import _base
from nbexplain.widgets._base import close_tree, widget_closure
from nbexplain.widgets.dashboard import Dashboard
from nbexplain.widgets.views.feature_bars import FeatureBars

N_ROWS, N_FEATURES = 20_000, 8  # the table size: a leaked dashboard holds ~1.8 MB of it
MB = 1024 * 1024


def _proba(X: np.ndarray) -> np.ndarray:
    z = 1.2 * X[:, 0] - X[:, 1] + 0.3 * X[:, 2] * X[:, 3]
    p = 1 / (1 + np.exp(-z))
    return np.c_[1 - p, p]


@pytest.fixture(scope="module")
def table() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(7).normal(size=(N_ROWS, N_FEATURES))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    y[:50] = 1 - y[:50]
    return X, y


def _rss() -> int:
    """Resident memory of this process in bytes (``VmRSS``)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _settle(baseline: int, timeout: float = 8.0) -> int:
    """Collect garbage until at most ``baseline`` threads are alive (or ``timeout`` s passed)."""
    deadline = time.monotonic() + timeout
    while True:
        gc.collect()
        n = threading.active_count()
        if n <= baseline or time.monotonic() > deadline:
            return n
        time.sleep(0.05)


def _dashboard(table: tuple[np.ndarray, np.ndarray], **kwargs: Any) -> Dashboard:
    X, y = table
    return Dashboard(_proba, X, y, methods=["kernel_shap"], feature_names=[f"f{i}" for i in range(N_FEATURES)],
                     class_names=["no", "yes"], **kwargs)


def _repeat(n: int, make: Callable[[], Any], finish: Callable[[Any], None]) -> list[weakref.ref[Any]]:
    refs = []
    for _ in range(n):
        obj = make()
        refs.append(weakref.ref(obj))
        finish(obj)
        del obj
    return refs


def test_bundle_is_text_shared_by_every_widget(nbx_bundle: Any) -> None:
    """anywidget keeps Path-based widgets alive (manzt/anywidget#929): the stub goes as text."""
    from nbexplain.widgets import Heatmap, _bundle
    from nbexplain.widgets._bundle import front_end

    a, b = Heatmap(np.zeros((2, 2))), Heatmap(np.ones((2, 2)))
    try:
        assert isinstance(_base.NbxWidget._esm, str)
        assert a._esm is b._esm and "\n" in a._esm  # read once; never mistaken for a file path
        assert front_end() is front_end() and isinstance(_bundle.FrontEnd._esm, str) and isinstance(_bundle.FrontEnd._css, str)
    finally:
        a.close()
        b.close()
    ref = weakref.ref(a)
    del a, b
    gc.collect()
    assert ref() is None, "a closed widget is still alive"


def test_closed_dashboards_are_freed(table: tuple[np.ndarray, np.ndarray], nbx_bundle: Any) -> None:
    """20 dashboards built (worker thread), used and closed: threads, registry and memory stay flat."""
    def use_and_close(d: Dashboard) -> None:
        d.select(3)
        d.methods = ["kernel_shap", "lime_batched"]
        assert d.wait(60)
        d.close()

    use_and_close(_dashboard(table))  # warm-up: imports, caches, the allocator's first arenas
    threads, widgets = _settle(threading.active_count()), len(_instances)
    rss = _rss()
    n = 20
    refs = _repeat(n, lambda: _dashboard(table), use_and_close)
    assert _settle(threads) <= threads, f"{threading.active_count() - threads} worker threads left alive"
    alive = sum(r() is not None for r in refs)
    assert alive == 0, f"{alive} of {n} closed dashboards are still alive"
    assert len(_instances) == widgets, f"{len(_instances) - widgets} widgets left in ipywidgets' registry"
    grown = _rss() - rss
    assert grown < n * MB, f"resident memory grew {grown / MB:.1f} MB over {n} closed dashboards"


def test_close_stops_a_running_worker_and_is_idempotent(table: tuple[np.ndarray, np.ndarray],
                                                        nbx_bundle: Any) -> None:
    threads = _settle(threading.active_count())
    d = _dashboard(table)
    finished = threading.Event()

    def slow(control: Any) -> None:
        for _ in range(1000):
            control.check()
            time.sleep(0.01)
        finished.set()

    d.runner.submit(slow, label="slow")
    d.close()
    d.close()
    assert d.runner.closed and not d.runner.busy and not finished.is_set()
    assert d.comm is None and d.compare.comm is None and d.layout.comm is None
    ref = weakref.ref(d)
    del d
    assert _settle(threads) <= threads and ref() is None


def test_dropped_dashboards_end_their_workers(table: tuple[np.ndarray, np.ndarray], nbx_bundle: Any) -> None:
    """A dashboard dropped without close() (a re-run cell) leaves no thread behind, and nothing but
    ipywidgets' own registry refers to it: once ipywidgets closes its models it is freed."""
    threads = _settle(threading.active_count())
    dropped = []
    for _ in range(10):
        d = _dashboard(table)
        d.select(5)
        assert d.wait(60)
        dropped.append(d)
    assert _settle(threads) <= threads, "idle workers of dropped dashboards are still alive"
    trees = [widget_closure([d]) for d in dropped]
    refs = [weakref.ref(d) for d in dropped]
    for tree in trees:  # what Widget.close_all() or the front end does: plain ipywidgets close
        for w in tree:
            ipywidgets.Widget.close(w)
    del dropped, trees, tree, w, d
    gc.collect()
    alive = sum(r() is not None for r in refs)
    assert alive == 0, f"{alive} of 10 dropped dashboards are kept alive by something else than ipywidgets"


def test_runner_is_freed_while_its_worker_idles() -> None:
    threads = _settle(threading.active_count())
    runners = []
    for _ in range(30):
        r = TaskRunner(idle_timeout=30.0)  # the worker would wait long: only the runner's end stops it
        r.submit(lambda ctl: None).wait(5)
        runners.append(weakref.ref(r))
        del r
    gc.collect()
    assert all(r() is None for r in runners), "an idle worker thread keeps its runner alive"
    assert _settle(threads, timeout=5.0) <= threads, "a worker whose runner is gone still waits"


def test_idle_worker_ends_and_the_next_task_starts_a_new_one() -> None:
    threads = _settle(threading.active_count())
    r = TaskRunner(idle_timeout=0.1)
    try:
        assert r.submit(lambda ctl: 1).wait(5)
        assert _settle(threads, timeout=3.0) <= threads and r._thread is None
        task = r.submit(lambda ctl: 2)
        assert task.wait(5) and task.result == 2 and r.state["task"] == 2
    finally:
        r.close()
    with pytest.raises(ValueError, match="idle_timeout"):
        TaskRunner(idle_timeout=0)


def test_explainers_recreated_leave_nothing_behind() -> None:
    """100 explainer re-creations on one torch model: no hooks, no threads, no live explainers."""
    model = mlp(n_in=6, n_out=3)
    X = torch.randn(8, 6)
    names = ["saliency", "integrated_gradients", "deeplift", "gradient_x_input", "kernel_shap"]
    threads = _settle(threading.active_count())
    refs = []
    for i in range(100):
        name = names[i % len(names)]
        explainer = get_explainer(name, model, data=X.numpy() if name == "kernel_shap" else None)
        explainer.explain(X[:2], target=0)
        refs.append(weakref.ref(explainer))
        del explainer
    gc.collect()
    assert sum(r() is not None for r in refs) == 0
    for m in model.modules():
        assert not (m._forward_hooks or m._forward_pre_hooks or m._backward_hooks), f"hook left on {m}"
    assert _settle(threads) <= threads


def test_what_if_edits_keep_widgets_and_memory_flat(table: tuple[np.ndarray, np.ndarray], nbx_bundle: Any) -> None:
    """100 slider moves on FeatureBars.what_if and 100 on a Dashboard: no new widgets, flat heap."""
    import sys

    X, _ = table
    bars = FeatureBars.what_if(_proba, X[0], data=X[:500], explainer=KernelShap(_proba, X[:20]))
    d = _dashboard(table, sync=True)
    d.select(2)
    view = d.compare.views["kernel_shap"]
    rng = np.random.default_rng(0)

    def edit(n: int) -> None:
        for _ in range(n):
            bars.sample = X[0] + rng.normal(size=N_FEATURES)
            view.sample = X[2] + rng.normal(size=N_FEATURES)

    d.timings = deque(d.timings, maxlen=10)  # bounded by design (200); kept full, its growth is not a leak
    edit(100)  # warm-up: bounded caches (explainers, traitlets, numpy) fill over the first edits
    gc.collect()
    widgets, threads, blocks, rss = len(_instances), _settle(threading.active_count()), sys.getallocatedblocks(), _rss()
    edit(100)
    gc.collect()
    assert bars.error == "" and d.compare.views["kernel_shap"] is view
    assert len(_instances) == widgets and threading.active_count() <= threads
    grown = sys.getallocatedblocks() - blocks  # Python objects kept: a leaked explanation is dozens
    assert grown < 1000, f"200 what-if edits keep {grown} more Python objects"
    assert _rss() - rss < 4 * MB, f"200 what-if edits grew resident memory by {(_rss() - rss) / MB:.1f} MB"
    close_tree(bars, d)


def test_dashboard_widget_count_is_flat_over_switches(table: tuple[np.ndarray, np.ndarray], nbx_bundle: Any) -> None:
    """50 sample switches and method changes: replaced views are closed, nothing accumulates."""
    d = _dashboard(table, sync=True, global_samples=60)
    d.compute_global()
    methods = (["kernel_shap", "lime_batched"], ["kernel_shap"], ["lime_batched", "kernel_shap"])

    def cycle(i: int) -> None:
        d.select(i % 200)
        d.methods = methods[i % len(methods)]

    for i in range(len(methods)):
        cycle(i)
    tree, registry = len(widget_closure([d])), len(_instances)
    for i in range(50):
        cycle(i)
    d.methods = methods[len(methods) - 1]
    assert all(w.comm is not None for w in widget_closure([d])), "a widget still shown was closed"
    assert len(widget_closure([d])) == tree, "the dashboard's widget tree grew"
    assert len(_instances) == registry, f"{len(_instances) - registry} orphaned widgets in the registry"
    d.close()


def test_other_composites_close_everything_they_made(table: tuple[np.ndarray, np.ndarray], nbx_bundle: Any) -> None:
    """SampleExplorer, CompareView, the global views and ModelAnatomy: close() leaves no widget."""
    from torch_models import small_cnn

    from nbexplain.widgets import ModelAnatomy, SampleExplorer
    from nbexplain.widgets.explore.compare_view import CompareView
    from nbexplain.widgets.overview import ImportanceBars

    X, y = table

    def build() -> list[Any]:
        explorer = SampleExplorer(_proba, X[:300], y[:300], method=KernelShap(_proba, X[:10]))
        explorer.index = 4
        compare = CompareView("table")
        for names in (["a", "b"], ["a"], ["a", "b", "c"]):
            compare.set_methods(names)
        bars = ImportanceBars(np.abs(X[:50]), [f"f{i}" for i in range(N_FEATURES)])
        anatomy = ModelAnatomy(small_cnn(n_out=3), torch.randn(2, 1, 8, 8), y=torch.tensor([0, 2]))
        for tab in range(len(anatomy.inspector.tabs.children)):  # every tab builds its charts
            anatomy.inspector.tabs.selected_index = tab
        anatomy.inspector.show_layer(anatomy.inspector.layer_picker.options[-1][1])
        return [explorer, compare, bars, anatomy]

    for w in build():  # warm-up: bqplot's and torch.fx's first imports
        w.close()
    widgets = len(_instances)
    refs = []
    for _ in range(3):
        parts = build()
        refs += [weakref.ref(w) for w in parts]
        for w in parts:
            w.close()
        del parts, w
    gc.collect()
    assert len(_instances) == widgets, f"{len(_instances) - widgets} widgets left open"
    assert sum(r() is not None for r in refs) == 0, "a closed composite is still alive"
