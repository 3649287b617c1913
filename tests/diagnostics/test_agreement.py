"""Agreement of attribution methods: Spearman (checked against scipy), top-k overlap, NaN and constants."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from nbexplain.diagnostics.agreement import (
    AgreementReport,
    agreement,
    average_ranks,
    rank_correlation,
    spearman,
    top_k_overlap,
)


def test_average_ranks_match_scipy_with_ties() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, size=40).astype(float)  # many ties
    np.testing.assert_array_equal(average_ranks(x), stats.rankdata(x))


@pytest.mark.parametrize("seed", range(5))
def test_rank_correlation_equals_scipy_spearman(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(3, 6, 6))
    b = a + rng.normal(scale=1.5, size=a.shape)
    b[0, 0, :3] = b[0, 0, 0]  # ties
    expected = stats.spearmanr(a.reshape(-1), b.reshape(-1)).statistic
    assert rank_correlation(a, b) == pytest.approx(expected, abs=1e-12)


def test_rank_correlation_exact_values_and_torch_input() -> None:
    assert rank_correlation([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
    assert rank_correlation([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    # d = [0, 1, -1, 0]: rho = 1 - 6 * 2 / (4 * 15) = 0.8
    assert rank_correlation(torch.tensor([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 2.0, 4.0])) == pytest.approx(0.8)


def test_nan_pairs_are_dropped() -> None:
    a = np.array([1.0, np.nan, 3.0, 2.0, 5.0])
    b = np.array([2.0, 9.0, np.nan, 1.0, 7.0])
    keep = [0, 3, 4]
    expected = stats.spearmanr(a[keep], b[keep]).statistic
    assert rank_correlation(a, b) == pytest.approx(expected)


def test_constant_vector_gives_nan_with_reason() -> None:
    rho, why = spearman(np.zeros(5), np.arange(5.0))
    assert np.isnan(rho)
    assert "a is constant" in why
    rho, why = spearman([1.0, np.nan], [2.0, 3.0])
    assert np.isnan(rho) and "only 1 value pair" in why


def test_reduce_channels_sums_the_first_axis() -> None:
    a = np.stack([np.arange(4.0).reshape(2, 2), np.ones((2, 2))])  # sum: [[1,2],[3,4]]
    b = np.array([[4.0, 3.0], [2.0, 1.0]])
    assert rank_correlation(a, b, reduce_channels=True) == -1.0
    with pytest.raises(ValueError, match="reduce_channels=True"):
        rank_correlation(a, b)


def test_top_k_overlap_by_magnitude() -> None:
    a = np.array([5.0, -4.0, 0.1, 3.0, 0.0])  # top-3 by |a|: {0, 1, 3}
    b = np.array([-0.2, 6.0, -5.0, 1.0, 2.0])  # top-3 by |b|: {1, 2, 4}
    assert top_k_overlap(a, b, k=3) == 1
    assert top_k_overlap(a, b, k=5) == 5
    assert top_k_overlap(a, b, k=50) == 5  # clipped to the number of values
    assert top_k_overlap([np.nan, 1.0, 2.0], [0.5, 1.0, 2.0], k=2) == 2  # NaN never in the top
    with pytest.raises(ValueError, match="k must be at least 1"):
        top_k_overlap(a, b, k=0)


def test_agreement_report_matrices_and_summary() -> None:
    values = {
        "sal": np.array([1.0, 2.0, 3.0, 4.0]),
        "ig": np.array([1.0, 3.0, 2.0, 4.0]),
        "flat": np.zeros(4),
    }
    r = agreement(values, k=2)
    assert isinstance(r, AgreementReport)
    assert r.methods == ["sal", "ig", "flat"]
    assert r.correlation[0, 1] == pytest.approx(0.8)
    assert np.isnan(r.correlation[0, 2]) and np.isnan(r.correlation[1, 2])
    # top-2: sal {3, 2}, ig {3, 1}, flat {0, 1} (all ties -> lowest indices)
    np.testing.assert_array_equal(r.overlap, [[2, 1, 0], [1, 2, 1], [0, 1, 2]])
    assert r.summary() == [
        "sal vs ig: rank corr 0.80, top-2 overlap 1/2",
        "sal vs flat: rank corr n/a (flat is constant (all 4 values equal): no ranking to correlate), top-2 overlap 0/2",
        "ig vs flat: rank corr n/a (flat is constant (all 4 values equal): no ranking to correlate), top-2 overlap 1/2",
    ]


def test_agreement_bad_input_names_the_problem() -> None:
    with pytest.raises(ValueError, match="non-empty dict"):
        agreement({})
    with pytest.raises(ValueError, match="differ in size"):
        agreement({"a": np.zeros(3), "b": np.zeros(4)})
    with pytest.raises(TypeError, match="must hold numbers"):
        agreement({"a": ["x", "y"], "b": [1.0, 2.0]})
