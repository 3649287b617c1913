"""filter_samples: exact against a plain Python loop on random data, fast on 100,000 rows."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from nbexplain.diagnostics.browse import SampleFilter, filter_samples, nan_rows, top_class

WORDS = ["good", "Bad", "GREAT", "awful", "fine", "Straße", "ok"]


def _data(n: int = 3000, k: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) * rng.uniform(0.2, 4.0, size=(n, 1))
    P = np.exp(logits - logits.max(1, keepdims=True))
    P = (P / P.sum(1, keepdims=True)).astype(np.float32)
    y = rng.integers(0, k, n)
    texts = [" ".join(rng.choice(WORDS, size=3)) for _ in range(n)]
    nan = rng.random(n) < 0.1
    return P, y, texts, nan


def _loop(P: np.ndarray, y: np.ndarray, texts: list[str], nan: np.ndarray, f: SampleFilter) -> list[int]:
    """The reference: one sample at a time, in plain Python."""
    out = []
    for i in range(len(P)):
        row = [float(v) for v in P[i]]
        pred = max(range(len(row)), key=lambda c: (row[c], -c))  # first maximum, like argmax
        conf = row[pred]
        if f.misclassified and pred == int(y[i]):
            continue
        if f.true_class is not None and int(y[i]) != f.true_class:
            continue
        if f.predicted_class is not None and pred != f.predicted_class:
            continue
        if f.confidence != (0.0, 1.0) and not f.confidence[0] <= conf <= f.confidence[1]:
            continue
        if f.text and f.text.casefold() not in texts[i].casefold():
            continue
        if f.nan_only and not nan[i]:
            continue
        out.append(i)
    return out


FILTERS = [
    SampleFilter(),
    SampleFilter(misclassified=True),
    SampleFilter(true_class=2),
    SampleFilter(predicted_class=0),
    SampleFilter(confidence=(0.5, 0.8)),
    SampleFilter(confidence=(0.0, 0.4)),
    SampleFilter(confidence=(0.9, 1.0)),
    SampleFilter(text="good"),
    SampleFilter(text="STRASSE"),
    SampleFilter(nan_only=True),
    SampleFilter(misclassified=True, true_class=1, predicted_class=3),
    SampleFilter(true_class=3, predicted_class=3),
    SampleFilter(misclassified=True, true_class=3, predicted_class=3),  # empty by definition
    SampleFilter(misclassified=True, confidence=(0.6, 1.0), text="bad", nan_only=True),
    SampleFilter(predicted_class=2, confidence=(0.3, 0.7), text="o"),
]


@pytest.mark.parametrize("f", FILTERS, ids=[repr(f) for f in FILTERS])
def test_matches_a_python_loop(f: SampleFilter) -> None:
    P, y, texts, nan = _data()
    got = filter_samples(P, y, texts=texts, nan_rows=nan, filter=f)
    assert got.dtype == np.int64
    assert got.tolist() == _loop(P, y, texts, nan, f)


def test_every_class_pair_partitions_the_data() -> None:
    P, y, _texts, _nan = _data(n=1000, k=3, seed=1)
    cells = [filter_samples(P, y, filter=SampleFilter(true_class=t, predicted_class=p))
             for t, p in itertools.product(range(3), repeat=2)]
    assert sorted(np.concatenate(cells).tolist()) == list(range(1000))
    wrong = filter_samples(P, y, filter=SampleFilter(misclassified=True))
    assert wrong.tolist() == sorted(np.concatenate([c for (t, p), c in zip(itertools.product(range(3), repeat=2),
                                                                            cells, strict=True) if t != p]).tolist())


def test_confidence_bounds_are_inclusive_and_nan_rows_of_probabilities() -> None:
    P = np.array([[0.5, 0.5], [0.25, 0.75], [np.nan, 0.3], [np.nan, np.nan], [1.0, 0.0]])
    assert top_class(P)[0].tolist() == [0, 1, 1, 0, 0]
    assert filter_samples(P, filter=SampleFilter(confidence=(0.5, 0.75))).tolist() == [0, 1]
    assert filter_samples(P, filter=SampleFilter(confidence=(0.3, 0.3))).tolist() == [2]
    # The full range sets no condition: the all-NaN row stays.
    assert filter_samples(P).tolist() == [0, 1, 2, 3, 4]
    assert filter_samples(P, filter=SampleFilter(confidence=(0.0, 0.99))).tolist() == [0, 1, 2]


def test_nan_rows() -> None:
    X = np.array([[1.0, 2.0], [np.nan, 0.0], [0.0, -np.inf], [3.0, 4.0]])
    assert nan_rows(X).tolist() == [False, True, True, False]
    assert nan_rows(np.zeros((2, 3, 4, 4), np.int64)).tolist() == [False, False]
    images = np.zeros((3, 1, 2, 2), np.float32)
    images[1, 0, 1, 1] = np.nan
    assert nan_rows(images).tolist() == [False, True, False]
    with pytest.raises(ValueError, match="numbers"):
        nan_rows(np.array([["a"], ["b"]]))


def test_errors_name_the_problem_and_the_fix() -> None:
    P, y, _texts, _nan = _data(n=10)
    with pytest.raises(ValueError, match="misclassified filter needs the labels: pass y="):
        filter_samples(P, filter=SampleFilter(misclassified=True))
    with pytest.raises(ValueError, match="true_class filter needs the labels: pass y="):
        filter_samples(P, filter=SampleFilter(true_class=0))
    with pytest.raises(ValueError, match=r"predicted_class=4 is out of range: there are 4 classes \(0..3\)"):
        filter_samples(P, y, filter=SampleFilter(predicted_class=4))
    with pytest.raises(ValueError, match=r"true_class=7 is out of range"):
        filter_samples(P, y, filter=SampleFilter(true_class=7))
    with pytest.raises(ValueError, match="text search needs the samples' texts: pass texts="):
        filter_samples(P, y, filter=SampleFilter(text="x"))
    with pytest.raises(ValueError, match="nan_only filter needs the NaN flags: pass nan_rows="):
        filter_samples(P, y, filter=SampleFilter(nan_only=True))
    with pytest.raises(ValueError, match=r"y must hold one label per sample \(10\)"):
        filter_samples(P, y[:5])
    with pytest.raises(ValueError, match=r"y must hold class indices 0..3"):
        filter_samples(P, y + 4)
    with pytest.raises(ValueError, match="texts has 2 entries but probabilities has 10 samples"):
        filter_samples(P, texts=["a", "b"], filter=SampleFilter(text="a"))
    with pytest.raises(ValueError, match=r"probabilities must be \(n, K\)"):
        filter_samples(np.zeros(5))
    with pytest.raises(ValueError, match="class index"):
        SampleFilter(true_class=-1)
    with pytest.raises(ValueError, match="0 <= low <= high <= 1"):
        SampleFilter(confidence=(0.2, 1.5))
    with pytest.raises(TypeError, match=r"unknown filter field.*'colour'"):
        SampleFilter().replace(colour=1)
    with pytest.raises(TypeError, match="filter must be a SampleFilter"):
        filter_samples(P, filter={"misclassified": True})  # type: ignore[arg-type]


def test_fast_on_100000_rows() -> None:
    P, y, _t, _n = _data(n=100_000, k=10, seed=2)
    f = SampleFilter(misclassified=True, true_class=3, confidence=(0.2, 0.9))
    best = min(_timed(lambda: filter_samples(P, y, filter=f)) for _ in range(5))
    assert best < 0.030, f"filter_samples took {best * 1e3:.1f} ms on 100,000 x 10"
    got = filter_samples(P, y, filter=f)
    pred = P.argmax(1)
    conf = P.max(1).astype(np.float64)
    want = np.flatnonzero((pred != y) & (y == 3) & (conf >= 0.2) & (conf <= 0.9))
    assert np.array_equal(got, want)


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def test_a_sample_without_prediction_is_not_misclassified() -> None:
    P = np.array([[0.9, 0.1], [np.nan, np.nan], [0.2, 0.8]])
    assert filter_samples(P, [1, 1, 1], filter=SampleFilter(misclassified=True)).tolist() == [0]
