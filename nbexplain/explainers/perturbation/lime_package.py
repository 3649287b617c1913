"""LIME for images and text through the ``lime`` package, converted to :class:`Explanation`.

:class:`LimeImage` wraps ``lime.lime_image.LimeImageExplainer``: superpixels from lime's
``SegmentationAlgorithm`` (quickshift by default, lime's own default), each switched on or off
in ``num_samples`` perturbed images, a ridge surrogate on the on/off pattern. The per-superpixel
weights are painted back onto the pixels, so ``values`` is ``(n, H, W)``; the segment map is in
``diagnostics["segments"]``.

:class:`LimeText` wraps ``lime.lime_text.LimeTextExplainer`` for one document: ``values`` is
``(1, T)`` over the document's distinct tokens, and the tokens are the ``feature_names``. Tokens
are user text: they are shown as text, never as HTML.

Both seed lime's generator (and the segmentation) per sample, so reruns are identical.
``neighbourhood(...)`` on either returns the perturbed samples lime drew and the surrogate it
fitted on them, from lime's own pieces (``LimeImageExplainer.data_labels``, the text explainer's
``__data_labels_distances``, ``LimeBase.explain_instance_with_data``) with the same seed: the
neighbourhood ``explain`` fits (:mod:`nbexplain.explainers.teaching.lime_neighbourhood` draws it).

Example:
    >>> import numpy as np
    >>> img = np.zeros((1, 16, 16, 3)); img[0, :, 8:] = 1.0
    >>> f = lambda X: np.stack([1 - X[..., 0].mean((1, 2)), X[..., 0].mean((1, 2))], 1)
    >>> seg = lambda im: (im[..., 0] > 0.5).astype(int)  # two superpixels: left and right half
    >>> e = LimeImage(f, segmentation=seg, hide_color=0.0, num_samples=50).explain(img, target=1)
    >>> e.values.shape, bool(e.values[0, 0, 15] > e.values[0, 0, 0])
    ((1, 16, 16), True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nbexplain.explainers._targets import resolve_target
from nbexplain.explanation import Explanation
from nbexplain.guard import guarded
from nbexplain.models import as_predict_fn, to_numpy
from nbexplain.validate import (
    ModelInputError,
    check_class_names,
    check_finite,
    check_int,
    check_model_output,
    check_number,
    checked_predict,
)

_SEGMENTERS: dict[str, dict[str, Any]] = {  # lime's default quickshift; the others with scikit-image's usual settings
    "quickshift": {"kernel_size": 4, "max_dist": 200, "ratio": 0.2},
    "slic": {"n_segments": 50, "compactness": 10, "start_label": 0},
    "felzenszwalb": {"scale": 100, "sigma": 0.5, "min_size": 20},
}


def _images(X: Any) -> np.ndarray:
    arr = to_numpy(X)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"images must be numeric, got dtype {arr.dtype}")
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim == 4 and arr.shape[1] in (1, 3) and arr.shape[-1] not in (1, 3):
        raise ValueError(f"images must be channels-last (n, H, W, 3) or (n, H, W) for LIME, got shape {arr.shape}, "
                         "which is channels-first (NCHW); use x.transpose(0, 2, 3, 1) (torch: x.permute(0, 2, 3, 1))")
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3):
        raise ValueError(f"images must be (n, H, W, 3) or (n, H, W) channels-last, got shape {arr.shape}; "
                         "LIME's segmentation needs an RGB or gray image per sample"
                         + ("; add the sample axis with x[None]" if arr.ndim == 2 else ""))
    if arr.shape[0] == 0:
        raise ValueError("no images to explain (shape[0] == 0)")
    arr = check_finite(arr.astype(np.float64), "images")
    return np.repeat(arr, 3, axis=-1) if arr.shape[-1] == 1 else arr


class LimeImage:
    """LIME superpixel weights painted on the pixels: values ``(n, H, W)``.

    ``model_or_predict`` takes a batch of channels-last RGB images ``(N, H, W, 3)`` (gray input is
    repeated to three channels, as lime does) and returns class probabilities ``(N, k)``.
    ``segmentation``: ``"quickshift"`` (lime's default), ``"slic"``, ``"felzenszwalb"`` or a
    callable ``image (H, W, 3) -> int segments (H, W)``. ``hide_color=None`` fills a switched-off
    superpixel with its mean colour (lime's default), a number fills it with that value.
    ``kernel_width`` (lime's default 0.25) is the width of lime's kernel on the cosine distance
    between on/off patterns. ``base_values`` is the surrogate's intercept; ``diagnostics`` holds ``segments`` ``(n, H, W)``,
    ``score`` (weighted R^2) and ``local_prediction``.

    Example:
        >>> import numpy as np
        >>> img = np.random.RandomState(0).rand(1, 12, 12, 3)
        >>> f = lambda X: np.stack([X.mean((1, 2, 3)), 1 - X.mean((1, 2, 3))], 1)
        >>> e = LimeImage(f, segmentation="slic", num_samples=40).explain(img)
        >>> e.diagnostics["segments"].shape, e.diagnostics["score"].shape
        ((1, 12, 12), (1,))
    """

    def __init__(self, model_or_predict: Any, *, segmentation: str | Callable[[np.ndarray], np.ndarray] = "quickshift",
                 num_samples: int = 1000, seed: int = 0, hide_color: float | None = None,
                 class_names: Sequence[str] | None = None, batch_size: int = 256, kernel_width: float = 0.25) -> None:
        if isinstance(segmentation, str) and segmentation not in _SEGMENTERS:
            raise ValueError(f"segmentation must be one of {sorted(_SEGMENTERS)} or a callable, got {segmentation!r}")
        if not callable(segmentation) and not isinstance(segmentation, str):
            raise TypeError(f"segmentation must be a name or a callable image -> segments, got {segmentation!r}")
        num_samples = check_int(num_samples, "num_samples", min=2)
        if hide_color is not None:
            hide_color = check_number(hide_color, "hide_color")
        self.segmentation, self.num_samples, self.seed = segmentation, num_samples, check_int(seed, "seed", min=0)
        self.hide_color, self.batch_size = hide_color, check_int(batch_size, "batch_size", min=1)
        self.kernel_width = check_number(kernel_width, "kernel_width", min=0.0, min_open=True)
        self.class_names = check_class_names(class_names)
        self.predict = checked_predict(as_predict_fn(model_or_predict, output="probabilities"
                                                     if not hasattr(model_or_predict, "predict_proba") else "auto"),
                                       model_or_predict, "the model")

    def __repr__(self) -> str:
        seg = self.segmentation if isinstance(self.segmentation, str) else "callable"
        return f"LimeImage(segmentation={seg!r}, num_samples={self.num_samples}, seed={self.seed})"

    def _segmenter(self, seed: int | None = None) -> Callable[[np.ndarray], np.ndarray]:
        if callable(self.segmentation):
            user = self.segmentation

            def segment(image: np.ndarray) -> np.ndarray:
                seg = np.asarray(user(image))
                if seg.shape != image.shape[:2] or not np.issubdtype(seg.dtype, np.integer):
                    raise ValueError(f"segmentation returned {seg.dtype} {seg.shape}; it must return int segments "
                                     f"shaped like the image, {image.shape[:2]}")
                return seg
            return segment
        from lime.wrappers.scikit_image import SegmentationAlgorithm  # type: ignore[import-untyped]

        algorithm: Callable[[np.ndarray], np.ndarray] = SegmentationAlgorithm(
            self.segmentation, random_seed=self.seed if seed is None else seed, **_SEGMENTERS[self.segmentation])
        return algorithm

    @guarded
    def explain(self, X: Any, target: Any = None) -> Explanation:
        """Explain each image of ``X`` ``(n, H, W, 3)`` for ``target`` (default: predicted class).

        Example:
            >>> import numpy as np
            >>> f = lambda X: np.stack([X[..., 0].mean((1, 2)), 1 - X[..., 0].mean((1, 2))], 1)
            >>> e = LimeImage(f, segmentation="slic", num_samples=30, seed=2).explain(np.ones((2, 8, 8)))
            >>> e.values.shape, e.target.tolist()
            ((2, 8, 8), [0, 0])
        """
        import lime.lime_image as lime_image  # type: ignore[import-untyped]

        images = _images(X)
        n = images.shape[0]
        preds, targets = self._targets(images, target)
        segmenter = self._segmenter()
        values = np.zeros(images.shape[:3])
        segments = np.zeros(images.shape[:3], dtype=np.int64)
        base, score, local = np.zeros(n), np.zeros(n), np.zeros(n)
        progress = lime_image.tqdm
        lime_image.tqdm = lambda rows, **_: rows  # lime 0.2 draws a progress bar per image; not in notebooks
        try:
            exps = []
            for i in range(n):
                explainer = lime_image.LimeImageExplainer(kernel_width=self.kernel_width,
                                                          random_state=self.seed)  # fresh generator per image
                exps.append(explainer.explain_instance(
                    images[i], self.predict, labels=(int(targets[i]),), top_labels=None, hide_color=self.hide_color,
                    num_samples=self.num_samples, batch_size=self.batch_size, segmentation_fn=segmenter,
                    random_seed=self.seed))
        finally:
            lime_image.tqdm = progress
        for i, exp in enumerate(exps):
            label = int(targets[i])
            segments[i] = exp.segments
            weights = np.zeros(int(exp.segments.max()) + 1)
            for seg, weight in exp.local_exp[label]:
                weights[seg] = weight
            values[i] = weights[exp.segments]
            base[i], score[i] = float(exp.intercept[label]), float(exp.score)
            local[i] = float(np.ravel(exp.local_pred)[0])
        return Explanation(
            values, base, images, output_names=self.class_names, target=targets,
            outputs=preds[np.arange(n), targets], method="lime_image",
            params={"seed": self.seed, "num_samples": self.num_samples, "hide_color": self.hide_color,
                    "segmentation": self.segmentation if isinstance(self.segmentation, str) else "callable",
                    "kernel_width": self.kernel_width},
            diagnostics={"segments": segments, "score": score, "local_prediction": local},
        )

    def _targets(self, images: np.ndarray, target: Any) -> tuple[np.ndarray, np.ndarray]:
        """The model's outputs for ``images`` and the class explained per image, checked."""
        try:
            preds = check_model_output(self.predict(images), "the model")
        except ModelInputError as exc:
            if "channels-last" not in str(exc):
                raise
            raise ModelInputError("LimeImage passes the model channels-last images (N, H, W, 3), as lime does, and "
                                  "this CNN takes (N, C, H, W): wrap it, e.g. LimeImage(lambda X: torch.softmax(model("
                                  "torch.as_tensor(X, dtype=torch.float32).permute(0, 3, 1, 2)), 1).detach().numpy())"
                                  ) from exc
        if preds.shape[1] < 2:
            raise ValueError("LimeImage explains class probabilities (n, k >= 2) but the model returns one column")
        if self.class_names is not None and len(self.class_names) != preds.shape[1]:
            raise ValueError(f"got {len(self.class_names)} class_names but the model has {preds.shape[1]} outputs")
        return preds, resolve_target(target, preds)

    @guarded
    def neighbourhood(self, image: Any, target: Any = None, *, seed: int | None = None,
                      num_samples: int | None = None, segments: Any = None) -> dict[str, Any]:
        """The masked images lime drew around one ``image`` and the surrogate it fitted: ``explain``'s fit.

        Calls lime's own pieces as ``explain_instance`` does, with a generator seeded ``seed``
        (default the explainer's): the segmentation, the "hidden" image, ``data_labels`` (the on/off
        patterns and the model's outputs), the cosine distances and
        ``LimeBase.explain_instance_with_data`` (the fit). ``segments``: an int map ``(H, W)`` to use
        instead of segmenting (so several seeds share superpixels). Keys: ``"interpretable"``
        ``(S, n_segments)`` on/off patterns (row 0: all on), ``"outputs"`` ``(S, k)``, ``"y"`` ``(S,)``
        (the target class' output), ``"target"``, ``"distances"`` (cosine), ``"weights"`` (lime's
        kernel), ``"coef"`` ``(n_segments,)``, ``"intercept"``, ``"score"`` (lime's weighted R^2),
        ``"local_prediction"``, ``"segments"`` ``(H, W)``, ``"image"`` and ``"hidden"`` ``(H, W, 3)``
        (what a switched-off superpixel shows), ``"kernel_width"``, ``"seed"``, ``"num_samples"``.
        The masked images themselves are not kept (``num_samples`` images); rebuild any of them with
        :func:`~nbexplain.explainers.teaching.lime_samples.masked_images`.

        Example:
            >>> img = np.zeros((16, 16, 3)); img[:, 8:] = 1.0
            >>> f = lambda X: np.stack([1 - X[..., 0].mean((1, 2)), X[..., 0].mean((1, 2))], 1)
            >>> lime = LimeImage(f, segmentation=lambda im: (im[..., 0] > 0.5).astype(int), hide_color=0.0, num_samples=40)
            >>> nb = lime.neighbourhood(img, target=1)
            >>> nb["interpretable"].shape, bool(np.allclose(nb["coef"][nb["segments"]], lime.explain(img[None], 1).values[0]))
            ((40, 2), True)
        """
        import lime.lime_image as lime_image
        from sklearn.metrics import pairwise_distances

        arr = to_numpy(image)
        images = _images(arr[None] if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] in (1, 3)) else arr)
        if images.shape[0] != 1:
            raise ValueError(f"image must be one image (H, W, 3), got {images.shape[0]}; pick one, e.g. X[0]")
        img = images[0]
        s = self.seed if seed is None else check_int(seed, "seed", min=0)
        S = self.num_samples if num_samples is None else check_int(num_samples, "num_samples", min=2)
        _preds, targets = self._targets(images, target)
        label = int(targets[0])
        if segments is None:
            seg = self._segmenter(s)(img)
        else:
            seg = np.asarray(segments)
            if seg.shape != img.shape[:2] or not np.issubdtype(seg.dtype, np.integer):
                raise ValueError(f"segments must be int superpixel ids shaped like the image {img.shape[:2]}, "
                                 f"got {seg.dtype} {seg.shape}")
        hidden = img.copy()  # as lime's explain_instance: each superpixel's mean colour, or hide_color
        if self.hide_color is None:
            for x in np.unique(seg):
                hidden[seg == x] = img[seg == x].mean(0)
        else:
            hidden[:] = self.hide_color
        explainer = lime_image.LimeImageExplainer(kernel_width=self.kernel_width, random_state=s)
        progress = lime_image.tqdm
        lime_image.tqdm = lambda rows, **_: rows
        try:
            data, labels = explainer.data_labels(img, hidden, seg, self.predict, S, batch_size=self.batch_size)
        finally:
            lime_image.tqdm = progress
        distances = pairwise_distances(data, data[0].reshape(1, -1), metric="cosine").ravel()
        intercept, local_exp, score, local_pred = explainer.base.explain_instance_with_data(
            data, labels, distances, label, 100000, model_regressor=None, feature_selection=explainer.feature_selection)
        coef = np.zeros(data.shape[1])
        for f, weight in local_exp:
            coef[f] = weight
        return {"interpretable": data.astype(np.float64), "outputs": labels, "y": labels[:, label], "target": label,
                "distances": distances, "weights": explainer.base.kernel_fn(distances), "coef": coef,
                "intercept": float(intercept), "score": float(score), "local_prediction": float(np.ravel(local_pred)[0]),
                "segments": seg, "image": img, "hidden": hidden, "kernel_width": self.kernel_width, "seed": s,
                "num_samples": S}


class LimeText:
    """LIME token weights for one document: values ``(1, T)``, the tokens as ``feature_names``.

    ``predict_fn(list_of_texts) -> (N, k)`` class probabilities (a scikit-learn text pipeline's
    ``predict_proba`` works as is). ``split_expression`` is lime's: a regex to split on, or a
    callable ``text -> tokens``. Tokens are lime's distinct words (``bow=True``, lime's default),
    or, with ``bow=False``, every word by its position; a removed word is then replaced by
    ``mask_string`` (default ``""``: the word is dropped, its spacing kept). ``kernel_width``
    (lime's default 25) is the width of lime's kernel on 100 x the cosine distance between
    kept-word patterns.

    Example:
        >>> import numpy as np
        >>> f = lambda docs: np.array([[0.2, 0.8] if "good" in d else [0.9, 0.1] for d in docs])
        >>> e = LimeText(f, num_samples=200).explain("a good day")
        >>> e.feature_names, int(np.argmax(e.values[0]))
        (['a', 'good', 'day'], 1)
    """

    def __init__(self, predict_fn: Any, *, class_names: Sequence[str] | None = None, num_samples: int = 1000,
                 seed: int = 0, split_expression: str | Callable[[str], list[str]] = r"\W+", bow: bool = True,
                 mask_string: str = "", kernel_width: float = 25.0) -> None:
        num_samples = check_int(num_samples, "num_samples", min=2)
        if not isinstance(split_expression, str) and not callable(split_expression):
            raise TypeError(f"split_expression must be a regex str or a callable text -> tokens, got {split_expression!r}")
        self.class_names = check_class_names(class_names)
        self.num_samples, self.seed, self.split_expression = num_samples, check_int(seed, "seed", min=0), split_expression
        self.bow, self.mask_string = bool(bow), str(mask_string)
        self.kernel_width = check_number(kernel_width, "kernel_width", min=0.0, min_open=True)
        self._predict = predict_fn.predict_proba if hasattr(predict_fn, "predict_proba") else predict_fn
        if not callable(self._predict):
            raise TypeError(f"predict_fn must be callable (list of texts -> (N, k)), got {type(predict_fn).__name__}")

    def __repr__(self) -> str:
        return f"LimeText(num_samples={self.num_samples}, seed={self.seed})"

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities ``(N, k)`` for a list of texts, checked.

        Example:
            >>> LimeText(lambda d: [[0.5, 0.5]] * len(d)).predict(["x"]).tolist()
            [[0.5, 0.5]]
        """
        raw = self._predict(list(texts))
        try:
            out = to_numpy(raw).astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"predict_fn returned {type(raw).__name__} that is not a numeric (N, k) array ({exc}); "
                             "it must return one row of class probabilities per text") from exc
        if out.ndim != 2 or out.shape[0] != len(texts):
            raise ValueError(f"predict_fn returned shape {out.shape} for {len(texts)} texts; it must return (N, k)")
        return check_model_output(out, "predict_fn")

    @guarded
    def explain(self, text: str, target: Any = None) -> Explanation:
        """Explain one document for ``target`` (default: predicted class).

        Example:
            >>> import numpy as np
            >>> f = lambda d: np.array([[0.3, 0.7]] * len(d))
            >>> LimeText(f, num_samples=20).explain("x y").values.shape
            (1, 2)
        """
        preds, label, indexed, explainer = self._prepare(text, target, self.seed)
        tokens = list(indexed.inverse_vocab)
        exp = explainer.explain_instance(text, self.predict, labels=(label,), num_features=len(tokens), num_samples=self.num_samples)
        values = np.zeros(len(tokens))
        for idx, weight in exp.local_exp[label]:
            values[idx] = weight
        return Explanation(
            values[None], [float(exp.intercept[label])], feature_names=tokens, output_names=self.class_names,
            target=[label], outputs=[preds[0, label]], method="lime_text", layout="tokens",
            params={"seed": self.seed, "num_samples": self.num_samples, "bow": self.bow, "kernel_width": self.kernel_width,
                    "split_expression": self.split_expression if isinstance(self.split_expression, str) else "callable"},
            diagnostics={"score": np.array([float(exp.score)]),
                         "local_prediction": np.array([float(np.ravel(exp.local_pred)[0])]),
                         "text": text},
        )

    def _prepare(self, text: str, target: Any, seed: int) -> tuple[np.ndarray, int, Any, Any]:
        """The document's outputs, the explained class, lime's tokenisation and a fresh explainer seeded ``seed``."""
        from lime.lime_text import IndexedString, LimeTextExplainer  # type: ignore[import-untyped]

        if not isinstance(text, str):
            raise TypeError(f"text must be one document (a str), got {type(text).__name__}; "
                            "call explain once per document (token lists differ between documents)")
        preds = self.predict([text])
        if preds.shape[1] < 2:
            raise ValueError("LimeText explains class probabilities (N, k >= 2) but predict_fn returns one column")
        if self.class_names is not None and len(self.class_names) != preds.shape[1]:
            raise ValueError(f"got {len(self.class_names)} class_names but the model has {preds.shape[1]} outputs")
        label = int(resolve_target(target, preds)[0])
        explainer = LimeTextExplainer(class_names=self.class_names, split_expression=self.split_expression,
                                      random_state=seed, bow=self.bow, mask_string=self.mask_string,
                                      kernel_width=self.kernel_width)
        # lime keeps num_features tokens; count them first to keep all (the same tokenisation as lime's)
        indexed = IndexedString(text, split_expression=self.split_expression, bow=self.bow, mask_string=self.mask_string)
        if not indexed.inverse_vocab:
            raise ValueError(f"no tokens in the text {text[:40]!r} with split_expression={self.split_expression!r}")
        return preds, label, indexed, explainer

    @guarded
    def neighbourhood(self, text: str, target: Any = None, *, seed: int | None = None,
                      num_samples: int | None = None) -> dict[str, Any]:
        """The documents lime drew around ``text`` (words removed) and the surrogate it fitted: ``explain``'s fit.

        Calls lime's own pieces as ``explain_instance`` does, with a generator seeded ``seed``
        (default the explainer's): the text explainer's ``__data_labels_distances`` (which draws
        the kept-word patterns, calls the model once on all the documents and measures 100 x the
        cosine distance) and ``LimeBase.explain_instance_with_data`` (the fit). Keys:
        ``"interpretable"`` ``(S, T)`` kept-word patterns over the distinct tokens (row 0: all
        kept), ``"texts"`` (the S documents the model was called with), ``"outputs"`` ``(S, k)``,
        ``"y"``, ``"target"``, ``"distances"``, ``"weights"`` (lime's kernel), ``"coef"`` ``(T,)``,
        ``"intercept"``, ``"score"`` (lime's weighted R^2), ``"local_prediction"``, ``"tokens"``
        (the T distinct tokens), ``"pieces"`` (the document cut as lime cuts it, in order, as
        ``(text, token index)``, index -1 for the separators between words), ``"kernel_width"``, ``"seed"``, ``"num_samples"``.

        Example:
            >>> f = lambda d: np.array([[0.2, 0.8] if "good" in t else [0.9, 0.1] for t in d])
            >>> nb = LimeText(f, num_samples=50).neighbourhood("a good day")
            >>> nb["tokens"], nb["texts"][0], nb["interpretable"].shape
            (['a', 'good', 'day'], 'a good day', (50, 3))
        """
        s = self.seed if seed is None else check_int(seed, "seed", min=0)
        S = self.num_samples if num_samples is None else check_int(num_samples, "num_samples", min=2)
        _preds, label, indexed, explainer = self._prepare(text, target, s)
        seen: list[str] = []

        def predict(texts: Sequence[str]) -> np.ndarray:
            seen.extend(texts)
            return self.predict(texts)

        draw = explainer._LimeTextExplainer__data_labels_distances  # lime's own sampler (name-mangled)
        data, labels, distances = draw(indexed, predict, S, distance_metric="cosine")
        tokens = [str(t) for t in indexed.inverse_vocab]
        intercept, local_exp, score, local_pred = explainer.base.explain_instance_with_data(
            data, labels, distances, label, len(tokens), model_regressor=None, feature_selection=explainer.feature_selection)
        coef = np.zeros(len(tokens))
        for f, weight in local_exp:
            coef[f] = weight
        piece_token = np.full(len(indexed.as_list), -1)
        for t, positions in enumerate(indexed.positions):
            piece_token[np.ravel(positions).astype(int)] = t
        return {"interpretable": np.asarray(data, dtype=np.float64), "texts": list(seen), "outputs": labels,
                "y": labels[:, label], "target": label, "distances": distances,
                "weights": explainer.base.kernel_fn(distances), "coef": coef, "intercept": float(intercept),
                "score": float(score), "local_prediction": float(np.ravel(local_pred)[0]), "tokens": tokens,
                "pieces": [(str(w), int(t)) for w, t in zip(indexed.as_list, piece_token, strict=True)],
                "kernel_width": self.kernel_width, "seed": s, "num_samples": S}
