"""KernelSHAP, batched: exact Shapley values for up to 16 features (or groups), a paired sample above.

The value of a coalition ``S`` is interventional, as in shap's KernelExplainer with a background:
``v(S) = sum_b w_b f(x_S, b_notS)`` over the background rows ``b`` (weights ``w_b``: 1/m, or the
k-means cluster sizes). All coalitions of a batch of samples go through the model in a few large
calls of stacked masked rows (samples x coalitions x background, chunked to ``batch_size`` rows);
a torch model is called with torch directly on its own device.

Example:
    >>> import numpy as np
    >>> f = lambda X: X[:, :1] * X[:, 1:2] + X[:, 2:3]
    >>> e = KernelShap(f, np.zeros((4, 3))).explain(np.ones((1, 3)))
    >>> e.values.round(6).tolist(), e.method
    ([[0.5, 0.5, 1.0]], 'kernel_shap_exact')
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from nbexplain.explainers._targets import resolve_target, target_indices
from nbexplain.explainers.perturbation._coalitions import (
    all_coalitions,
    check_groups,
    player_names,
    shapley_from_values,
    summarise_background,
)
from nbexplain.explainers.perturbation._kernel_sample import (
    adaptive_values,
    error_bound_z,
    first_round,
    sampled_values,
)
from nbexplain.explainers.perturbation.shap_tabular import tabular_matrix
from nbexplain.explanation import Explanation
from nbexplain.frame_inputs import frame_model, table_input
from nbexplain.frames import FrameEncoding
from nbexplain.guard import guarded
from nbexplain.models import OUTPUTS, as_predict_fn, eval_mode, is_torch_module, model_device
from nbexplain.output_kind import remembered_kind, to_probabilities, to_probabilities_torch
from nbexplain.validate import (
    NonFiniteError,
    check_class_names,
    check_int,
    check_model_output,
    check_number,
    checked_predict,
    column_names,
    explain_model_error,
)

#: The links KernelShap takes (shap's names): values in the model's output space, or in log-odds.
LINKS = ("identity", "logit")


class KernelShap:
    """Shapley values of any model's output, per feature or per feature group, batched and seeded.

    ``model_or_predict``: a torch module (run with torch on its device), an estimator with
    ``predict_proba``/``predict``, or a callable ``X -> (n, k)``. ``output`` as in
    :func:`nbexplain.models.as_predict_fn` (``"auto"``: a torch model's own output, an estimator's
    ``predict_proba``). ``background`` ``(m, F)`` stands in for absent features; ``background_size``
    summarises it (``background_summary="kmeans"``, seeded and weighted by cluster size, or
    ``"sample"``); a background of more than 200 rows without a summary warns (cost grows with it).
    ``groups``: a partition of the feature indices (one-hot blocks, superpixels, tokens); values are
    then one per group. With ``M <= exact_max_features`` players all ``2**M`` coalitions are
    evaluated and the values are exact (the Shapley formula on ``v``, chosen over a weighted least
    squares on all coalitions for its positive, bounded weights: no ill-conditioned solve); above,
    coalitions are drawn as in shap's KernelExplainer, paired and stratified, with the efficiency
    constraint exact (:mod:`nbexplain.explainers.perturbation._kernel_sample`). ``n_samples="auto"`` samples in
    rounds (``2*M + 256`` coalitions, then 128 or 20% more a round, from one seeded stream) and
    stops each sample when every value's standard error is at most ``tol / z`` of its largest
    ``|value|``, ``z`` the Bonferroni bound for ``M`` values at 95% (3.02 for 20), so that all ``M``
    errors stay within ``tol`` of the largest value with about 95% probability; or at
    ``max_samples`` coalitions (default ``4 * (2*M + 2048)``; a warning names the samples that
    stopped there). An int ``n_samples`` draws that many coalitions at once.
    ``diagnostics`` (documented keys, sliced with the samples): ``"std_error"`` ``(n, M)``, the
    standard error of each value from the sampling (the delta method on the weighted least
    squares; 0 when exact), ``"error_estimate"`` ``(n,)`` its largest per sample,
    ``"n_coalitions"`` the most distinct coalitions any sample used, ``"coalitions"`` ``(n,)`` per
    sample, ``"converged"`` ``(n,)`` and ``"tol"`` (adaptive runs), ``"exact"``.
    ``batch_size``: rows per model call (samples x coalitions x background rows, tiled).
    ``link``: ``"identity"`` (values in the model's output space) or ``"logit"`` (values in
    log-odds: ``v(S) = logit(sum_b w_b f(x_S, b))``, base value ``logit`` of the mean output over
    the background, as ``shap.KernelExplainer(link="logit")``; outputs must lie in (0, 1)).

    A pandas DataFrame as ``background`` (or ``X``) is explained in its own columns, one value
    per column, named by them (:mod:`nbexplain.frames`): string, categorical and bool columns are
    category codes that are only ever swapped whole between ``x`` and a background row, and the
    model (a scikit-learn Pipeline with its ColumnTransformer, say) is called with the DataFrame
    (names, order, dtypes, strings) it was fitted on. ``encoding``: a
    :class:`~nbexplain.frames.FrameEncoding` the data is coded with (arrays are then codes).
    ``background_summary="kmeans"`` stands each cluster by a real row (its medoid) there.
    Missing values: a ``NaN`` in a numeric column of a DataFrame is a value like any other: a
    feature of ``x`` that is ``NaN`` is passed on as ``NaN`` when present in a coalition, and a
    background row's ``NaN`` when absent (the model must take it: an imputer in the pipeline).

    Why our own: shap's KernelExplainer evaluates one sample at a time, and its default l1 feature
    selection keeps only 10 features, so its error does not fall with more samples (measured on a
    20-feature model: 25% of the largest exact value, the same at 2048 and 8192 samples).

    Example:
        >>> import numpy as np
        >>> from sklearn.linear_model import LinearRegression
        >>> X = np.random.RandomState(0).randn(30, 4)
        >>> lr = LinearRegression().fit(X, X @ [1.0, 2.0, 0.0, -1.0])
        >>> e = KernelShap(lr, X[:10]).explain(X[:2])
        >>> np.allclose(e.values.sum(1), e.outputs - e.base_values)
        True
    """

    def __init__(self, model_or_predict: Any, background: Any, *, feature_names: Sequence[str] | None = None,
                 class_names: Sequence[str] | None = None, groups: Sequence[Sequence[int]] | None = None,
                 exact_max_features: int = 16, n_samples: int | str = "auto", tol: float = 0.01,
                 max_samples: int | None = None, seed: int = 0,
                 background_size: int | None = None, background_summary: str = "kmeans",
                 output: str = "auto", batch_size: int = 2 ** 16, link: str = "identity",
                 encoding: FrameEncoding | None = None) -> None:
        bg, self.encoding = table_input(background, "background", encoding)
        if bg is None:
            if np.size(background) == 0:
                raise ValueError(f"background is empty (shape {np.shape(background)}); pass at least one row (e.g. a "
                                 "sample of the training data)")
            bg = tabular_matrix(background, "background")
        self._columns = self.encoding.names if self.encoding is not None else column_names(background)
        feature_names = self._columns if feature_names is None and groups is None else feature_names
        self.n_features = F = bg.shape[1]
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        if link not in LINKS:
            raise ValueError(f"link must be one of {LINKS} (as shap's KernelExplainer), got {link!r}")
        self.link = link
        check_int(batch_size, "batch_size", min=1)
        check_int(exact_max_features, "exact_max_features", min=0, max=20)
        check_int(seed, "seed", min=0)
        if background_size is not None:
            check_int(background_size, "background_size", min=1)
        if background_summary not in ("kmeans", "sample"):
            raise ValueError(f"background_summary must be 'kmeans' or 'sample', got {background_summary!r}")
        self.groups = check_groups(groups, F)
        self.n_players = M = len(self.groups)
        if n_samples != "auto":
            # fewer coalitions than 2 per player + the two ends leave the solve underdetermined: values and
            # error estimate would be noise reported as exact
            check_int(n_samples, "n_samples", min=2 * M + 2)
        self.tol = check_number(tol, "tol (the largest error, relative to the largest |value|)", min=0.0,
                                min_open=True)
        self.max_samples = 4 * (2 * M + 2048) if max_samples is None else check_int(max_samples, "max_samples",
                                                                                    min=first_round(M))
        self.feature_names = player_names(feature_names, self.groups, F, groups is not None)
        self.class_names = check_class_names(class_names)
        self.exact_max_features, self.seed, self.output, self.batch_size = int(exact_max_features), int(seed), output, batch_size
        self.n_samples: int | str = "auto" if n_samples == "auto" else int(n_samples)
        enc = self.encoding
        self.background, self.background_weights = summarise_background(
            bg, background_size, background_summary, self.seed, categorical=enc.categorical_indices if enc else None,
            medoids=bool(enc and enc.integer_indices))
        self.model = model_or_predict
        if enc is not None:  # the model is called with the user's DataFrame, decoded from the coded rows
            model_or_predict = frame_model(model_or_predict, enc)
        self._torch = is_torch_module(model_or_predict)
        self._kind: str | None = None  # what the torch model returns, detected on its first output
        self.predict = (self._torch_predict if self._torch
                        else checked_predict(as_predict_fn(model_or_predict, output=output,
                                                           batch_size=min(batch_size, 65536)), model_or_predict, "the model"))
        self.player_of = np.empty(F, dtype=np.int64)
        for g, idx in enumerate(self.groups):
            self.player_of[idx] = g

    def __repr__(self) -> str:
        link = f", link={self.link!r}" if self.link != "identity" else ""
        return (f"KernelShap(players={self.n_players}, features={self.n_features}, "
                f"background={len(self.background)}, exact={self.n_players <= self.exact_max_features}, "
                f"seed={self.seed}{link})")

    @guarded
    def explain(self, X: Any, target: Any = None) -> Explanation:
        """Shapley values ``(n, M)`` of the target output (default: the top output) for each row of ``X``.

        Example:
            >>> import numpy as np
            >>> e = KernelShap(lambda X: X * [1.0, -1.0], np.zeros((2, 2))).explain(np.ones((1, 2)), target=1)
            >>> e.values.tolist(), e.outputs.tolist()
            ([[0.0, -1.0]], [-1.0])
        """
        if self.encoding is not None:
            X = table_input(X, "X", self.encoding)[0]
        else:
            X = tabular_matrix(X, "X", self.n_features, columns=self._columns)
        n, M = len(X), self.n_players
        preds = check_model_output(self.predict(X), "the model")
        k = preds.shape[1]
        if self.class_names is not None and len(self.class_names) != k:
            raise ValueError(f"got {len(self.class_names)} class_names but the model has {k} outputs")
        targets = resolve_target(target, preds) if target is None else target_indices(target, n, k)
        outputs = self._linked(preds[np.arange(n), targets], "X")
        bg_pred = check_model_output(self.predict(self.background), "the model on the background")
        if bg_pred.shape[1] != k:
            raise ValueError(f"the model returned {bg_pred.shape[1]} outputs on the background but {k} on X; "
                             "it must return the same (n, k) for any rows")
        base = self._linked(self.background_weights @ bg_pred[:, targets], "the background (its mean output)")
        budget = 2 * M + 2048 if self.n_samples == "auto" else int(self.n_samples)
        exact = M <= self.exact_max_features or budget >= 2 ** M - 2
        if exact:
            Z = all_coalitions(M)
            v = np.empty((n, len(Z)))
            v[:, 1:-1] = self._linked(self._game(X, Z[1:-1], targets, k), "masked rows (their mean output)")
            v[:, 0], v[:, -1] = base, outputs
            values = shapley_from_values(v, M)
            diag: dict[str, Any] = {"n_coalitions": len(Z), "coalitions": np.full(n, len(Z)), "exact": True,
                                    "std_error": np.zeros((n, M)), "error_estimate": np.zeros(n)}
        else:
            values, diag = self._sampled(X, targets, k, base, outputs)
        data = X if self.groups_are_features else None
        if data is None:
            diag["inputs"] = X
        return Explanation(
            values, base, data, feature_names=self.feature_names, output_names=self.class_names, target=targets,
            outputs=outputs, method="kernel_shap_exact" if exact else "kernel_shap", diagnostics=diag,
            params={"seed": self.seed, "n_samples": None if exact else self.n_samples, "output": self.output,
                    "tol": self.tol if self.n_samples == "auto" and not exact else None,
                    "background_rows": len(self.background), "players": M, "link": self.link,
                    "groups": None if self.groups_are_features else [list(map(int, g)) for g in self.groups]},
            encoding=self.encoding if data is not None else None,
        )

    def _sampled(self, X: np.ndarray, targets: np.ndarray, k: int, base: np.ndarray,
                 outputs: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        """Sampled values and their diagnostics: a fixed budget, or adaptive rounds (``n_samples="auto"``)."""
        n, M = len(X), self.n_players

        def game(rows: np.ndarray, Z: np.ndarray) -> np.ndarray:
            return self._linked(self._game(X[rows], Z, targets[rows], k), "masked rows (their mean output)")

        rng = np.random.default_rng(self.seed)
        if self.n_samples != "auto":
            values, se, c = sampled_values(game, n, M, base, outputs, int(self.n_samples), rng)
            used = np.full(n, c)
            diag: dict[str, Any] = {}
        else:
            first, z = first_round(M), error_bound_z(M)
            values, se, used, ok = adaptive_values(game, n, M, base, outputs, tol=self.tol / z, first=first,
                                                   step=128, growth=0.2, cap=self.max_samples, plan=first, rng=rng)
            diag = {"converged": ok, "tol": self.tol}
            if not ok.all():
                rel = se.max(1) / np.maximum(np.abs(values).max(1), 1e-300)
                bad = np.flatnonzero(~ok)
                warnings.warn(f"KernelShap: {len(bad)} of {n} samples (first: {bad[:5].tolist()}) stopped at "
                              f"max_samples={self.max_samples} coalitions with a standard error up to "
                              f"{rel[bad].max():.2%} of their largest |value| (tol={self.tol} asks for "
                              f"{self.tol / z:.2%}); diagnostics['std_error'] has them. Raise max_samples or tol",
                              UserWarning, stacklevel=4)
        return values, {"n_coalitions": int(used.max()), "coalitions": used, "exact": False, "std_error": se,
                        "error_estimate": se.max(1), **diag}

    def _linked(self, p: np.ndarray, what: str) -> np.ndarray:
        """``p`` through the link: as is (identity), or ``log(p / (1 - p))`` (logit; p must lie in (0, 1))."""
        if self.link == "identity":
            return p
        bad = ~((p > 0) & (p < 1))
        if bad.any():
            where = np.unravel_index(int(np.argmax(bad)), p.shape)
            raise NonFiniteError(f"link='logit' needs outputs strictly between 0 and 1 (probabilities), but the model "
                                 f"gave {float(p[where])!r} on {what} (entry {tuple(int(i) for i in where)}); its "
                                 "log-odds is infinite or undefined: use link='identity', or a model whose "
                                 "probabilities never reach 0 or 1")
        return np.log(p) - np.log1p(-p)

    @property
    def groups_are_features(self) -> bool:
        """True when every player is one feature, in order (no grouping)."""
        return self.n_players == self.n_features and all(len(g) == 1 and g[0] == i for i, g in enumerate(self.groups))

    def _game(self, X: np.ndarray, Z: np.ndarray, targets: np.ndarray, k: int) -> np.ndarray:
        """``v[i, c] = sum_b w_b f(where(mask_c, X[i], bg_b))[target_i]`` for coalitions ``Z`` ``(C, M)``."""
        n, C, B = len(X), len(Z), len(self.background)
        masks = Z[:, self.player_of]  # (C, F) feature-level
        per_sample = C * B
        if per_sample <= self.batch_size:
            tiles = [(i, min(i + max(1, self.batch_size // per_sample), n), 0, C)
                     for i in range(0, n, max(1, self.batch_size // per_sample))]
        else:
            step = max(1, self.batch_size // B)
            tiles = [(i, i + 1, c, min(c + step, C)) for i in range(n) for c in range(0, C, step)]
        v = np.empty((n, C))
        run = self._torch_tiles if self._torch else self._numpy_tiles
        run(X, masks, targets, k, tiles, v)
        return v

    def _numpy_tiles(self, X: np.ndarray, masks: np.ndarray, targets: np.ndarray, k: int,
                     tiles: list[tuple[int, int, int, int]], v: np.ndarray) -> None:
        bg, w = self.background, self.background_weights
        for i0, i1, c0, c1 in tiles:
            rows = np.where(masks[None, c0:c1, None, :], X[i0:i1, None, None, :], bg[None, None, :, :])
            out = check_model_output(self.predict(rows.reshape(-1, self.n_features)), "the model on masked rows")
            _check_k(out.shape[1], k)
            out = out.reshape(i1 - i0, c1 - c0, len(bg), k)
            picked = np.take_along_axis(out, targets[i0:i1, None, None, None], axis=3)[..., 0]
            v[i0:i1, c0:c1] = picked @ w

    def _torch_out(self, rows: Any) -> Any:
        """The model's output on a tensor of rows as float64 ``(rows, k)``, after ``output``'s transform."""

        out = self.model(rows).reshape(len(rows), -1).double()
        if self.output == "probabilities":  # the one output-kind rule: no second softmax
            if self._kind is None:
                self._kind = remembered_kind(self.model, out.cpu().numpy())
            to_probabilities(out[:1].cpu().numpy(), self._kind, what=f"{type(self.model).__name__}.forward")
            out = to_probabilities_torch(out, self._kind)
        return out

    def _torch_predict(self, X: np.ndarray) -> np.ndarray:
        """``f(X)`` ``(n, k)`` float64 through the torch model in the model's dtype, chunked; NaN named."""
        import torch

        model, device = self.model, model_device(self.model)
        dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
        with eval_mode(model), torch.inference_mode():
            outs = []
            for i in range(0, len(X), self.batch_size):
                # torch.tensor copies: an in-place first layer must not write into the caller's X
                chunk = torch.tensor(X[i:i + self.batch_size], dtype=dtype, device=device)
                try:
                    outs.append(self._torch_out(chunk).cpu().numpy())
                except RuntimeError as exc:
                    hint = explain_model_error(exc, chunk, model)
                    if hint is not None:
                        raise hint from exc
                    raise
        return check_model_output(np.concatenate(outs), f"{type(model).__name__}.forward")

    def _torch_tiles(self, X: np.ndarray, masks: np.ndarray, targets: np.ndarray, k: int,
                     tiles: list[tuple[int, int, int, int]], v: np.ndarray) -> None:
        import torch

        model, device = self.model, model_device(self.model)
        dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
        Xt = torch.as_tensor(X, dtype=dtype, device=device)
        bg = torch.as_tensor(self.background, dtype=dtype, device=device)
        w = torch.as_tensor(self.background_weights, dtype=torch.float64, device=device)
        mt = torch.as_tensor(masks, device=device)
        tt = torch.as_tensor(targets, device=device)
        with eval_mode(model), torch.inference_mode():
            for i0, i1, c0, c1 in tiles:
                rows = torch.where(mt[None, c0:c1, None, :], Xt[i0:i1, None, None, :], bg[None, None])
                out = self._torch_out(rows.reshape(-1, self.n_features))
                _check_k(out.shape[1], k)
                out = out.reshape(i1 - i0, c1 - c0, len(bg), k).double()
                picked = torch.gather(out, 3, tt[i0:i1, None, None, None].expand(-1, c1 - c0, len(bg), 1))[..., 0]
                vt = picked @ w
                if not torch.isfinite(vt).all():
                    raise NonFiniteError(f"{type(model).__name__}.forward returned NaN or inf on masked rows (samples "
                                         f"{i0}..{i1 - 1}: x with background values); check the inputs, the "
                                         "background and the model")
                v[i0:i1, c0:c1] = vt.cpu().numpy()


def _check_k(got: int, k: int) -> None:
    if got != k:
        raise ValueError(f"the model returned {got} outputs on masked rows but {k} on X; it must return the "
                         "same (n, k) for any rows")

