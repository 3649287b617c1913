"""ExplainSession: one model, one data set, and every computation the Dashboard shows (no widgets).

The session owns the numbers: class probabilities of every sample (computed once, with each
failing sample isolated so one bad row does not sink the rest), a cache of per-sample
explanations keyed by (method, sample), explanations of edited samples (what-if), global
attributions on a seeded subsample, partial dependence, the global surrogate and the bias
reports. Long computations take a ``control`` (:class:`nbexplain.tasks.TaskControl`) that reports
progress and raises :class:`nbexplain.tasks.Cancelled` between chunks.

Example:
    >>> import numpy as np
    >>> f = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 - 1 / (1 + np.exp(X[:, 0]))]
    >>> X = np.random.default_rng(0).normal(size=(30, 3))
    >>> s = ExplainSession(f, X, (X[:, 0] > 0).astype(int), methods=["kernel_shap"])
    >>> s.kind, s.probabilities().shape, s.explain(0, "kernel_shap").values.shape
    ('table', (30, 2), (3,))
"""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from .frame_inputs import check_missing_ok, check_not_sparse, codes_fn, frame_model, table_input
from .frames import FrameEncoding, is_frame
from .models import is_torch_module, predict_proba, to_numpy
from .output_kind import check_returns, declare, looks_like_probabilities
from .validate import NonFiniteError, check_feature_names, check_finite, check_texts

__all__ = ["DEFAULT_METHODS", "ExplainSession", "looks_like_probabilities"]

#: Methods that take a DataFrame's encoding themselves (``encoding=``): they explain in its columns.
_FRAME_AWARE = ("kernel_shap", "lime_batched")
#: Methods shown when ``methods="auto"``, per kind of data (the first is the what-if method).
DEFAULT_METHODS = {
    "table": ("kernel_shap", "lime_batched"),
    "image": ("saliency", "integrated_gradients"),
    "text": ("token_shap", "token_occlusion"),
}
#: Methods shown when ``methods="auto"`` for a transformers classifier with its tokenizer.
TRANSFORMER_TEXT_METHODS = ("integrated_gradients", "token_shap")
KINDS = ("table", "image", "text")
_BACKGROUND_ROWS = 50


class _NullControl:
    """A control that never cancels and ignores progress (for calls without a runner)."""

    def check(self) -> None:
        return None

    def progress(self, done: float, total: float | None = None, message: str = "") -> None:
        return None


def _control(control: Any) -> Any:
    return _NullControl() if control is None else control


def preprocessed(model: Any, preprocess: Any) -> Any:
    """``model`` called on ``preprocess(x)``: a module holding the user's model (guarded with it).

    Example:
        >>> import torch
        >>> m = preprocessed(torch.nn.Identity(), lambda x: 2 * x)
        >>> m(torch.ones(1, 2)).tolist()
        [[2.0, 2.0]]
    """
    import torch

    class Preprocessed(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, x: Any) -> Any:
            return self.model(preprocess(x))

    return Preprocessed()


def detect_kind(X: Any) -> str:
    """``"text"`` for strings, ``"table"`` for 2-D arrays, ``"image"`` for 3-D / 4-D arrays.

    Example:
        >>> detect_kind(["a good film"]), detect_kind(np.zeros((2, 3))), detect_kind(np.zeros((2, 1, 8, 8)))
        ('text', 'table', 'image')
    """
    if isinstance(X, str):
        raise ValueError("X is one string; pass a list of texts, e.g. [text]")
    if is_frame(X):
        return "table"
    if isinstance(X, (list, tuple)) and X and any(isinstance(t, str) for t in X):
        return "text"  # a None or a number among the texts is then named by check_texts
    arr = np.asarray(X) if not hasattr(X, "detach") else to_numpy(X)
    if arr.dtype.kind in "US":
        return "text"
    if arr.ndim == 2:
        return "table"
    if arr.ndim in (3, 4):
        return "image"
    raise ValueError(f"X must be a table (n, F), images (n, H, W) / (n, C, H, W) or a list of texts; "
                     f"got shape {list(arr.shape)}")


class ExplainSession:
    """A model, its data and labels, and the computations of the Dashboard, cached.

    ``X``: a table ``(n, F)``, images ``(n, H, W)`` / ``(n, C, H, W)`` or a list of texts;
    ``y``: labels ``(n,)`` as class indices (optional; needed for errors and bias). ``methods``:
    one to four registry names (``"auto"``: :data:`DEFAULT_METHODS` of the kind; images need a
    torch model). ``background``: rows that stand in for absent features (tables; default a
    seeded sample of 50 rows of ``X_train`` or ``X``). ``X_train``/``y_train``: the training split
    for the train-vs-test comparison. ``categorical``: ``{feature: {value: label}}`` or
    ``{feature: [values]}`` for what-if dropdowns. ``returns``: what the model outputs,
    ``"probabilities"`` or ``"logits"`` (default ``"auto"``: detected once, by
    :func:`nbexplain.output_kind.detect`, the same rule for every explainer and view).
    ``preprocess``: for images, what turns a picture of ``X`` into the model's input (a
    torchvision ``Normalize``, say): predictions and every method run the model on
    ``preprocess(x)`` while ``X``, the maps and the what-if stay in the picture's own values.
    ``store``: a dataset-wide explanation of ``X`` (:func:`nbexplain.explain_dataset`, a path or
    ``nbx.Explanation.open(path)``): its method's explanations and global views are read from it.
    ``tokenizer``: with texts and a ``transformers`` classifier, its tokenizer; the model is then
    wrapped in :class:`nbexplain.TextExplainer` (words, not sub-word pieces; Integrated Gradients
    on the embeddings and the model-agnostic methods on the same words).

    A pandas DataFrame ``X`` (``X_train``, ``background`` likewise) with numeric, string,
    categorical and bool columns is kept as its :attr:`encoding` (:mod:`nbexplain.frames`): one
    feature per column, named by the columns, ``X`` held as codes, the model (a Pipeline, say)
    always called with the decoded DataFrame; the categories feed ``categorical`` (what-if
    menus) by themselves. Missing values (NaN in a numeric column) are data there: such samples
    are predicted and explained (the model takes the NaN), and the "NaN rows" filter finds them.

    Example:
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
        >>> f = lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))]  # P(class 1) rises with x0
        >>> s = ExplainSession(f, X[10:], y[10:], X_train=X[:10], y_train=y[:10], methods=["kernel_shap"])
        >>> s.explain(3, "kernel_shap").values.shape, s.predicted[:3]
        ((3,), array([0, 1, 0]))
    """

    def __init__(
        self,
        model: Any,
        X: Any,
        y: Any = None,
        *,
        methods: Any = "auto",
        feature_names: Sequence[str] | None = None,
        class_names: Sequence[str] | None = None,
        background: Any = None,
        X_train: Any = None,
        y_train: Any = None,
        categorical: dict[Any, Any] | None = None,
        cache_size: int = 512,
        seed: int = 0,
        returns: str = "auto",
        tokenizer: Any = None,
        preprocess: Any = None,
        store: Any = None,
    ) -> None:
        if tokenizer is not None:  # a transformers classifier: explained in words, both families
            from .text.hf import TextExplainer

            if detect_kind(X) != "text":
                raise ValueError("tokenizer= goes with text data: pass X as a list of texts")
            model = TextExplainer(model, tokenizer, class_names=class_names, seed=seed)
        self.model = model
        if check_returns(returns) != "auto":
            declare(model, returns)  # every explainer and view the session builds honours it
        for arg, value in (("X", X), ("background", background), ("X_train", X_train)):
            check_not_sparse(value, arg)
        self.kind = detect_kind(X)
        #: The DataFrame encoding of the data (:mod:`nbexplain.frames`), None for arrays.
        self.encoding: FrameEncoding | None = None
        if self.kind == "table" and is_frame(X):
            frames = [f for f in (X, X_train, background) if is_frame(f)]
            self.encoding = FrameEncoding.fit(*frames, name="X")
            X = table_input(X, "X", self.encoding)[0]
            X_train = None if X_train is None else table_input(X_train, "X_train", self.encoding)[0]
            if background is not None:
                background = table_input(background, "background", self.encoding)[0]
        #: The model as the explainers call it: on coded rows, decoded to the user's DataFrame first.
        self.model_input = model if self.encoding is None else frame_model(model, self.encoding)
        #: For images the model expects normalised (``preprocess``): X stays the picture the user
        #: sees, the model gets ``preprocess(x)``, and the maps are drawn over the picture.
        self.preprocess = self._check_preprocess(preprocess, model)
        if self.preprocess is not None:
            self.model_input = preprocessed(model, self.preprocess)
        self.seed = int(seed)
        if self.kind == "text":
            self.texts: list[str] | None = check_texts(X, "X")
            self.X: Any = self.texts
            n = len(self.texts)
        else:
            self.texts = None
            self.X = np.asarray(to_numpy(X))
            n = int(self.X.shape[0])
            if self.X.dtype.kind not in "fiub":
                raise ValueError(f"X must be numeric; got dtype {self.X.dtype}. Encode categories as numbers first")
        if n == 0:
            raise ValueError("X has no samples; pass at least one")
        self.n_samples = n
        self.y = None if y is None else np.asarray(to_numpy(y))
        if self.y is not None and (self.y.ndim != 1 or self.y.shape[0] != n):
            raise ValueError(f"y must hold one label per sample: got shape {list(self.y.shape)} for {n} samples")
        if self.y is not None and self.y.dtype.kind not in "iub":
            if self.y.dtype.kind == "f" and np.all(np.isfinite(self.y)) and np.all(self.y == np.round(self.y)):
                self.y = self.y.astype(np.int64)
            else:
                raise ValueError("y must be class indices 0..K-1 (ints); map string labels with class_names first")
        self.feature_names = self._feature_names(feature_names)
        self.class_names_given = None if class_names is None else [str(c) for c in class_names]
        self.X_train = None if X_train is None else (list(X_train) if self.kind == "text" else to_numpy(X_train))
        self.y_train = None if y_train is None else np.asarray(to_numpy(y_train))
        if (self.X_train is None) != (self.y_train is None):
            raise ValueError("pass X_train and y_train together (the train split of the train-vs-test comparison)")
        self.background = self._background(background)
        self.categorical = self._categorical(categorical)
        #: A dataset-wide explanation of X (``nbx.explain_dataset``), read lazily: its method's
        #: per-sample explanations and global views come from it instead of being computed.
        self.store = self._open_store(store)
        self.methods = self._methods(methods)
        self.cache_size = int(cache_size)
        self._cache: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self._explainers: dict[str, Any] = {}
        self._probs: np.ndarray | None = None
        self._nan_rows: np.ndarray | None = None
        self.errors: dict[int, str] = {}
        self.hits = self.misses = 0

    # -- set-up ---------------------------------------------------------------------------------
    def _feature_names(self, names: Sequence[str] | None) -> list[str]:
        if self.kind != "table":
            return [] if names is None else [str(f) for f in names]
        f = self.X.shape[1]
        if names is None:
            return list(self.encoding.names) if self.encoding is not None else [f"feature {i}" for i in range(f)]
        return check_feature_names(names, f) or []

    def _background(self, background: Any) -> Any:
        if self.kind != "table":
            return background
        if background is not None:
            bg = np.asarray(to_numpy(background), dtype=np.float64)
            if bg.ndim != 2 or bg.shape[1] != self.X.shape[1]:
                raise ValueError(f"background must be rows (m, {self.X.shape[1]}); got shape {list(bg.shape)}")
            if self.encoding is not None:  # coded already (NaN = a missing value, the model takes it)
                return bg
            return check_finite(bg, "background", feature_names=self.feature_names,
                                fix="Pass background rows without missing values (drop or impute them)")
        pool = np.asarray(self.X_train if self.X_train is not None else self.X, dtype=np.float64)
        if self.encoding is None:
            pool = pool[np.all(np.isfinite(pool), axis=1)]
        else:  # a DataFrame's missing values are data: rows with NaN stay (inf was refused)
            pool = pool[~np.any(np.isinf(pool), axis=1)]
        if pool.shape[0] == 0:
            raise ValueError("every row of X has NaN or inf; pass background= rows without missing values")
        rng = np.random.default_rng(self.seed)
        take = rng.choice(pool.shape[0], size=min(_BACKGROUND_ROWS, pool.shape[0]), replace=False)
        return pool[np.sort(take)]

    def _categorical(self, categorical: dict[Any, Any] | None) -> dict[int, list[tuple[float, str]]]:
        auto = self.encoding.choices() if self.encoding is not None else {}
        if not categorical:
            return auto
        if self.kind != "table":
            raise ValueError("categorical= applies to tables (feature -> values); this data is not a table")
        from .explainers.global_methods._tabular_inputs import resolve_feature

        out: dict[int, list[tuple[float, str]]] = dict(auto)  # a DataFrame's categories; the ones given win
        for key, spec in categorical.items():
            j = resolve_feature(key, self.feature_names)
            items = list(spec.items()) if isinstance(spec, dict) else [(v, None) for v in spec]
            if not items:
                raise ValueError(f"categorical feature {self.feature_names[j]!r} has no values; list them")
            out[j] = [(float(v), str(v) if label is None else str(label)) for v, label in items]
        return out

    def _open_store(self, store: Any) -> Any:
        if store is None:
            return None
        from .scale.lazy import LazyExplanation

        lazy = store if isinstance(store, LazyExplanation) else LazyExplanation(store)
        if lazy.n_samples != self.n_samples:
            raise ValueError(f"the store explains {lazy.n_samples} rows but X has {self.n_samples}; pass the store "
                             "written for this X")
        return lazy

    def from_store(self, method: str) -> bool:
        """Whether ``method``'s explanations come from the store (its method, the store given)."""
        return self.store is not None and self.store.method == method

    def _check_preprocess(self, preprocess: Any, model: Any) -> Any:
        if preprocess is None:
            return None
        if not callable(preprocess):
            raise TypeError(f"preprocess must be a callable tensor -> tensor (e.g. torchvision's Normalize), got "
                            f"{type(preprocess).__name__}")
        if self.kind != "image" or not is_torch_module(model):
            raise ValueError("preprocess= goes with images and a torch model: X holds the pictures as the user "
                             "sees them and the model is called on preprocess(x)")
        return preprocess

    def _methods(self, methods: Any) -> list[str]:
        if methods == "auto":
            if self.kind == "image" and not is_torch_module(self.model):
                raise ValueError("images are explained with gradient methods, which need a torch.nn.Module; "
                                 f"got a {type(self.model).__name__}. Pass methods=[...] of model-agnostic names")
            names = list(DEFAULT_METHODS[self.kind])
            from .text.hf import is_text_explainer

            if is_text_explainer(self.model):
                names = list(TRANSFORMER_TEXT_METHODS)
            if self.store is not None:  # the stored method first: its explanations are read, not computed
                names = [self.store.method, *[m for m in names if m != self.store.method]][:4]
        elif isinstance(methods, str):
            names = [methods]
        else:
            names = [str(m) for m in methods]
        if not 1 <= len(names) <= 4:
            raise ValueError(f"pass one to four methods, got {len(names)}: {names}")
        if len(set(names)) != len(names):
            raise ValueError(f"methods has duplicates: {names}")
        from .explainers.registry import available_explainers

        known = set(available_explainers())
        for name in names:
            if name not in known:
                import difflib

                close = difflib.get_close_matches(name, sorted(known), n=3)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                raise ValueError(f"unknown method {name!r}{hint} Known: {', '.join(sorted(known))}")
        return names

    # -- predictions ----------------------------------------------------------------------------
    def predict(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, K)`` of a batch (texts: a list of strings).

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> s.predict(s.X[:2]).shape
            (2, 2)
        """
        if self.kind == "text":
            return np.asarray(predict_proba(self.model, np.asarray(list(X), dtype=object)), dtype=np.float64)
        return np.asarray(predict_proba(self.model_input, X), dtype=np.float64)

    def probabilities(self, control: Any = None, batch_size: int = 4096) -> np.ndarray:
        """Probabilities ``(n, K)`` of every sample, computed once in batches.

        A batch whose model call raises is retried row by row: the rows that fail get NaN
        probabilities and their message in :attr:`errors` (shown in that sample's panel), the
        others keep theirs.

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> s.probabilities().sum(axis=1)[:2]
            array([1., 1.])
        """
        if self._probs is not None:
            return self._probs
        ctl = _control(control)
        n = self.n_samples
        parts: list[tuple[int, np.ndarray | None]] = []
        k: int | None = None
        for start in range(0, n, batch_size):
            ctl.check()
            stop = min(n, start + batch_size)
            try:
                p: np.ndarray | None = self.predict(self.X[start:stop])
            except Exception:
                p = self._predict_rows(start, stop)
            if p is not None:
                k = p.shape[1]
            parts.append((stop - start, p))
            ctl.progress(stop, n, "predicting")
        if k is None:
            first = next(iter(self.errors.items()), (0, "no sample could be predicted"))
            raise RuntimeError(f"the model failed on every sample; sample {first[0]}: {first[1]}")
        full = np.concatenate([np.full((m, k), np.nan) if p is None else p for m, p in parts], axis=0)
        self._probs = full.astype(np.float64)
        if self.class_names_given is not None and len(self.class_names_given) != k:
            raise ValueError(f"class_names has {len(self.class_names_given)} names but the model gives {k} outputs")
        return self._probs

    def _predict_rows(self, start: int, stop: int) -> np.ndarray | None:
        rows: list[np.ndarray | None] = []
        for i in range(start, stop):
            try:
                rows.append(self.predict(self.X[i : i + 1])[0])
            except Exception as exc:
                self.errors[i] = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
                rows.append(None)
        good = [r for r in rows if r is not None]
        if not good:
            return None
        k = good[0].shape[0]
        return np.stack([np.full(k, np.nan) if r is None else r for r in rows])

    @property
    def n_classes(self) -> int:
        """K, the number of model outputs.

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> s.n_classes
            2
        """
        return int(self.probabilities().shape[1])

    @property
    def class_names(self) -> list[str]:
        """The class names given, else the model's own (``model.class_names``), else ``"class 0" ...``.

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> s.class_names
            ['class 0', 'class 1']
            >>> ExplainSession(s.model, X, y, class_names=["no", "yes"]).class_names
            ['no', 'yes']
        """
        if self.class_names_given:
            return self.class_names_given
        own = getattr(self.model, "class_names", None)  # a TextExplainer's (config.id2label), a TextClassifier's
        if own is not None and len(own) == self.n_classes:
            return [str(c) for c in own]
        return [f"class {i}" for i in range(self.n_classes)]

    @functools.cached_property
    def predicted(self) -> np.ndarray:
        """Predicted class per sample (int64, read-only; -1 where the model failed). Computed once.

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> (s.predicted != s.y).sum()    # misclassified count
            np.int64(4)
        """
        p = self.probabilities()
        ok = np.all(np.isfinite(p), axis=1)
        out = np.full(p.shape[0], -1, dtype=np.int64)
        out[ok] = np.argmax(p[ok], axis=1)
        out.flags.writeable = False
        return out

    @functools.cached_property
    def feature_range(self) -> np.ndarray:
        """Tables: the data's (min, max) per feature, ``(2, F)``, NaN ignored. Computed once.

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> s.feature_range.shape
            (2, 3)
        """
        self._need_table("a feature range")
        X = np.asarray(self.X, dtype=np.float64)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column stays NaN
            return np.vstack([np.nanmin(X, axis=0), np.nanmax(X, axis=0)])

    def nan_rows(self) -> np.ndarray:
        """Samples (bool ``(n,)``, read-only) with a NaN or infinite input value (never for text). Computed once.

        Example:
            >>> import numpy as np
            >>> X = np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, np.inf]])
            >>> s = ExplainSession(lambda X: np.c_[1 - np.isnan(X[:, 0]), np.isnan(X[:, 0]) * 1.0], X)
            >>> s.nan_rows()
            array([False,  True,  True])
        """
        if self._nan_rows is None:
            if self.kind == "text":
                self._nan_rows = np.zeros(self.n_samples, dtype=bool)
            else:
                flat = np.asarray(self.X, dtype=np.float64).reshape(self.n_samples, -1)
                self._nan_rows = ~np.all(np.isfinite(flat), axis=1)
            self._nan_rows.flags.writeable = False
        return self._nan_rows

    def nan_features(self, i: int) -> list[str]:
        """Names of the features of sample ``i`` that are NaN or inf (tables), else ``[]``.

        Example:
            >>> import numpy as np
            >>> X = np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, 0.5]])
            >>> s = ExplainSession(lambda X: np.c_[1 - np.isnan(X[:, 0]), np.isnan(X[:, 0]) * 1.0], X,
            ...                    feature_names=["age", "income"])
            >>> s.nan_features(1), s.nan_features(0)
            (['age'], [])
        """
        if self.kind != "table":
            return []
        row = np.asarray(self.X[i], dtype=np.float64)
        return [self.feature_names[j] for j in np.flatnonzero(~np.isfinite(row))]

    # -- explanations ---------------------------------------------------------------------------
    def explainer(self, method: str) -> Any:
        """The explainer object behind ``method`` (built on first use).

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> s.explainer("kernel_shap").explain(s.X[:1]).method   # 3 features: exact enumeration
            'kernel_shap_exact'
        """
        if method not in self._explainers:
            from .explainers.registry import get_explainer, uses_data

            data = self.background if (self.kind == "table" and uses_data(method)) else None
            enc = self.encoding
            if self.preprocess is not None:  # every image method calls the model on preprocess(x)
                self._explainers[method] = get_explainer(method, self.model, data=data, preprocess=self.preprocess)
            elif enc is None:
                self._explainers[method] = get_explainer(method, self.model, data=data)
            elif method in _FRAME_AWARE:  # explains in the DataFrame's columns, calls the model with the frame
                self._explainers[method] = get_explainer(method, self.model, data=data, encoding=enc)
            else:  # codes in, the model behind the frame wrapper (category codes are swapped whole)
                if method == "lime" and enc.categorical_indices:
                    cats = [enc.names[j] for j in enc.categorical_indices]
                    raise ValueError(f"method 'lime' (the lime package) perturbs every column as a number, but "
                                     f"{cats[:5]} hold categories; use 'lime_batched' (LIME with those columns as "
                                     "categorical features)")
                if data is not None:  # these take no missing values: their background is the complete rows
                    data = data[~np.isnan(data).any(axis=1)]
                    if not len(data):
                        raise ValueError(f"method {method!r} takes no missing values and every background row has "
                                         "one; use 'kernel_shap' or 'lime_batched', or pass background= rows")
                self._explainers[method] = get_explainer(method, self.model_input, data=data)
        return self._explainers[method]

    def target_of(self, i: int) -> int:
        """The class explained for sample ``i``: its predicted class (0 when the model failed).

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> s.target_of(3) == int(s.predicted[3])
            True
        """
        return max(int(self.predicted[i]), 0)

    def _single(self, method: str, x: Any, target: int) -> Any:
        """Explain one input (a batch of one) for ``target``; returns the single-sample Explanation."""
        e = self.explainer(method).explain(x, target=np.array([target]))
        if isinstance(e, list):
            e = e[0]
        return e[0] if not getattr(e, "is_single", False) else e

    def sample_input(self, i: int) -> Any:
        """Sample ``i`` as a batch of one (a one-string list for text).

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> s.sample_input(0).shape
            (1, 3)
        """
        return [self.texts[i]] if self.texts is not None else self.X[i : i + 1]

    def cached(self, i: int, method: str) -> Any:
        """The cached explanation of sample ``i`` by ``method``, or None (no computation).

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> s.cached(3, "kernel_shap") is None    # nothing computed yet
            True
            >>> e = s.explain(3, "kernel_shap")
            >>> s.cached(3, "kernel_shap") is e
            True
        """
        key = (method, int(i))
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        return None

    def _check_sample_finite(self, i: int) -> None:
        """Raise :class:`~nbexplain.validate.NonFiniteError` naming sample ``i``'s first NaN / inf feature.

        (The explainers see a batch of one, so their own message would say "row 0".)
        """
        if self.texts is not None:
            return
        row = np.asarray(self.X[i])
        if row.dtype.kind not in "fc" or np.isfinite(row).all():
            return
        if self.encoding is not None:  # a DataFrame's NaN is a missing value the model takes (inf was refused)
            check_missing_ok(row[None], f"sample {i}", self.encoding)
            return
        flat = np.flatnonzero(~np.isfinite(row.reshape(-1)))
        j = int(flat[0])
        value = row.reshape(-1)[j]
        kind = "NaN" if np.isnan(value) else ("inf" if value > 0 else "-inf")
        if self.kind == "table":
            where = f"feature {self.feature_names[j]!r} (column {j})" if self.feature_names else f"column {j}"
        else:
            where = f"position {tuple(int(a) for a in np.unravel_index(j, row.shape))}"
        raise NonFiniteError(f"sample {i} holds {kind} in {where} ({flat.size} non-finite value"
                             f"{'s' if flat.size > 1 else ''}); the explainers need finite inputs: impute it "
                             "(e.g. sklearn.impute.SimpleImputer) or look at another sample")

    def explain(self, i: int, method: str) -> Any:
        """The explanation of sample ``i`` for its predicted class by ``method`` (LRU-cached).

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> e = s.explain(3, "kernel_shap")
            >>> bool(e.target == s.predicted[3]), e.values.shape
            (True, (3,))
        """
        if not 0 <= int(i) < self.n_samples:
            raise IndexError(f"sample {i} is out of range: 0..{self.n_samples - 1}")
        hit = self.cached(i, method)
        if hit is not None:
            self.hits += 1
            return hit
        if int(i) in self.errors:
            raise RuntimeError(f"the model failed on sample {i}, so it cannot be explained: {self.errors[int(i)]}")
        self.misses += 1
        if self.from_store(method) and self.store.finished_rows[int(i)]:
            e = self.store[int(i)]  # read, not computed
        else:
            self._check_sample_finite(int(i))
            e = self._single(method, self.sample_input(int(i)), self.target_of(int(i)))
        self._cache[(method, int(i))] = e
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return e

    def explain_input(self, x: Any, method: str, target: int) -> Any:
        """Explain an edited input (a what-if sample: a row, an image or a text) for ``target``; not cached.

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> edited = s.X[3].copy(); edited[0] = 2.0    # what if feature 0 were 2?
            >>> e = s.explain_input(edited, "kernel_shap", target=1)
            >>> e.values.shape, bool(e.values[0] > 0)    # feature 0 pushes class 1 up
            ((3,), True)
        """
        if self.kind == "text":
            batch: Any = [str(x)]
        else:
            batch = np.asarray(x)[None]
        return self._single(method, batch, int(target))

    # -- global views ---------------------------------------------------------------------------
    def subsample(self, n_max: int) -> np.ndarray:
        """A seeded, sorted subsample of at most ``n_max`` sample indices the model did not fail on.

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> s.subsample(5).size, s.subsample(100).size    # at most n_max, at most every sample
            (5, 20)
        """
        ok = np.flatnonzero(self.predicted >= 0)
        if ok.size > n_max:
            ok = np.sort(np.random.default_rng(self.seed).choice(ok, size=n_max, replace=False))
        return ok

    def global_attributions(self, method: str, n_max: int = 500, control: Any = None,
                            batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """Attributions of a subsample for each sample's predicted class: ``(indices, values)``.

        ``values`` is ``(m, F)`` for tables, ``(m, H, W)`` (channel-summed) for images and, for
        text, a ragged list is not returned: text uses :meth:`token_importance` instead.

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> idx, vals = s.global_attributions("kernel_shap", n_max=8)
            >>> idx.shape, vals.shape
            ((8,), (8, 3))
        """
        ctl = _control(control)
        if self.from_store(method):  # a stratified sample of the stored rows, read chunk by chunk
            e = self.store.sample(n_max, seed=self.seed)
            v = np.asarray(e.values, dtype=np.float64)
            if self.kind == "image" and v.ndim == 4:
                v = v.sum(axis=1)
            return np.asarray(e.params["rows"]), v
        idx = self.subsample(n_max)
        targets = self.predicted[idx]
        out: list[np.ndarray] = []
        explainer = self.explainer(method)
        for start in range(0, idx.size, batch_size):
            ctl.check()
            part = idx[start : start + batch_size]
            e = explainer.explain(self.X[part], target=targets[start : start + batch_size])
            v = np.asarray(to_numpy(e.values), dtype=np.float64)
            if v.ndim == np.ndim(self.X) + 1:  # a trailing output axis: pick each row's target
                v = np.take_along_axis(v, targets[start : start + batch_size].reshape(-1, *([1] * (v.ndim - 1))),
                                       axis=-1)[..., 0]
            if self.kind == "image" and v.ndim == 4:
                v = v.sum(axis=1)
            out.append(v)
            ctl.progress(min(idx.size, start + batch_size), idx.size, f"{method} on {idx.size} samples")
        values = np.concatenate(out, axis=0) if out else np.zeros((0, *np.shape(self.X)[1:]))
        return idx, values

    def token_importance(self, method: str, n_max: int = 200, control: Any = None,
                         top: int = 20) -> tuple[list[str], np.ndarray]:
        """Text: the tokens with the largest mean |attribution| over a subsample, and those means.

        Example:
            >>> import numpy as np
            >>> texts = ["good film", "bad film", "good plot", "a bad one"]
            >>> f = lambda T: np.array([[0.9, 0.1], [0.1, 0.9]])[[int("good" in t) for t in T]]  # "good": class 1
            >>> s = ExplainSession(f, texts, [1, 0, 1, 0])
            >>> tokens, means = s.token_importance("token_shap", n_max=4, top=2)
            >>> tokens[0], round(float(means[0]), 2)    # mean |attribution| of "good"
            ('good', 0.8)
        """
        ctl = _control(control)
        idx = self.subsample(n_max)
        sums: dict[str, list[float]] = {}
        for count, i in enumerate(idx):
            ctl.check()
            e = self.explain(int(i), method)
            for tok, v in zip(list(e.feature_names or []), np.asarray(to_numpy(e.values)).reshape(-1), strict=False):
                sums.setdefault(str(tok), []).append(abs(float(v)))
            ctl.progress(count + 1, idx.size, f"{method} on {idx.size} texts")
        ranked = sorted(sums.items(), key=lambda kv: -float(np.mean(kv[1])))[:top]
        return [t for t, _ in ranked], np.array([float(np.mean(v)) for _, v in ranked])

    def partial_dependence(self, feature: int, *, n_max: int = 300, grid_resolution: int = 30) -> Any:
        """PDP and ICE of one feature for the class the model predicts most, on a subsample.

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> s.partial_dependence(0, grid_resolution=5).average.shape
            (5,)
        """
        from .explainers.global_methods.partial_dependence import partial_dependence

        self._need_table("partial dependence")
        idx = self.subsample(n_max)
        target = int(np.bincount(self.predicted[idx]).argmax()) if idx.size else 0
        Xs = np.asarray(self.X[idx], dtype=np.float64)
        keep = self._usable_rows(Xs)
        r = partial_dependence(self._probabilities_of_codes(), Xs[keep], int(feature),
                               grid_resolution=grid_resolution, kind="both", target=target,
                               feature_names=self.feature_names, encoding=self.encoding)
        finite = idx[keep]
        r.ice_rows = None if r.ice is None else (finite if r.ice_rows is None else finite[np.asarray(r.ice_rows)])
        return r

    def ice_line(self, row: Any, feature: int, grid: Any, target: int) -> np.ndarray:
        """The model output for ``target`` as ``feature`` of ``row`` (a sample or an edited one) runs over ``grid``.

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> s.ice_line(s.X[0], 0, np.linspace(0, 1, 3), target=1).round(2)    # P(class 1) rises with x0
            array([0.5 , 0.62, 0.73])
        """
        self._need_table("an ICE line")
        g = np.asarray(grid, dtype=np.float64).reshape(-1)
        rows = np.repeat(np.asarray(row, dtype=np.float64).reshape(1, -1), g.size, axis=0)
        rows[:, int(feature)] = g
        return np.asarray(predict_proba(self.model_input, rows.astype(np.asarray(self.X).dtype)))[:, int(target)]

    def surrogate(self, n_max: int = 2000) -> Any:
        """A global linear surrogate of the predicted-class probability and its fidelity (R²).

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> 0.5 < s.surrogate().fidelity <= 1    # R² of the linear fit
            True
        """
        from .explainers.global_methods.surrogates import GlobalSurrogate

        self._need_table("the global surrogate")
        idx = self.subsample(n_max)
        Xs = np.asarray(self.X[idx], dtype=np.float64)
        Xs = Xs[self._usable_rows(Xs)]
        target = int(np.bincount(self.predicted[idx]).argmax()) if idx.size else 0
        return GlobalSurrogate(self._probabilities_of_codes(), kind="linear", feature_names=self.feature_names,
                               target=target, seed=self.seed, encoding=self.encoding).fit(Xs)

    def _usable_rows(self, Xs: np.ndarray) -> np.ndarray:
        """Rows the global views use: finite ones; a DataFrame's missing values (NaN) are kept as data."""
        if self.encoding is not None:
            return ~np.any(np.isinf(Xs), axis=1)
        return np.all(np.isfinite(Xs), axis=1)

    def _probabilities_of_codes(self) -> Any:
        """``f(rows) -> probabilities`` on the session's rows (codes of a DataFrame: decoded for the model)."""
        return codes_fn(lambda A: predict_proba(self.model_input, A))

    def split_comparison(self) -> Any:
        """Train-vs-test metrics (``None`` without ``X_train``/``y_train`` or labels).

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> s.split_comparison() is None    # no X_train / y_train given
            True
            >>> s = ExplainSession(s.model, X[10:], y[10:], X_train=X[:10], y_train=y[:10])
            >>> sorted(s.split_comparison().gaps["test"])    # test minus train, per metric
            ['accuracy', 'balanced_accuracy', 'log_loss', 'macro_f1']
        """
        from .diagnostics.bias import compare_splits

        if self.y is None or self.X_train is None:
            return None
        X_test = np.asarray(self.texts, dtype=object) if self.kind == "text" else self.X
        X_tr = np.asarray(self.X_train, dtype=object) if self.kind == "text" else self.X_train
        ok = self.predicted >= 0
        return compare_splits(lambda A: self.predict(A), {"train": (X_tr, self.y_train),
                                                          "test": (X_test[ok], self.y[ok])}, task="classification")

    def slices(self, feature: int, bins: int = 5) -> Any:
        """Per-slice metrics of one feature (tables with labels).

        Example:
            >>> import numpy as np
            >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
            >>> s = ExplainSession(lambda X: np.c_[1 / (1 + np.exp(X[:, 0])), 1 / (1 + np.exp(-X[:, 0]))], X, y)
            >>> [sl.size for sl in s.slices(0, bins=4).slices]    # quantile bins of feature 0
            [5, 5, 5, 5]
        """
        from .diagnostics.bias import slice_metrics

        self._need_table("slice metrics")
        if self.y is None:
            raise ValueError("slice metrics need the true labels: pass y")
        ok = (self.predicted >= 0) & (~self.nan_rows() if self.encoding is None else True)
        enc, j = self.encoding, int(feature)
        cats: Any = "auto"
        if enc is not None and j in enc.categorical_indices:
            cats = np.unique(self.X[ok, j]).tolist()
        report = slice_metrics(lambda A: self.predict(A), self.X[ok], self.y[ok], j, bins=bins, categories=cats,
                               feature_names=self.feature_names, task="classification")
        if enc is not None and j in enc.categorical_indices:  # the categories' labels, not their codes
            import dataclasses

            report.slices = [dataclasses.replace(sl, label=f"{self.feature_names[j]} = {enc.label_of(j, sl.value)}")
                             if sl.value is not None else sl for sl in report.slices]
        return report

    def _need_table(self, what: str) -> None:
        if self.kind != "table":
            raise ValueError(f"{what} needs a table (n, F); this session holds {self.kind} data")
