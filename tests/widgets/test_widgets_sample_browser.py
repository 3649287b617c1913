"""SampleTable (one page on the wire, paging, selection, events) and SampleBrowser (filters, stepper)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import traitlets

from nbexplain.codec import decode_array
from nbexplain.diagnostics.browse import SampleFilter, filter_samples
from nbexplain.widgets.explore.sample_browser import SampleBrowser
from nbexplain.widgets.views.sample_table import SampleTable

pytestmark = pytest.mark.usefixtures("nbx_bundle")

N, K, F = 100_000, 5, 6


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, F))
    X[::1000, 1] = np.nan
    logits = np.nan_to_num(X) @ rng.normal(size=(F, K))
    P = np.exp(logits - logits.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    return {"P": P, "y": rng.integers(0, K, N), "X": X}


def _event(w: SampleTable, **msg: Any) -> None:
    """What the browser's sendEvent delivers."""
    w._dispatch_event(w, msg, [])


def test_only_one_page_crosses_the_wire(data: dict[str, Any], recorded: None) -> None:
    t = SampleTable(data["P"], data["y"], X=data["X"], page_size=20)
    state = t.get_state()
    values = decode_array(state["values"])
    assert values.shape == (20, 1 + F)
    for name in t.keys:
        value = state.get(name)
        if isinstance(value, dict) and "shape" in value:
            assert value["shape"][0] <= 20, name
        elif isinstance(value, list):
            assert len(value) <= 2 * 20, name
    # Everything sent so far (open and first state) is one page of binary: under a kB, not MB.
    size = sum(len(bytes(b)) for m in t.comm.messages for b in m["buffers"])
    assert 20 * (1 + F) * 4 <= size < 1024, size
    # The numbers are exact float32 of the kernel's: confidence then the features.
    assert np.array_equal(decode_array(state["indices"]), np.arange(20))
    np.testing.assert_array_equal(values[:, 0], data["P"][:20].max(1).astype(np.float32))
    np.testing.assert_array_equal(values[:, 1:], data["X"][:20].astype(np.float32))
    assert t.columns == ["confidence", *(f"feature {i}" for i in range(F))]
    assert decode_array(state["nan_flags"]).tolist() == [1.0] + [0.0] * 19


def test_paging_events_and_labels(data: dict[str, Any]) -> None:
    names = ["a", "<b>b</b>", "c", "d", "e"]
    t = SampleTable(data["P"], data["y"], class_names=names, page_size=10)
    assert t.n_pages == 10_000 and t.total == N
    _event(t, event="page", page=3)
    assert t.page == 3 and t.indices.tolist() == list(range(30, 40))
    pred = data["P"].argmax(1)
    want = [s for i in range(30, 40) for s in (names[data["y"][i]], names[pred[i]])]
    assert t.labels == want
    _event(t, event="page", page=10**9)  # clamped to the last page
    assert t.page == 9999 and t.indices.tolist() == list(range(99_990, 100_000))
    _event(t, event="page", page=-5)
    assert t.page == 0
    t.show([5, 17, 99_999])
    assert t.total == 3 and t.indices.tolist() == [5, 17, 99_999] and t.values.shape == (3, 1)
    t.show([])
    assert t.total == 0 and t.indices.tolist() == [] and t.values.shape == (0, 1) and t.n_pages == 1
    with pytest.raises(ValueError, match=r"outside 0\.\.99999"):
        t.show([N])


def test_selection_steps_and_turns_pages(data: dict[str, Any]) -> None:
    t = SampleTable(data["P"], data["y"], page_size=10)
    _event(t, event="select", index=4)
    assert t.selected == 4 and t.page == 0
    order = np.arange(0, N, 3)
    t.show(order)  # 4 is not in it: page 0
    assert t.page == 0
    assert t.step(1) == 6  # the next one after 4
    assert t.step(-1) == 3
    t.selected = 27  # the 10th of the order: still page 0
    _event(t, event="step", delta=1)
    assert t.selected == 30 and t.page == 1  # the keyboard past the page's edge
    t.selected = 3 * 55
    assert t.page == 5  # a selection elsewhere shows its page
    t.page = 0
    t.show(order)  # the selection is in the new order: show its page
    assert t.page == 5
    t.selected = order[-1]
    assert t.step(1) == order[-1]  # stays at the end
    with pytest.raises(traitlets.TraitError, match="selected=100000 is out of range"):
        t.selected = N


def test_text_snippets_and_errors() -> None:
    P = np.array([[0.9, 0.1], [0.2, 0.8]])
    long = "word " * 100
    t = SampleTable(P, texts=["<script>alert(1)</script>  two\nlines", long])
    assert t.snippets[0] == "<script>alert(1)</script> two lines"
    assert len(t.snippets[1]) == 160 and t.snippets[1].endswith("\u2026")
    assert t.labels == ["", "class 0", "", "class 1"] and t.columns == ["confidence"]
    with pytest.raises(ValueError, match="class_names has 3 names but probabilities has 2 columns"):
        SampleTable(P, class_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="texts has 1 entries"):
        SampleTable(P, texts=["a"])
    with pytest.raises(ValueError, match="feature_names has 1 names but X has 2 columns"):
        SampleTable(P, X=np.zeros((2, 2)), feature_names=["a"])
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        SampleTable(P, colour="red")


def test_browser_filters_keep_controls_and_selection_in_sync(data: dict[str, Any]) -> None:
    P, y, X = data["P"], data["y"], data["X"]
    b = SampleBrowser(P, y, X=X, class_names=list("abcde"), page_size=15)
    assert b.selected == 0 and b.count.value == f"{N} of {N} samples"
    assert b.nan_only.layout.display == "" and b.search.layout.display == "none"
    b.set_filter(true_class=2, predicted_class=4)  # a confusion-matrix click
    want = filter_samples(P, y, filter=SampleFilter(true_class=2, predicted_class=4))
    assert np.array_equal(b.indices, want)
    assert b.selected == want[0] and b.table.total == len(want)
    assert (b.true_class.value, b.predicted_class.value) == (2, 4)
    assert b.count.value == f"{len(want)} of {N} samples"
    assert b.table.indices.tolist() == want[:15].tolist()
    # The stepper walks the filtered set and turns the page.
    for _ in range(15):
        b.next_button.click()
    assert b.selected == want[15] and b.table.page == 1
    assert b.step_info.value == f"sample {want[15]} (16 of {len(want)})"
    b.prev_button.click()
    assert b.selected == want[14] and b.table.page == 0
    # A control change (as from the browser) becomes the filter; the selection stays if it matches.
    keep = b.selected
    b.misclassified.value = True
    assert b.filter == SampleFilter(misclassified=True, true_class=2, predicted_class=4)
    assert b.selected == keep
    # A filter that drops the selection selects the first match.
    b.confidence.value = (0.9, 1.0)
    want = filter_samples(P, y, filter=b.filter)
    assert b.filter.confidence == (0.9, 1.0)
    assert np.array_equal(b.indices, want) and b.selected == (want[0] if len(want) else -1)
    b.set_filter(nan_only=True, confidence=(0.0, 0.01))  # nothing matches
    assert b.indices.tolist() == [] and b.selected == -1 and b.count.value == f"0 of {N} samples"
    assert b.prev_button.disabled and b.next_button.disabled and b.table.total == 0
    b.clear_filter()
    assert not b.misclassified.value and b.true_class.value == -1 and b.confidence.value == (0.0, 1.0)
    assert len(b.indices) == N and b.selected == 0
    with pytest.raises(ValueError, match="predicted_class=5 is out of range"):
        b.set_filter(predicted_class=5)
    assert b.filter == SampleFilter() and b.predicted_class.value == -1  # nothing changed
    b.set_filter(nan_only=True)
    assert np.array_equal(b.indices, np.arange(0, N, 1000))


def test_browser_text_search_and_no_labels() -> None:
    texts = ["A good film", "bad acting", "GOOD enough", "fine"]
    P = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    b = SampleBrowser(P, texts=texts)
    assert b.misclassified.disabled and b.true_class.disabled and b.search.layout.display == ""
    b.search.value = "Good"
    assert b.indices.tolist() == [0, 2] and b.filter.text == "Good"
    assert b.table.snippets == ["A good film", "GOOD enough"]
    b.set_filter(text="ACT")
    assert b.search.value == "ACT" and b.indices.tolist() == [1] and b.selected == 1
    with pytest.raises(ValueError, match="misclassified filter needs the labels"):
        b.set_filter(misclassified=True)


def test_goto_box_selects_any_sample_and_clears_a_filter_that_hides_it(data: dict[str, Any]) -> None:
    P, y, X = data["P"], data["y"], data["X"]
    b = SampleBrowser(P, y, X=X, class_names=list("abcde"), page_size=15, stepper=False)
    assert b.stepper is None and b.prev_button is None  # one navigation: the table's pager
    assert b.children[-1] is b.table
    b.set_filter(misclassified=True)
    hidden = int(np.setdiff1d(np.arange(N), b.indices)[0])
    inside = int(b.indices[40])
    t = b.table
    t._dispatch_event(t, {"event": "goto", "index": inside}, [])  # what the pager's box sends
    assert b.selected == inside and b.filter.misclassified and t.page == 40 // 15
    assert b.select(hidden) == hidden  # the same from Python
    assert b.selected == hidden and b.filter == SampleFilter() and t.page == hidden // 15
    t._dispatch_event(t, {"event": "goto", "index": N}, [])
    assert "out of range" in t.error and b.selected == hidden
    t._dispatch_event(t, {"event": "goto", "index": 3}, [])
    assert t.error == "" and b.selected == 3
    alone = SampleTable(P, y)  # a table on its own cannot clear a filter: it says so
    alone.show(np.arange(10))
    with pytest.raises(ValueError, match="not among the 10 rows"):
        alone.goto(50)
    assert alone.goto(7) == 7 and alone.selected == 7
