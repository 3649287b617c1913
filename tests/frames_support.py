"""Shared data and models for the DataFrame tests (tests/models/test_frames*.py): built in well under a second.

A breast-cancer frame cut to a few numeric columns, plus a string column derived from one of them
(with missing values), a pandas categorical, an integer column and missing numeric values; and a
scikit-learn Pipeline (imputers, scaler, one-hot encoder, logistic regression) fitted on it.
"""

from __future__ import annotations

from itertools import combinations
from math import factorial
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_breast_cancer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = ["mean radius", "mean texture"]
CATEGORICAL = ["size", "grade"]


def frame(n: int = 240, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """``(df, y)``: two numeric columns (texture with NaN), ``size`` (strings, None), ``grade``
    (categorical), ``visits`` (int64)."""
    d = load_breast_cancer(as_frame=True)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(d.frame), size=n, replace=False)
    df = d.frame.iloc[rows][NUMERIC].reset_index(drop=True)
    y = d.target.to_numpy()[rows]
    r = df["mean radius"].to_numpy()
    size = np.where(r > 15, "large", np.where(r > 12, "medium", "small")).astype(object)
    size[rng.random(n) < 0.1] = None
    df["size"] = pd.Series(size, dtype=object)
    df["grade"] = pd.Categorical(rng.choice(["I", "II", "III"], n), categories=["I", "II", "III"])
    df["visits"] = rng.integers(0, 5, n).astype(np.int64)
    df.loc[rng.random(n) < 0.1, "mean texture"] = np.nan
    return df, y


def pipeline(df: pd.DataFrame, y: np.ndarray) -> Any:
    """A Pipeline with a ColumnTransformer (imputers, scaler, one-hot) and a logistic regression."""
    pre = make_column_transformer(
        (make_pipeline(SimpleImputer(), StandardScaler()), [*NUMERIC, "visits"]),
        (make_pipeline(SimpleImputer(strategy="constant", fill_value="none"), OneHotEncoder(handle_unknown="ignore")),
         CATEGORICAL),
    )
    return make_pipeline(pre, LogisticRegression(max_iter=1000)).fit(df, y)


def exact_shapley(f: Any, x: pd.DataFrame, background: pd.DataFrame, link: Any = None) -> np.ndarray:
    """Interventional Shapley values of ``f`` (DataFrame -> (n,)) at the one-row frame ``x``, by
    enumerating every coalition with pandas (independent of nbexplain's encoding)."""
    cols = list(x.columns)
    M = len(cols)
    link = link or (lambda p: p)

    def v(S: tuple[int, ...]) -> float:
        rows = background.copy()
        for j in S:
            rows[cols[j]] = pd.Series([x.iloc[0, j]] * len(rows), dtype=x[cols[j]].dtype)
        return float(link(np.mean(f(rows))))

    values = {S: v(S) for k in range(M + 1) for S in combinations(range(M), k)}
    phi = np.zeros(M)
    for i in range(M):
        for k in range(M):
            for S in combinations([j for j in range(M) if j != i], k):
                w = factorial(k) * factorial(M - k - 1) / factorial(M)
                phi[i] += w * (values[tuple(sorted((*S, i)))] - values[S])
    return phi
