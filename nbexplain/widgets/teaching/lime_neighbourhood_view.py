"""LimeNeighbourhoodView: how LIME reaches its answer for one instance, and how much a seed moves it.

The view shows, for one table row, image or document:

- the perturbed samples LIME drew around it, exactly those the explanation is fitted on
  (:mod:`nbexplain.explainers.teaching.lime_neighbourhood`): for a table, a PCA projection of their
  interpretable rows with point area = kernel weight and colour = the model's output
  (:class:`~nbexplain.widgets.teaching.lime_neighbourhood_charts.ProjectionChart`); for an image, a strip
  of the masked images the model saw; for a document, the kept words of some samples
  (:mod:`nbexplain.widgets.teaching.lime_neighbourhood_samples`);
- the surrogate's prediction against the model's output, with the weighted R^2 in words
  (:class:`~nbexplain.widgets.teaching.lime_neighbourhood_charts.FitChart`);
- sliders for the kernel width, the number of samples and the seed, which refit at once (the
  model's outputs are cached: a new kernel width calls no model, fewer samples neither);
- the coefficients of the selected seed as bars (:class:`~nbexplain.widgets.FeatureBars`), with
  whiskers of +-2 standard deviations of each coefficient over ``n_seeds`` seeds (the standard
  error of one LIME run: another seed's bar lands inside about 95% of the time) and the top-k
  overlap between seeds in words.

What the student selected is on the view: ``view.seed``, ``view.kernel_width``,
``view.n_samples`` (traits; setting them from Python moves the sliders and refits), and
``view.neighbourhood`` / ``view.spread`` hold the numbers drawn. CSS class ``nbx-lime-view``.

Example:
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.random.RandomState(0).randn(80, 4); y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> view = LimeNeighbourhoodView(LogisticRegression().fit(X, y), X[0], X, num_samples=500, n_seeds=5)
    >>> view.kernel_width = 1.0          # what the kernel-width slider does
    >>> view.neighbourhood.kernel_width, view.fit_chart.r2_text.startswith("weighted R² =")
    (1.0, True)
    >>> view.close()
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import Any

import ipywidgets
import numpy as np
import traitlets

from ...explainers.teaching.lime_neighbourhood import NeighbourhoodSession, pca_2d
from .._base import ClosesTree, error_line
from .._format import format_number
from ..chart_layout import ChartRow
from .lime_neighbourhood_charts import FitChart, ProjectionChart
from .lime_neighbourhood_samples import ImageStrip, TextStrip

__all__ = ["LimeNeighbourhoodView"]

_WHAT = {"table": "row", "image": "image", "text": "document"}


def _label(text: str, cls: str, bold: bool = False) -> ipywidgets.Label:
    label = ipywidgets.Label(text, layout=ipywidgets.Layout(max_width="880px"))
    label.add_class(cls)
    label.add_class("nbx-chart-note")
    if bold:
        label.style.font_weight = "bold"
    return label


def _slider_style() -> dict[str, Any]:
    return {"description_width": "initial"}


class LimeNeighbourhoodView(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """How LIME explains one instance (see the module docstring).

    Parameters (tables; :meth:`for_image` and :meth:`for_text` for the others):
        model: a classifier (``predict_proba``), a torch module or a callable ``X -> (n, k)``.
        x: the row to explain, ``(F,)`` or ``(1, F)`` (or a one-row DataFrame with ``data`` a DataFrame).
        data: the training rows, for LIME's sampling statistics and bins.
        target: the class explained (default: the predicted one), or a callable ``outputs -> (n,)``.
        n_seeds: seeds ``seed .. seed + n_seeds - 1`` for the spread (default 20; 1: no spread).
        num_samples, seed, kernel_width: LIME's (``kernel_width`` default ``0.75 sqrt(F)``).
        feature_names, class_names, title: what the view calls things (text only).
        **lime_options: passed to :class:`~nbexplain.explainers.perturbation.lime_batched.LimeTabularBatched`
            (``discretize_continuous``, ``categorical_features``, ``discretizer``, ``output``).

    Attributes: ``session`` (:class:`~nbexplain.explainers.teaching.lime_neighbourhood.NeighbourhoodSession`),
    ``neighbourhood`` (the :class:`~nbexplain.explainers.teaching.lime_neighbourhood.Neighbourhood` shown),
    ``spread`` (:class:`~nbexplain.explainers.teaching.lime_neighbourhood.SeedSpread`, None for one seed),
    ``samples_view`` (the projection chart or the strip), ``fit_chart``, ``bars`` (FeatureBars),
    ``seed_words``, ``width_slider``, ``samples_slider``, ``seed_slider``, ``status``.
    """

    seed = traitlets.Int(0, help="int: the seed whose neighbourhood is shown (one of session.seeds).")
    kernel_width = traitlets.Float(1.0, help="float > 0: the kernel width of the fit shown.")
    n_samples = traitlets.Int(5000, help="int: the number of samples LIME draws.")

    def __init__(self, model: Any = None, x: Any = None, data: Any = None, *, target: Any = None, n_seeds: int = 20,
                 num_samples: int = 5000, seed: int = 0, kernel_width: float | None = None,
                 feature_names: Sequence[str] | None = None, class_names: Sequence[str] | None = None,
                 title: str = "", session: NeighbourhoodSession | None = None, strip: int = 0,
                 **lime_options: Any) -> None:
        if session is None:
            if model is None or x is None or data is None:
                raise TypeError("LimeNeighbourhoodView(model, x, data) needs the model, the row to explain and the "
                                "training rows; for an image or a document use LimeNeighbourhoodView.for_image / "
                                ".for_text")
            session = NeighbourhoodSession.for_table(
                model, x, data, target=target, n_seeds=n_seeds, num_samples=num_samples, seed=seed,
                kernel_width=kernel_width, feature_names=feature_names, class_names=class_names, **lime_options)
        elif not isinstance(session, NeighbourhoodSession):
            raise TypeError(f"session must be a NeighbourhoodSession, got {type(session).__name__}")
        self.session = session
        self.spread: Any = None
        self._projection: tuple[tuple[int, int], Any] | None = None
        self._ready = self._syncing = False
        kind = session.kind
        self.heading = _label(title or f"How LIME explains this {_WHAT[kind]}", "nbx-lime-title", bold=True)
        self.intro = _label(self._intro(), "nbx-lime-intro")
        w0, s0 = session.kernel_width, session.num_samples
        lo = min(10, s0) if kind == "table" else min(2, s0)
        step = 100 if s0 >= 1000 else 10
        self.width_slider = ipywidgets.FloatLogSlider(
            value=w0, base=10.0, min=math.log10(w0) - 1.0, max=math.log10(w0) + 1.0, step=0.02,
            description="kernel width", readout_format=".3g", continuous_update=False, style=_slider_style(),
            layout=ipywidgets.Layout(width="300px"))
        self.samples_slider = ipywidgets.IntSlider(
            value=s0, min=max(lo, step), max=max(2 * s0, 10 * step), step=step, description="samples",
            continuous_update=False, style=_slider_style(), layout=ipywidgets.Layout(width="300px"))
        self.seed_slider = ipywidgets.IntSlider(
            value=session.seed, min=session.seeds[0], max=session.seeds[-1], description="seed",
            continuous_update=False, disabled=len(session.seeds) < 2, style=_slider_style(),
            layout=ipywidgets.Layout(width="240px"))
        for s in (self.width_slider, self.samples_slider, self.seed_slider):
            s.add_class("nbx-lime-slider")
        self.width_slider.add_class("nbx-lime-width")
        self.samples_slider.add_class("nbx-lime-samples")
        self.seed_slider.add_class("nbx-lime-seed")
        controls = ipywidgets.HBox([self.width_slider, self.samples_slider, self.seed_slider],
                                   layout=ipywidgets.Layout(flex_flow="row wrap", align_items="center"))
        controls.add_class("nbx-lime-controls")
        self.status = _label("", "nbx-lime-status")
        self.samples_view: Any = (ProjectionChart() if kind == "table" else
                                  ImageStrip(strip or 24) if kind == "image" else TextStrip(strip or 8))
        self.fit_chart = FitChart()
        from ..views.feature_bars import FeatureBars

        F = max(1, session.run().coef.size)
        self.bars = FeatureBars(np.zeros(F), ["…"] * F, top_k=min(10, F))
        self.bars_title = _label("", "nbx-lime-bars-title", bold=True)
        self.seed_words = _label("", "nbx-lime-seeds")
        bars_box = ipywidgets.VBox([self.bars_title, self.bars, self.seed_words],
                                   layout=ipywidgets.Layout(width="100%", max_width="880px"))
        rows = [ChartRow([self.samples_view, self.fit_chart])] if kind == "table" else [
            self.samples_view, ChartRow([self.samples_view.coefficients_box, self.fit_chart]) if kind == "image" else
            ChartRow([self.fit_chart])]
        super().__init__([self.heading, self.intro, controls, self.status, *rows, bars_box])
        self.add_class("nbx-lime-view")
        self.add_class("nbx-kernel-scope")  # its controls call Python: disabled with the reason without a kernel
        with self.hold_trait_notifications():
            self.seed, self.kernel_width, self.n_samples = session.seed, w0, s0
        self.width_slider.observe(lambda c: self._from_slider("kernel_width", c["new"]), names="value")
        self.samples_slider.observe(lambda c: self._from_slider("n_samples", c["new"]), names="value")
        self.seed_slider.observe(lambda c: self._from_slider("seed", c["new"]), names="value")
        self.observe(self._on_setting, names=["seed", "kernel_width", "n_samples"])
        self._ready = True
        self._refresh(samples_changed=True)
        if self.status.value:  # the first draw must not fail silently
            raise ValueError(self.status.value)

    # -- other inputs -------------------------------------------------------------------------------------
    @classmethod
    def for_image(cls, model: Any, image: Any, *, target: Any = None, n_seeds: int = 20, num_samples: int = 1000,
                  seed: int = 0, kernel_width: float = 0.25, class_names: Sequence[str] | None = None,
                  title: str = "", strip: int = 24, **lime_options: Any) -> LimeNeighbourhoodView:
        """The view for one image ``(H, W, 3)`` or ``(H, W)``, explained by lime's image explainer
        (:class:`~nbexplain.explainers.perturbation.lime_package.LimeImage`; ``lime_options``: ``segmentation``,
        ``hide_color``, ``batch_size``). ``model`` takes channels-last batches ``(N, H, W, 3)``.
        ``strip``: masked images shown. Every seed shares the first seed's superpixels.

        Example:
            >>> import numpy as np
            >>> img = np.zeros((16, 16, 3)); img[:, 8:] = 1.0
            >>> f = lambda X: np.stack([1 - X[..., 0].mean((1, 2)), X[..., 0].mean((1, 2))], 1)
            >>> seg = lambda im: (np.arange(16)[None, :] // 4).repeat(16, 0)   # four vertical bands
            >>> v = LimeNeighbourhoodView.for_image(f, img, segmentation=seg, num_samples=60, n_seeds=3, strip=6)
            >>> v.samples_view.grid.maps.shape, v.neighbourhood.coef.shape
            ((6, 16, 16, 3), (4,))
            >>> v.close()
        """
        session = NeighbourhoodSession.for_image(model, image, target=target, n_seeds=n_seeds, num_samples=num_samples,
                                                 seed=seed, kernel_width=kernel_width, class_names=class_names,
                                                 **lime_options)
        return cls(session=session, title=title, strip=strip)

    @classmethod
    def for_text(cls, predict_fn: Any, text: str, *, target: Any = None, n_seeds: int = 20, num_samples: int = 1000,
                 seed: int = 0, kernel_width: float = 25.0, class_names: Sequence[str] | None = None,
                 title: str = "", strip: int = 8, **lime_options: Any) -> LimeNeighbourhoodView:
        """The view for one document, explained by lime's text explainer
        (:class:`~nbexplain.explainers.perturbation.lime_package.LimeText`; ``lime_options``: ``split_expression``,
        ``bow``, ``mask_string``). ``predict_fn(list of texts) -> (N, k)``; ``strip``: documents shown.

        Example:
            >>> import numpy as np
            >>> f = lambda docs: np.array([[0.2, 0.8] if "good" in d else [0.9, 0.1] for d in docs])
            >>> v = LimeNeighbourhoodView.for_text(f, "a good day", num_samples=80, n_seeds=3, strip=4)
            >>> [t.tokens for t in v.samples_view.views][0], v.bars.feature_names
            (['a', 'good', 'day'], ['a', 'good', 'day'])
            >>> v.close()
        """
        session = NeighbourhoodSession.for_text(predict_fn, text, target=target, n_seeds=n_seeds,
                                                num_samples=num_samples, seed=seed, kernel_width=kernel_width,
                                                class_names=class_names, **lime_options)
        return cls(session=session, title=title, strip=strip)

    # -- settings -----------------------------------------------------------------------------------------
    @traitlets.validate("kernel_width")
    def _valid_width(self, proposal: Any) -> float:
        w = float(proposal["value"])
        if not (math.isfinite(w) and w > 0):
            raise traitlets.TraitError(f"kernel_width must be a finite number > 0, got {proposal['value']!r}")
        return w

    @traitlets.validate("n_samples")
    def _valid_samples(self, proposal: Any) -> int:
        low = 10 if self.session.kind == "table" else 2
        if int(proposal["value"]) < low:
            raise traitlets.TraitError(f"n_samples must be at least {low}, got {proposal['value']!r}")
        return int(proposal["value"])

    @traitlets.validate("seed")
    def _valid_seed(self, proposal: Any) -> int:
        seeds = self.session.seeds
        if int(proposal["value"]) not in seeds:
            raise traitlets.TraitError(f"seed must be one of the {len(seeds)} seeds computed, {seeds[0]}..{seeds[-1]}, "
                                       f"got {proposal['value']!r}; build the view with seed= and n_seeds= for others")
        return int(proposal["value"])

    def _from_slider(self, name: str, value: Any) -> None:
        if self._syncing:
            return
        try:
            setattr(self, name, value)
        except traitlets.TraitError as exc:
            self.status.value = error_line(exc)

    def _on_setting(self, change: Any) -> None:
        name, value = change["name"], change["new"]
        slider = {"kernel_width": self.width_slider, "n_samples": self.samples_slider, "seed": self.seed_slider}[name]
        if name == "kernel_width" and not (slider.base ** slider.min <= value <= slider.base ** slider.max):
            slider.min, slider.max = min(slider.min, math.log10(value)), max(slider.max, math.log10(value))
        if name == "n_samples" and not (slider.min <= value <= slider.max):
            slider.min, slider.max = min(slider.min, value), max(slider.max, value)
        if slider.value != value:
            with self._quiet():
                slider.value = value
        self._refresh(samples_changed=name != "kernel_width")

    @contextlib.contextmanager
    def _quiet(self) -> Iterator[None]:
        """Set a slider from Python without the slider setting the trait back (it may clamp or round)."""
        self._syncing = True
        try:
            yield
        finally:
            self._syncing = False

    # -- drawing ------------------------------------------------------------------------------------------
    def _intro(self) -> str:
        s = self.session
        what = {"table": "rows near the instance (each feature drawn from the training data; the surrogate sees "
                         "whether it stayed in the instance's bin)",
                "image": "copies of the image with random superpixels switched off",
                "text": "copies of the document with random words removed"}[s.kind]
        return (f"LIME asks the model for its output on {s.num_samples:,} {what}, weights each by its closeness to "
                f"the instance "
                f"(an exponential kernel: the kernel width sets how close counts), and fits a weighted linear "
                f"surrogate of {s.output_name}. Its coefficients are the explanation.")

    def _refresh(self, samples_changed: bool) -> None:
        if not self._ready:
            return
        try:
            with self.hold_sync():
                self._draw(samples_changed)
            self.status.value = ""
        except Exception as exc:  # a refit from the browser: the view keeps its last state and says why
            self.status.value = f"{error_line(exc)} (the view shows the last settings that worked)"

    def _draw(self, samples_changed: bool) -> None:
        s = self.session
        nb = s.run(self.seed, self.n_samples, self.kernel_width)
        spread = s.spread(self.n_samples, self.kernel_width) if len(s.seeds) > 1 else None
        name = s.output_name
        if s.kind == "table":
            key = (nb.seed, nb.num_samples)
            if self._projection is None or self._projection[0] != key:
                self._projection = (key, pca_2d(nb.interpretable))
                samples_changed = True
            if samples_changed:
                self.samples_view.show(nb, self._projection[1], name)
            else:
                self.samples_view.reweight(nb, self._projection[1])
        else:
            self.samples_view.show(nb, name)
        self.fit_chart.show(nb, name)
        self.bars.update(values=nb.coef, feature_names=nb.feature_names,
                         errors=None if spread is None else spread.std, prediction=float(nb.y[0]),
                         prediction_label=name, base_value=nb.intercept)
        self.bars_title.value = (f"The explanation: the surrogate's coefficients with seed {nb.seed}, "
                                 f"{nb.num_samples:,} samples, kernel width {format_number(nb.kernel_width)}")
        self.seed_words.value = self._seed_words(nb, spread)
        self.neighbourhood, self.spread = nb, spread

    def _seed_words(self, nb: Any, spread: Any) -> str:
        if spread is None:
            return "One seed only: build the view with n_seeds=20 to see how much the coefficients move between seeds."
        k, top = len(spread.seeds), spread.top_k
        worst = int(np.argmax(spread.std))
        r2 = f"{spread.scores.min():.2f} to {spread.scores.max():.2f}"
        return (f"Over {k} seeds ({spread.seeds[0]} to {spread.seeds[-1]}): two runs share {spread.topk_overlap * top:.1f} "
                f"of their top {top} features on average (top-{top} overlap {spread.topk_overlap:.0%}). Whiskers: "
                f"±2 standard deviations of each coefficient over the seeds (the standard error of one run): another "
                f"seed's bar lands inside about 95% of the time. Largest spread: {nb.feature_names[worst]} "
                f"(sd {format_number(spread.std[worst])}); weighted R² {r2}.")
