"""trust_report: every metric of several methods on one or several samples, ranked, with what better means.

Known answers from the synthetic ground truth (:mod:`nbexplain.metrics.synthetic`): the method that
puts the true features (or the planted patch) first ranks first by deletion, insertion and
faithfulness correlation; a random attribution ranks last; an edge detector that ignores the model
fails the sanity check. The numbers are those of the metric functions themselves (the report adds
none); skips and failures are said per method; progress covers the whole report and cancel stops it.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from nbexplain.explainers.perturbation.token_shap import TokenShap
from nbexplain.explanation import Explanation
from nbexplain.metrics import (
    deletion_curves,
    faithfulness_correlation,
    synthetic_images,
    synthetic_table,
    trust_report,
)
from nbexplain.metrics.report import better_sentence
from nbexplain.tasks import Cancelled, TaskControl
from nbexplain.validate import InputError, ParameterError


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models: one torch thread is faster on a shared CPU."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def table():
    """32 rows of the synthetic table; attributions: the true rule, its first feature only, noise."""
    t = synthetic_table(n=256, seed=0)
    X = t.X[192:224]
    with torch.no_grad():
        pred = t.model(torch.as_tensor(X)).argmax(1).numpy()
    w = np.zeros(X.shape[1])
    w[t.truth] = [1.5, 1.0, -1.0]  # the label's rule: 1.5 a + b - c > 0
    truth = X * w * np.where(pred == 1, 1.0, -1.0)[:, None]  # evidence for the predicted class
    partial = truth.copy()
    partial[:, np.flatnonzero(t.truth)[1:]] = 0.0
    noise = np.random.default_rng(0).standard_normal(X.shape)
    return t, X, {"truth": truth, "partial": partial, "random": noise}


class EdgeDetector:
    """An explanation that ignores the model: the Sobel gradient magnitude of the input."""

    method = "edges"

    def explain(self, inputs, target=None):
        x = torch.as_tensor(np.asarray(inputs), dtype=torch.float32)
        kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])[None, None]
        gx, gy = F.conv2d(x, kx, padding=1), F.conv2d(x, kx.transpose(-1, -2), padding=1)
        return Explanation(torch.sqrt(gx ** 2 + gy ** 2).numpy(), method=self.method,
                           target=None if target is None else np.asarray(target))


@pytest.fixture(scope="module")
def images():
    s = synthetic_images(n=256, size=16, patch=4, seed=0, epochs=80)
    X = s.X[-12:]
    return s, X, {"truth": s.mask[-12:, None].astype(np.float32), "edges": EdgeDetector().explain(X),
                  "random": np.random.default_rng(0).standard_normal(X.shape).astype(np.float32)}


def word_model(texts: list[str]) -> np.ndarray:
    s = np.array([t.split().count("good") - t.split().count("bad") for t in texts], dtype=float)
    p = 1 / (1 + np.exp(-s))
    return np.c_[1 - p, p]


def test_the_true_features_rank_first_and_random_last_on_a_table(table) -> None:
    t, X, methods = table
    r = trust_report(t.model, X, methods, background=t.background, metrics=("deletion", "insertion", "correlation"))
    for metric in ("deletion", "insertion", "correlation"):
        assert r.ranking(metric).order == ["truth", "partial", "random"], (metric, r.ranking(metric).mean)
    assert r.ranking("deletion").better == "lower" and r.ranking("insertion").better == "higher"
    # Beating the random floor: the true rule by a wide margin, noise not at all.
    d = r.ranking("deletion")
    assert d.mean["truth"] < d.floor["truth"] - 0.2 and abs(d.mean["random"] - d.floor["random"]) < 0.1
    assert r.n_samples == 32 and set(d.n.values()) == {32}
    # The report adds nothing to the metrics' numbers.
    own = deletion_curves(t.model, X, methods["truth"], background=t.background, seed=0)
    assert np.array_equal(r.deletion["truth"].scores, own.scores)
    assert d.mean["truth"] == pytest.approx(own.mean_auc) and d.spread["truth"] == pytest.approx(own.auc.std())
    fc = faithfulness_correlation(t.model, X, methods["partial"], background=t.background, seed=0)
    assert r.ranking("correlation").mean["partial"] == pytest.approx(np.nanmean(fc.correlation))


def test_the_planted_patch_ranks_first_and_an_edge_detector_fails_the_sanity_check(images) -> None:
    s, X, methods = images
    r = trust_report(s.model, X, methods, baseline=0.0, patch_size=4,
                     sanity_methods={"edges": lambda model: EdgeDetector()})
    for metric in ("deletion", "insertion", "correlation"):
        rank = r.ranking(metric)
        best = rank.mean[rank.order[0]]
        # The patch first (the edge detector's map also peaks on the patch: a tie by insertion is fine).
        assert rank.mean["truth"] == pytest.approx(best, abs=1e-6) and rank.order[-1] == "random", (metric, rank.mean)
    assert r.ranking("deletion").order[0] == "truth"
    v = r.verdict("edges")
    assert v is not None and not v.passed and "barely changes" in v.explanation
    sanity = r.ranking("sanity")
    assert sanity.order == ["edges"] and sanity.mean["edges"] == pytest.approx(1.0)
    assert set(sanity.skipped) == {"truth", "random"} and "not in sanity_methods" in sanity.skipped["truth"]
    assert r.verdict("truth") is None
    assert "sanity similarity: lower is better" in r.describe()


def test_a_gradient_method_is_sanity_checked_by_its_name(images) -> None:
    import nbexplain as nbx

    s, X, _ = images
    e = nbx.Saliency(s.model).explain(X[:3])
    r = trust_report(s.model, X[:3], {"my saliency": e, "random": np.ones(X[:3].shape)}, metrics="sanity")
    assert list(r.sanity) == ["my saliency"]  # found by the explanation's method name, "saliency"
    assert r.sanity["my saliency"].layers and r.ranking("sanity").order == ["my saliency"]
    assert "not a gradient method" in r.ranking("sanity").skipped["random"]
    assert any("default settings" in n for n in r.notes)
    assert np.array_equal(r.sanity["my saliency"].target, e.target)  # the explanation's outputs


def test_a_subsample_is_seeded_and_averaged_with_its_spread(table) -> None:
    t, X, methods = table
    a = trust_report(t.model, X, methods, background=t.background, metrics="deletion", samples=5, seed=3)
    b = trust_report(t.model, X, methods, background=t.background, metrics="deletion", samples=5, seed=3)
    assert a.n_samples == 5 and np.array_equal(a.samples, b.samples) and list(a.samples) == sorted(a.samples)
    assert a.ranking("deletion").mean == b.ranking("deletion").mean
    aucs = a.deletion["truth"].auc
    assert a.ranking("deletion").spread["truth"] == pytest.approx(aucs.std()) and aucs.std() > 0
    picked = trust_report(t.model, X, methods, background=t.background, metrics="deletion", samples=[4, 0])
    assert picked.samples.tolist() == [4, 0]
    assert np.array_equal(picked.inputs, X[[4, 0]])
    # One sample: no spread. The metrics seed ties and random orders by a sample's position in the
    # batch measured, so sample 0 measured alone or first of all gets the same numbers.
    one = trust_report(t.model, X, methods, background=t.background, metrics="deletion", samples=[0])
    full = trust_report(t.model, X, methods, background=t.background, metrics="deletion")
    assert one.ranking("deletion").spread["truth"] == 0.0
    assert one.deletion["truth"].auc[0] == pytest.approx(full.deletion["truth"].auc[0])


def test_texts_skip_correlation_and_sanity_with_the_reason() -> None:
    texts = ["good film , not bad", "bad bad plot but good cast", "a good good day"]
    es = TokenShap(word_model, tokenizer=str.split).explain(texts)
    r = trust_report(word_model, texts, {"token_shap": es}, tokenizer=str.split)
    assert r.kind == "text" and r.ranking("deletion").order == ["token_shap"]
    assert "not texts" in r.ranking("correlation").skipped["token_shap"]
    assert "texts are not supported" in r.ranking("sanity").skipped["token_shap"]
    assert r.deletion["token_shap"].unit_labels(1) == texts[1].split()


def test_a_model_without_weights_skips_the_sanity_check_and_a_failing_method_keeps_the_others() -> None:
    w = np.array([3.0, 1.0, 0.0, -2.0])
    x = np.ones((2, 4))
    r = trust_report(lambda X: X @ w[:, None], x, {"exact": x * w, "short": np.ones((2, 3))}, baseline=0.0,
                     output="raw", metrics=("deletion", "sanity"), n_random=0)
    assert r.ranking("deletion").order == ["exact"]
    assert r.ranking("deletion").skipped["short"].startswith("failed: InputError: attributions of sample 0 have 3")
    assert "torch.nn.Module" in r.ranking("sanity").skipped["exact"]


def test_progress_covers_the_report_and_cancel_stops_it(table) -> None:
    t, X, methods = table
    seen: list[tuple[float, float | None, str]] = []
    ctl = TaskControl(lambda d, tot, m: seen.append((d, tot, m)))
    trust_report(t.model, X, methods, background=t.background, metrics=("deletion", "insertion"), samples=4,
                 control=ctl)
    done = [d for d, _, _ in seen]
    assert done == sorted(done) and done[-1] >= 90 and {tot for _, tot, _ in seen} == {100.0}
    assert len({d for d, _, m in seen if m == "deletion AUC: partial"}) >= 3  # it moves within a metric too
    assert {m for _, _, m in seen} >= {"deletion AUC: truth", "insertion AUC: random"}

    def stop_soon(d: float, tot: float | None, m: str) -> None:
        if d >= 30:
            stopper.cancel()

    stopper = TaskControl(stop_soon)
    with pytest.raises(Cancelled):
        trust_report(t.model, X, methods, background=t.background, metrics=("deletion", "insertion"), samples=4,
                     control=stopper)


def test_the_users_model_and_arrays_are_left_as_they_were(images) -> None:
    s, X, methods = images
    model = s.model
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, truth = X.copy(), methods["truth"].copy()
    rng = np.random.get_state()[1].copy()
    trust_report(model, X, {"truth": methods["truth"]}, baseline=0.0, patch_size=4,
                 sanity_methods={"truth": "saliency"})
    assert model.training and all(m.training for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert np.array_equal(X, x) and np.array_equal(methods["truth"], truth)
    assert np.array_equal(np.random.get_state()[1], rng)
    model.eval()


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"metrics": ("deletion", "beauty")}, ParameterError, "metrics must be one or more of"),
    ({"metrics": ()}, ParameterError, "metrics must be one or more of"),
    ({"kind": "image"}, InputError, "kind='image' but the inputs are table data"),
    ({"kind": "video"}, ParameterError, "kind must be None"),
    ({"samples": [0, 0]}, InputError, "distinct indices"),
    ({"samples": [99]}, InputError, "distinct indices in 0..3"),
    ({"samples": 0}, Exception, "samples"),
    ({"sanity_methods": {"nope": "saliency"}}, InputError, "sanity_methods names"),
])
def test_bad_arguments_get_a_named_error(kwargs, error, match) -> None:
    x = np.ones((4, 3))
    with pytest.raises(error, match=match):
        trust_report(torch.nn.Linear(3, 2), x, {"m": x}, baseline=0.0, **kwargs)


@pytest.mark.parametrize(("explanations", "match"), [
    ({}, "non-empty dict"),
    ({"m": np.ones((3, 3))}, r"explanations\['m'\] holds 3 samples but the inputs hold 4"),
    ({"m": Explanation(np.ones((2, 3)))}, "holds 2 samples"),
    ({"": np.ones((4, 3))}, "method names"),
    ({"m": "saliency"}, "must be an Explanation or attributions"),
])
def test_bad_explanations_get_a_named_error(explanations, match) -> None:
    with pytest.raises(InputError, match=match):
        trust_report(lambda X: X[:, :2], np.ones((4, 3)), explanations, baseline=0.0)


def test_better_sentences_name_the_units() -> None:
    assert better_sentence("deletion", "image").startswith("deletion AUC: lower is better — removing the patches")
    assert "tokens" in better_sentence("insertion", "text")
    assert better_sentence("correlation").startswith("faithfulness correlation: higher is better")
