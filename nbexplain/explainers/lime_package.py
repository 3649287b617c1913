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
    ``base_values`` is the surrogate's intercept; ``diagnostics`` holds ``segments`` ``(n, H, W)``,
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
                 class_names: Sequence[str] | None = None, batch_size: int = 256) -> None:
        if isinstance(segmentation, str) and segmentation not in _SEGMENTERS:
            raise ValueError(f"segmentation must be one of {sorted(_SEGMENTERS)} or a callable, got {segmentation!r}")
        if not callable(segmentation) and not isinstance(segmentation, str):
            raise TypeError(f"segmentation must be a name or a callable image -> segments, got {segmentation!r}")
        num_samples = check_int(num_samples, "num_samples", min=2)
        if hide_color is not None:
            hide_color = check_number(hide_color, "hide_color")
        self.segmentation, self.num_samples, self.seed = segmentation, num_samples, check_int(seed, "seed", min=0)
        self.hide_color, self.batch_size = hide_color, check_int(batch_size, "batch_size", min=1)
        self.class_names = check_class_names(class_names)
        self.predict = checked_predict(as_predict_fn(model_or_predict, output="probabilities"
                                                     if not hasattr(model_or_predict, "predict_proba") else "auto"),
                                       model_or_predict, "the model")

    def __repr__(self) -> str:
        seg = self.segmentation if isinstance(self.segmentation, str) else "callable"
        return f"LimeImage(segmentation={seg!r}, num_samples={self.num_samples}, seed={self.seed})"

    def _segmenter(self) -> Callable[[np.ndarray], np.ndarray]:
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
            self.segmentation, random_seed=self.seed, **_SEGMENTERS[self.segmentation])
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
        targets = resolve_target(target, preds)
        segmenter = self._segmenter()
        values = np.zeros(images.shape[:3])
        segments = np.zeros(images.shape[:3], dtype=np.int64)
        base, score, local = np.zeros(n), np.zeros(n), np.zeros(n)
        progress = lime_image.tqdm
        lime_image.tqdm = lambda rows, **_: rows  # lime 0.2 draws a progress bar per image; not in notebooks
        try:
            exps = []
            for i in range(n):
                explainer = lime_image.LimeImageExplainer(random_state=self.seed)  # fresh generator per image
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
                    "segmentation": self.segmentation if isinstance(self.segmentation, str) else "callable"},
            diagnostics={"segments": segments, "score": score, "local_prediction": local},
        )


class LimeText:
    """LIME token weights for one document: values ``(1, T)``, the tokens as ``feature_names``.

    ``predict_fn(list_of_texts) -> (N, k)`` class probabilities (a scikit-learn text pipeline's
    ``predict_proba`` works as is). ``split_expression`` is lime's: a regex to split on, or a
    callable ``text -> tokens``. Tokens are lime's distinct words (``bow=True``, lime's default),
    or, with ``bow=False``, every word by its position; a removed word is then replaced by
    ``mask_string`` (default ``""``: the word is dropped, its spacing kept).

    Example:
        >>> import numpy as np
        >>> f = lambda docs: np.array([[0.2, 0.8] if "good" in d else [0.9, 0.1] for d in docs])
        >>> e = LimeText(f, num_samples=200).explain("a good day")
        >>> e.feature_names, int(np.argmax(e.values[0]))
        (['a', 'good', 'day'], 1)
    """

    def __init__(self, predict_fn: Any, *, class_names: Sequence[str] | None = None, num_samples: int = 1000,
                 seed: int = 0, split_expression: str | Callable[[str], list[str]] = r"\W+", bow: bool = True,
                 mask_string: str = "") -> None:
        num_samples = check_int(num_samples, "num_samples", min=2)
        if not isinstance(split_expression, str) and not callable(split_expression):
            raise TypeError(f"split_expression must be a regex str or a callable text -> tokens, got {split_expression!r}")
        self.class_names = check_class_names(class_names)
        self.num_samples, self.seed, self.split_expression = num_samples, check_int(seed, "seed", min=0), split_expression
        self.bow, self.mask_string = bool(bow), str(mask_string)
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
                                      random_state=self.seed, bow=self.bow, mask_string=self.mask_string)
        # lime keeps num_features tokens; count them first to keep all (the same tokenisation as lime's)
        tokens = list(IndexedString(text, split_expression=self.split_expression, bow=self.bow,
                                    mask_string=self.mask_string).inverse_vocab)
        if not tokens:
            raise ValueError(f"no tokens in the text {text[:40]!r} with split_expression={self.split_expression!r}")
        exp = explainer.explain_instance(text, self.predict, labels=(label,), num_features=len(tokens), num_samples=self.num_samples)
        values = np.zeros(len(tokens))
        for idx, weight in exp.local_exp[label]:
            values[idx] = weight
        return Explanation(
            values[None], [float(exp.intercept[label])], feature_names=tokens, output_names=self.class_names,
            target=[label], outputs=[preds[0, label]], method="lime_text", layout="tokens",
            params={"seed": self.seed, "num_samples": self.num_samples, "bow": self.bow,
                    "split_expression": self.split_expression if isinstance(self.split_expression, str) else "callable"},
            diagnostics={"score": np.array([float(exp.score)]),
                         "local_prediction": np.array([float(np.ravel(exp.local_pred)[0])]),
                         "text": text},
        )
