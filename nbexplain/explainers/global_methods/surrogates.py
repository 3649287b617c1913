"""Surrogate models: an interpretable model fitted to a black box's predictions.

:class:`GlobalSurrogate` fits one model on the whole table (least squares, least absolute
deviation, logistic regression or a shallow tree) and reports its fidelity to the black box on
held-out rows. :class:`LocalSurrogate` fits a weighted linear model around each explained row and
reports where in the neighbourhood it fits badly.

Example:
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(80, 2))
    >>> s = GlobalSurrogate(lambda A: 2 * A[:, 0] - A[:, 1], kind="linear").fit(X)
    >>> np.round(s.coef, 6).tolist(), round(s.fidelity, 9)
    ([2.0, -1.0], 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nbexplain.explainers.global_methods._tabular_inputs import (
    check_names,
    default_output,
    frame_table,
    predict_chunked,
    wrap_predict,
)
from nbexplain.explanation import Explanation
from nbexplain.guard import guarded
from nbexplain.models import to_numpy
from nbexplain.validate import check_int, check_number, column_names

KINDS = ("linear", "lad", "logistic", "tree")


def _r2(y: np.ndarray, pred: np.ndarray, w: np.ndarray | None = None) -> float:
    w = np.ones_like(y) if w is None else w
    mean = np.average(y, weights=w)
    ss_tot, ss_res = float(np.sum(w * (y - mean) ** 2)), float(np.sum(w * (y - pred) ** 2))
    scale = max(1.0, float(np.max(np.abs(y))))
    if ss_tot <= 1e-24 * scale**2 * float(np.sum(w)):
        return 1.0 if ss_res <= 1e-20 * scale**2 * float(np.sum(w)) else 0.0
    return 1.0 - ss_res / ss_tot


def _target_encoding(codes: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per category code ``0..max``: the mean of ``y`` over its rows (the overall mean where it has none)."""
    k = int(codes.max()) + 1 if codes.size else 1
    idx = codes.astype(np.int64)
    sums, counts = np.bincount(idx, weights=y, minlength=k), np.bincount(idx, minlength=k)
    overall = float(y.mean()) if y.size else 0.0
    return np.where(counts > 0, sums / np.maximum(counts, 1), overall)


def _design(Xa: np.ndarray, codes: dict[int, np.ndarray], fill: np.ndarray | None) -> np.ndarray:
    """Coded rows as the surrogate's inputs: target-encoded categories, missing values at ``fill``."""
    if not codes and fill is None:
        return Xa
    D = Xa.copy()
    for j, table in codes.items():
        idx = D[:, j].astype(np.int64)
        known = idx < len(table)  # a category met after the fit: the mean of the known ones
        D[:, j] = np.where(known, table[np.minimum(idx, len(table) - 1)], table.mean())
    if fill is not None:
        nan = np.isnan(D)
        D[nan] = np.broadcast_to(fill, D.shape)[nan]
    return D


@dataclass
class SurrogateFit:
    """A fitted global surrogate: the sklearn ``estimator``, its ``coef`` / ``intercept`` (linear
    kinds; ``(C, F)`` for a multi-class logistic), ``feature_importances`` and ``tree_text`` (trees),
    ``fidelity`` on held-out rows with its ``fidelity_metric`` (``"r2"`` or ``"accuracy"``).

    Example:
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(40, 2))
        >>> GlobalSurrogate(lambda A: A[:, 0], kind="lad").fit(X).explain(X[:2]).values.shape
        (2, 2)
    """

    estimator: Any
    kind: str
    feature_names: list[str]
    target: int
    fidelity: float
    fidelity_metric: str
    coef: np.ndarray | None
    intercept: Any
    feature_importances: np.ndarray | None
    tree_text: str | None
    mean: np.ndarray
    n_train: int
    n_holdout: int
    #: A DataFrame's encoding (:mod:`nbexplain.frames`), or None.
    encoding: Any = None
    #: Per categorical column name: ``{category label: value}`` the surrogate sees (target encoding).
    category_values: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Per column, the value a missing entry (NaN) takes in the surrogate's inputs (its mean), or None.
    fill: np.ndarray | None = None
    _codes: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def design(self, Xa: np.ndarray) -> np.ndarray:
        """What the surrogate sees of coded rows: categories as their target encoding, NaN at the fill.

        Example:
            >>> import numpy as np
            >>> fit = GlobalSurrogate(lambda A: A[:, 0], kind="linear").fit(np.random.default_rng(0).normal(size=(9, 2)))
            >>> fit.design(np.ones((1, 2))).tolist()
            [[1.0, 1.0]]
        """
        return _design(Xa, self._codes, self.fill)

    @guarded
    def explain(self, X: Any) -> Explanation:
        """Contributions ``coef * (x - mean(X_fit))`` per row for the linear kinds (log-odds of the
        surrogate's predicted class for logistic); ``base_values + values.sum(1)`` is the surrogate's
        output. Trees have no additive contributions: read ``tree_text`` / ``feature_importances``.
        """
        if self.coef is None:
            raise TypeError(f"a {self.kind} surrogate has no additive contributions; "
                            "read .tree_text and .feature_importances instead")
        Xa, _ = frame_table(X, "X", self.encoding)
        if Xa.shape[1] != len(self.mean):
            raise ValueError(f"mismatched feature counts: the surrogate was fitted on {len(self.mean)} "
                             f"features, X has {Xa.shape[1]}")
        D = self.design(Xa)
        coef, intercept = np.atleast_2d(self.coef), np.atleast_1d(self.intercept)
        cls = (np.zeros(len(Xa), dtype=np.int64) if coef.shape[0] == 1
               else np.argmax(D @ coef.T + intercept, axis=1))
        values = coef[cls] * (D - self.mean)
        base = intercept[cls] + coef[cls] @ self.mean
        return Explanation(values, base_values=base, data=Xa, feature_names=self.feature_names,
                           target=cls if coef.shape[0] > 1 else None, method=f"global_surrogate_{self.kind}",
                           diagnostics={"fidelity": self.fidelity, "fidelity_metric": self.fidelity_metric},
                           encoding=self.encoding)


class GlobalSurrogate:
    """Fit an interpretable model to the black box's outputs on ``X``.

    ``kind``: ``"linear"`` (least squares) or ``"lad"`` (least absolute deviation, robust to a few
    odd predictions) on the output column ``target``; ``"logistic"`` on the predicted class;
    ``"tree"`` (depth ``max_depth``) on the predicted class for classifiers, the output otherwise.
    A share ``holdout`` of rows (seeded) is kept out of the fit to measure fidelity.

    A pandas DataFrame (:mod:`nbexplain.frames`; ``encoding`` codes arrays as one) keeps one
    coefficient per column of its own: a string, categorical or bool column enters the surrogate
    as the mean black-box output (column ``target``) of its category over the fitting rows (target
    encoding; the overall mean for a category not among them), read in ``category_values``, and a
    missing value (NaN) of a numeric column as that column's mean over the fitting rows (``fill``);
    the black box itself is called with the DataFrame, missing values included.

    Example:
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(60, 2))
        >>> f = lambda A: np.stack([A[:, 0] < 0, A[:, 0] >= 0], axis=1).astype(float)
        >>> GlobalSurrogate(f, kind="tree", max_depth=1).fit(X).fidelity
        1.0
    """

    def __init__(self, model_or_predict: Any, kind: str = "linear", max_depth: int = 3, *,
                 feature_names: Sequence[str] | None = None, target: int | None = None,
                 holdout: float = 0.25, seed: int = 0, encoding: Any = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        holdout = check_number(holdout, "holdout", min=0.0, max=1.0, max_open=True)
        max_depth = check_int(max_depth, "max_depth", min=1, max=64)
        if target is not None:
            check_int(target, "target", min=0)
        self.model, self.kind, self.max_depth = model_or_predict, kind, max_depth
        self.feature_names, self.target, self.holdout, self.seed = feature_names, target, holdout, check_int(seed, "seed", min=0)
        self.encoding = encoding

    @guarded
    def fit(self, X: Any) -> SurrogateFit:
        """Query the model on ``X``, fit the surrogate on the training share, score on the rest."""
        from sklearn.linear_model import (  # type: ignore[import-untyped]
            LinearRegression,
            LogisticRegression,
            QuantileRegressor,
        )
        from sklearn.tree import (  # type: ignore[import-untyped]
            DecisionTreeClassifier,
            DecisionTreeRegressor,
            export_text,
        )

        Xa, enc = frame_table(X, "X", self.encoding)
        n, n_feat = Xa.shape
        names = check_names(self.feature_names if self.feature_names is not None else enc.names if enc else
                            column_names(X), n_feat)
        out = predict_chunked(wrap_predict(self.model, n_feat, enc), Xa)
        col = default_output(self.target, out)
        is_class = out.shape[1] > 1 or (np.array_equal(out, np.round(out)) and len(np.unique(out)) <= 20)
        if self.kind == "logistic" and not is_class:
            raise ValueError("a logistic surrogate needs a classifier (class probabilities or class labels); "
                             "this model returns continuous values: use kind='linear' or 'lad'")
        classify = self.kind == "logistic" or (self.kind == "tree" and is_class)
        y = (np.argmax(out, axis=1) if out.shape[1] > 1 else out[:, 0].astype(np.int64)) if classify else out[:, col]
        if self.kind == "logistic" and len(np.unique(y)) < 2:
            raise ValueError("the model predicts one class on X; a logistic surrogate needs two")
        order = np.random.default_rng(self.seed).permutation(n)
        # at least one held-out row whenever holdout > 0: fidelity is never measured on the training rows unasked
        n_hold = max(1, round(n * self.holdout)) if self.holdout > 0 else 0
        if n - n_hold < 2:
            raise ValueError(f"X has {n} row{'s' if n != 1 else ''}: too few to fit a surrogate and measure its fidelity"
                             + (f" on {self.holdout:.0%} held out" if n_hold else "")
                             + "; pass more rows (at least 2 to fit, plus the held-out share)")
        test, train = (order[:n_hold], order[n_hold:]) if n_hold else (order, order)
        if self.kind == "logistic" and len(np.unique(y[train])) < 2:
            raise ValueError("the model predicts one class on the training rows; a logistic surrogate "
                             "needs two (pass more rows, or another seed)")
        est = {"linear": lambda: LinearRegression(),
               "lad": lambda: QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs"),
               "logistic": lambda: LogisticRegression(max_iter=1000),
               "tree": lambda: (DecisionTreeClassifier if classify else DecisionTreeRegressor)(
                   max_depth=self.max_depth, random_state=self.seed)}[self.kind]()
        codes = {j: _target_encoding(Xa[train, j], out[train, col]) for j in (enc.categorical_indices if enc else [])}
        fill = None
        if np.isnan(Xa).any():
            with np.errstate(all="ignore"):
                fill = np.nan_to_num(np.nanmean(Xa[train], axis=0))
        D = _design(Xa, codes, fill)
        est.fit(D[train], y[train])
        pred = est.predict(D[test])
        fidelity = float(np.mean(pred == y[test])) if classify else _r2(y[test], pred)
        coef: np.ndarray | None = None
        intercept: Any = None
        imp: np.ndarray | None = None
        text: str | None = None
        if self.kind == "tree":
            imp, text = est.feature_importances_, export_text(est, feature_names=names)
        else:
            coef = np.asarray(est.coef_, dtype=np.float64)
            coef = coef[0] if coef.ndim == 2 and coef.shape[0] == 1 else coef
            icpt = np.asarray(est.intercept_, dtype=np.float64)
            intercept = float(icpt.reshape(-1)[0]) if icpt.size == 1 else icpt
        cat_values = {names[j]: {enc.label_of(j, c): float(v) for c, v in enumerate(m) if np.isfinite(v)}
                      for j, m in codes.items()} if enc is not None else {}
        return SurrogateFit(est, self.kind, names, col, fidelity, "accuracy" if classify else "r2", coef,
                            intercept, imp, text, D[train].mean(axis=0), len(train), n_hold, encoding=enc,
                            category_values=cat_values, fill=fill, _codes=codes)


class LocalSurrogate:
    """A weighted linear fit of the model around each explained row, with neighbourhood diagnostics.

    Perturbations are Gaussian with the background's per-feature std (``num_samples`` per row,
    seeded); weights are ``exp(-d^2 / kernel_width^2)`` for the distance ``d`` in std units
    (default width ``0.75 * sqrt(F)``). ``explain`` returns ``values = coef * (x - mean(background))``
    with ``base_values`` so that their sum is the surrogate's value at ``x``; diagnostics hold the
    ``coefficients``, weighted R^2 ``fidelity``, ``error_by_distance`` (mean absolute error per
    distance bin, edges in ``distance_bins``), ``error_growth`` per feature (slope of the absolute
    error along that feature's offset) and ``worst_features`` (up to 3 names where it grows).

    A pandas DataFrame (:mod:`nbexplain.frames`; ``encoding`` codes arrays as one) is perturbed in
    its own columns: a string, categorical or bool column draws a background category by
    frequency and enters the fit as "same category as x" (its coefficient is the effect of keeping
    x's category; its value ``coef * (1 - p)``, ``p`` the background share of x's category). A
    missing value (NaN) of x is handed to the model as NaN in every perturbation (the model must
    take it): that feature gets no local slope and the value 0; the background's NaN are left out
    of its mean and std.

    Example:
        >>> import numpy as np
        >>> B = np.random.default_rng(0).normal(size=(50, 3))
        >>> e = LocalSurrogate(lambda A: A @ [1.0, 2.0, 0.5], B, num_samples=200).explain(B[0])
        >>> np.round(e.diagnostics["coefficients"], 6).tolist(), round(float(e.diagnostics["fidelity"][0]), 9)
        ([[1.0, 2.0, 0.5]], 1.0)
    """

    def __init__(self, model_or_predict: Any, X_background: Any, *, kernel_width: float | None = None,
                 num_samples: int = 2000, seed: int = 0, feature_names: Sequence[str] | None = None,
                 target: int | None = None, n_bins: int = 5, encoding: Any = None) -> None:
        B, self.encoding = frame_table(X_background, "X_background", encoding)
        if len(B) < 2:
            raise ValueError(f"X_background has {len(B)} row; the neighbourhood's spread is the background's "
                             "per-feature std, which one row does not have: pass at least 2 rows (a sample of the "
                             "training data)")
        num_samples = check_int(num_samples, "num_samples", min=2 * B.shape[1] + 2)
        if kernel_width is not None:
            kernel_width = check_number(kernel_width, "kernel_width", min=0.0, min_open=True)
        n_bins = check_int(n_bins, "n_bins", min=1, max=1000)
        if target is not None:
            check_int(target, "target", min=0)
        self.f = wrap_predict(model_or_predict, B.shape[1], self.encoding)
        self.categorical = self.encoding.categorical_indices if self.encoding is not None else []
        with np.errstate(all="ignore"):  # a DataFrame's missing values (NaN) are left out of mean and std
            self.mean, self.std = np.nanmean(B, axis=0), np.nan_to_num(np.nanstd(B, axis=0))
        self.std[self.categorical] = 0.0
        #: per categorical column: its background categories (codes) and their frequencies
        self.category_draws = {j: np.unique(B[:, j], return_counts=True) for j in self.categorical}
        if not ((self.std > 0).any() or any(len(v) > 1 for v, _ in self.category_draws.values())):
            raise ValueError("every feature of X_background is constant, so there is no neighbourhood to sample; "
                             "pass background rows that vary (a sample of the training data)")
        names = feature_names if feature_names is not None else (
            self.encoding.names if self.encoding is not None else column_names(X_background))
        self.names = check_names(names, B.shape[1])
        self.kernel_width = float(kernel_width) if kernel_width is not None else 0.75 * np.sqrt(B.shape[1])
        self.num_samples, self.seed, self.target, self.n_bins = num_samples, check_int(seed, "seed", min=0), target, n_bins

    @guarded
    def explain(self, X: Any) -> Explanation:
        """Explain one row (1-D ``x``) or each row of ``X``; one batched model call for all rows."""
        Xa = X if hasattr(X, "columns") else to_numpy(X)
        single = getattr(Xa, "ndim", 2) == 1 and not hasattr(X, "to_frame")
        Xa, _ = frame_table(Xa[None] if single else Xa, "X", self.encoding)
        n, n_feat = Xa.shape
        if n_feat != len(self.mean):
            raise ValueError(f"mismatched feature counts: the background has {len(self.mean)} features, X has {n_feat}")
        S, live = self.num_samples, self.std > 0
        rng = np.random.default_rng(self.seed)
        eps = rng.normal(size=(n, S, n_feat)) * live
        eps[:, 0] = 0.0  # the explained row itself
        Z = Xa[:, None, :] + eps * self.std
        D = eps.copy()  # the surrogate's inputs: offsets in std units; categories: "same as x" - 1
        for j, (codes, counts) in self.category_draws.items():
            Z[:, :, j] = rng.choice(codes, size=(n, S), p=counts / counts.sum())
            Z[:, 0, j] = Xa[:, j]
            D[:, :, j] = (Z[:, :, j] == Xa[:, None, j]) - 1.0
        use = live.copy()
        use[list(self.category_draws)] = True
        out = predict_chunked(self.f, Z.reshape(-1, n_feat)).reshape(n, S, -1)
        cols = (np.full(n, default_output(self.target, out[:, 0])) if self.target is not None or out.shape[2] <= 2
                else np.argmax(out[:, 0], axis=1))
        dist = np.sqrt((D**2).sum(axis=2))
        w = np.exp(-(dist**2) / self.kernel_width**2)
        edges = np.quantile(dist[:, 1:], np.linspace(0, 1, self.n_bins + 1))
        coefs, icpt, fid = np.zeros((n, n_feat)), np.zeros(n), np.zeros(n)
        err_bins, growth = np.full((n, self.n_bins), np.nan), np.zeros((n, n_feat))
        scale_of = np.where(live, self.std, 1.0)
        for i in range(n):
            y, A = out[i, :, cols[i]], np.c_[np.ones(S), D[i][:, use]]
            sw = np.sqrt(w[i])
            beta = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)[0]
            pred = A @ beta
            icpt[i], fid[i] = beta[0], _r2(y, pred, w[i])
            coefs[i, use] = beta[1:] / scale_of[use]
            err = np.abs(y - pred)
            b = np.clip(np.searchsorted(edges, dist[i], side="right") - 1, 0, self.n_bins - 1)
            for k in range(self.n_bins):
                if (b == k).any():
                    err_bins[i, k] = err[b == k].mean()
            off = np.abs(D[i])
            off_c = off - off.mean(axis=0)
            var = (off_c**2).mean(axis=0)
            growth[i] = np.where(var > 0, (off_c * (err - err.mean())[:, None]).mean(axis=0) / np.where(var > 0, var, 1), 0)
        scale = max(1e-12, float(np.abs(out).max()))
        worst = [[self.names[j] for j in np.argsort(-g)[:3] if g[j] > 1e-9 * scale] for g in growth]
        # a missing value of x (NaN) reaches the model as NaN in every perturbation: no local slope, value 0
        values = np.where(np.isnan(Xa), 0.0, coefs * (np.nan_to_num(Xa) - self.mean))
        for j, (codes, counts) in self.category_draws.items():  # coef * (same(x) - E_background[same]) = coef * (1 - p)
            p_same = (counts / counts.sum())[np.searchsorted(codes, Xa[:, j]).clip(0, len(codes) - 1)]
            p_same = np.where(codes[np.searchsorted(codes, Xa[:, j]).clip(0, len(codes) - 1)] == Xa[:, j], p_same, 0.0)
            values[:, j] = coefs[:, j] * (1.0 - p_same)
        return Explanation(
            values, base_values=icpt - values.sum(axis=1), data=Xa, feature_names=self.names,
            target=cols, outputs=out[np.arange(n), 0, cols], method="local_surrogate",
            params={"kernel_width": self.kernel_width, "num_samples": S, "seed": self.seed},
            diagnostics={"coefficients": coefs, "intercept": icpt, "fidelity": fid,
                         "error_by_distance": err_bins, "distance_bins": tuple(edges.tolist()),
                         "error_growth": growth, "worst_features": worst},
            encoding=self.encoding,
        )
