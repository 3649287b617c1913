"""Shared support for the probe tables (issue 10): tiny models and data, the row type, the runner.

``tests/core/test_probe.py`` (gradient and tabular entry points) and ``tests/core/test_probe_global.py``
(text, global methods, diagnostics, codec, Explanation, predict wrapper, session) each build a
table of :class:`Row` with :func:`err` / :func:`ok` and run it with :func:`run_row`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LinearRegression, LogisticRegression

torch.manual_seed(0)
RNG = np.random.default_rng(0)

# -- tiny models and data ----------------------------------------------------------------------------
MLP = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
CNN = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                          torch.nn.Flatten(), torch.nn.Linear(4, 2))
X = torch.randn(5, 4)
IMG = torch.randn(2, 3, 8, 8)
T = RNG.normal(size=(40, 4))  # a table
Y = (T[:, 0] > 0).astype(np.int64)
CLF = LogisticRegression().fit(T, Y)
REG = LinearRegression().fit(T, T[:, 0])
T_NAN = T.copy()
T_NAN[3, 2] = np.nan
T_INF = T.copy()
T_INF[1, 0] = np.inf
X_NAN = X.clone()
X_NAN[2, 1] = float("nan")
X_INF = X.clone()
X_INF[0, 3] = float("inf")
DF = pd.DataFrame(T[:, :3], columns=["age", "income", "score"])
DF_STR = DF.assign(city=["a", "b"] * 20)
DF_CAT = DF.assign(city=pd.Categorical(["a", "b"] * 20))
DF_NA = DF.assign(kids=pd.array([1, None] + [2] * 38, dtype="Int64"))
IMAGES_NHWC = RNG.random((2, 8, 8, 3))


def proba(A: Any) -> np.ndarray:
    """A two-class probability function of the first column."""
    p = 1 / (1 + np.exp(-np.asarray(A, dtype=float)[:, 0]))
    return np.c_[1 - p, p]


def reg(A: Any) -> np.ndarray:
    return np.asarray(A, dtype=float) @ np.arange(1.0, np.shape(A)[1] + 1)


def returns_nan(A: Any) -> np.ndarray:
    out = proba(A)
    out[0, 1] = np.nan
    return out


def returns_inf(A: Any) -> np.ndarray:
    out = proba(A)
    out[0, 1] = np.inf
    return out


def raises(A: Any) -> np.ndarray:
    raise RuntimeError("boom inside the model")


def wrong_rows(A: Any) -> np.ndarray:
    return proba(A)[:-1]


def ragged(A: Any) -> list[list[float]]:
    return [[0.5, 0.5], [1.0]] * (len(A) // 2) + [[0.5, 0.5]] * (len(A) % 2)


class NaNNet(torch.nn.Module):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 3)
        self.value = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.lin(x)
        return torch.cat([out[:, :1] * 0 + self.value, out[:, 1:]], 1)


class Raising(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("boom inside forward")


class WrongShape(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x)[:-1]


SOFTMAXED = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Softmax(dim=1))
TRAINING = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 3)).train()


def text_f(texts: list[str]) -> np.ndarray:
    return np.array([[0.2, 0.8] if "good" in t else [0.7, 0.3] for t in texts])


# every array a probe row may touch, with a copy to compare against afterwards
INPUTS = {name: value for name, value in globals().items() if isinstance(value, (np.ndarray, torch.Tensor, pd.DataFrame))}
PRISTINE = {name: (v.clone() if isinstance(v, torch.Tensor) else v.copy()) for name, v in INPUTS.items()}


def unchanged() -> list[str]:
    changed = []
    for name, v in INPUTS.items():
        ref = PRISTINE[name]
        if isinstance(v, torch.Tensor):
            same = torch.equal(torch.nan_to_num(v), torch.nan_to_num(ref)) and torch.equal(v.isnan(), ref.isnan())
        elif isinstance(v, pd.DataFrame):
            same = v.equals(ref)
        else:
            same = np.array_equal(v, ref, equal_nan=v.dtype.kind == "f")
        if not same:
            changed.append(name)
    return changed


# -- the table ---------------------------------------------------------------------------------------
@dataclass
class Row:
    """One probe call and what it must give."""

    id: str
    call: Callable[[], Any]
    error: type[BaseException] | None = None
    match: str = ""
    check: Callable[[Any], Any] | None = None
    xfail: str = ""


class Table(list):  # type: ignore[type-arg]
    """A list of rows with the two ways to add one."""

    def err(self, id: str, call: Callable[[], Any], error: Any, match: str, xfail: str = "") -> None:
        """A row that must raise ``error`` with a message matching ``match``."""
        self.append(Row(id, call, error, match, xfail=xfail))

    def ok(self, id: str, call: Callable[[], Any], check: Callable[[Any], Any], xfail: str = "") -> None:
        """A row whose result must pass ``check``."""
        self.append(Row(id, call, check=check, xfail=xfail))

    def params(self) -> list[Any]:
        """The rows as pytest params (ids unique; ``xfail`` rows marked non-strict)."""
        assert len({r.id for r in self}) == len(self), "duplicate probe ids"
        return [pytest.param(r, id=r.id, marks=[pytest.mark.xfail(strict=False, reason=r.xfail)] if r.xfail else [])
                for r in self]


def run_row(row: Row) -> None:
    """Run one probe row: the named error or the checked result, then no input array changed."""
    if row.error is not None:
        with pytest.raises(row.error, match=row.match):
            row.call()
    else:
        result = row.call()
        assert row.check is not None and row.check(result), f"{row.id}: unexpected result {result!r}"
    assert not unchanged(), f"{row.id} wrote into the caller's arrays: {unchanged()}"


def finite(e: Any) -> bool:
    return bool(np.isfinite(np.asarray(e.values)).all())


