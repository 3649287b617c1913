"""Re-running a cell in a real kernel frees the widgets its previous run made.

The test talks to a real ipykernel the way JupyterLab does: ``execute_request`` messages that carry
the cell's id in their metadata (``cellId``). Re-running the Dashboard cell 6 times must leave one
Dashboard alive, a flat count of live widget models and of threads, and must not touch the
widgets another cell made.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

SETUP = """
import gc, threading, numpy as np
from ipywidgets.widgets.widget import _instances
import nbexplain as nbx
X = np.random.default_rng(0).normal(size=(3000, 6))
y = (X[:, 0] > 0).astype(int)
def f(A):
    p = 1 / (1 + np.exp(-np.asarray(A)[:, 0]))
    return np.c_[1 - p, p]
def live():
    gc.collect()
    dash = sum(isinstance(o, nbx.Dashboard) for o in gc.get_objects())
    return {"widgets": len(_instances), "dashboards": dash, "threads": threading.active_count()}
"""
DASHBOARD = "d = nbx.Dashboard(f, X, y, methods=['kernel_shap'], global_samples=20)\nd.select(3)"
OTHER = "keep = nbx.Heatmap(np.ones((4, 4)))"


@pytest.fixture
def kernel(venv_kernel: str) -> Any:
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=venv_kernel)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def run_cell(kc: Any, code: str, cell_id: str) -> str:
    """Send ``code`` as JupyterLab does (``cellId`` in the metadata); return its stdout; raise on error."""
    msg = kc.session.msg("execute_request", {"code": code, "silent": False, "store_history": True,
                                             "user_expressions": {}, "allow_stdin": False,
                                             "stop_on_error": True}, metadata={"cellId": cell_id})
    kc.shell_channel.send(msg)
    out: list[str] = []
    while True:
        m = kc.get_iopub_msg(timeout=120)
        if m["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
            continue
        kind, content = m["msg_type"], m["content"]
        if kind == "stream" and content["name"] == "stdout":
            out.append(content["text"])
        elif kind == "error":
            raise AssertionError(f"{content['ename']}: {content['evalue']}")
        elif kind == "status" and content["execution_state"] == "idle":
            return "".join(out)


def live(kc: Any) -> dict[str, int]:
    text = run_cell(kc, "import json; print(json.dumps(live()))", "count")
    assert text.strip(), "no output"
    return json.loads(text.strip().splitlines()[-1])


@pytest.mark.slow
def test_rerunning_a_cell_frees_the_previous_runs_widgets(kernel: Any) -> None:
    run_cell(kernel, SETUP, "setup")
    run_cell(kernel, OTHER, "other")
    run_cell(kernel, DASHBOARD, "dash")
    first = live(kernel)
    for _ in range(5):
        run_cell(kernel, DASHBOARD, "dash")
    after = live(kernel)
    assert after["dashboards"] == 1, after
    assert after["widgets"] <= first["widgets"], (first, after)
    assert after["threads"] <= first["threads"], (first, after)
    # the other cell's widget is still open and usable
    assert run_cell(kernel, "print(keep.comm is not None)", "check").strip() == "True"


@pytest.mark.slow
def test_switched_off_keeps_every_run(kernel: Any) -> None:
    run_cell(kernel, SETUP + "\nnbx.widgets.set_close_on_rerun(False)", "setup")
    for _ in range(3):
        run_cell(kernel, DASHBOARD, "dash")
    assert live(kernel)["dashboards"] == 3
