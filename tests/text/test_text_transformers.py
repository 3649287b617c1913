"""TextExplainer on real transformers classifiers (tiny BERT / DistilBERT built from configs, trained here).

Checked: Integrated Gradients on the word embeddings against Captum's LayerIntegratedGradients on
the same layer with the same baseline and output; completeness on the embeddings; merged word
scores equal the sum of their pieces; special tokens get nothing; truncation is said; the
model-agnostic family (TokenShap, LIME) explains the same words; the model comes back as it was.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import traitlets

from nbexplain.datasets import reviews_split
from nbexplain.explainers.gradients._engine import GradientError, hook_count
from nbexplain.text.hf import TextExplainer
from nbexplain.text.tiny_transformer import train_tiny_bert, train_wordpiece_tokenizer

POSITIVE = "The characters were very wonderful and the plot was moving."


@pytest.fixture(scope="module")
def bert() -> tuple[torch.nn.Module, object]:
    tr, ytr, _, _ = reviews_split()
    return train_tiny_bert(tr, ytr, class_names=["negative", "positive"], epochs=3)


@pytest.fixture(scope="module")
def te(bert) -> TextExplainer:
    return TextExplainer(*bert)


def test_predictions_are_the_models_softmax_and_accurate(bert, te) -> None:
    model, tok = bert
    _, _, texts, y = reviews_split()
    probs = te.predict_proba(texts)
    enc = tok(texts[:5], padding=True, return_tensors="pt")
    with torch.no_grad():
        ref = model(**enc).logits.softmax(-1).double().numpy()
    np.testing.assert_allclose(probs[:5], ref, atol=1e-6)
    assert (probs.argmax(1) == np.asarray(y)).mean() > 0.85
    assert te.class_names == ["negative", "positive"]


def test_integrated_gradients_matches_captum_on_the_word_embeddings(bert, te) -> None:
    from captum.attr import LayerIntegratedGradients as CaptumLIG

    model, tok = bert
    e = te.explain(POSITIVE, method="integrated_gradients", steps=40)
    wp = te.word_pieces(POSITIVE)
    ids, mask = wp.input_ids, wp.attention_mask
    base = ids.clone()
    base[0, torch.as_tensor(wp.positions)] = tok.pad_token_id

    def prob(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return model(input_ids=input_ids, attention_mask=attention_mask).logits.softmax(-1)[:, int(e.target)]

    ref = CaptumLIG(prob, model.get_input_embeddings()).attribute(ids, baselines=base, additional_forward_args=(mask,),
                                                                   n_steps=40)
    per_piece = ref[0].sum(-1).double().numpy()
    np.testing.assert_allclose(np.concatenate(e.diagnostics["piece_values"]), per_piece[wp.positions], atol=1e-5)
    assert abs(per_piece[wp.special]).max() == 0  # [CLS] / [SEP] are kept in the baseline
    # completeness on the embeddings, in probability: words sum to P(x) - P(all pieces padded) + delta
    gap = float(e.outputs) - float(e.base_values)
    np.testing.assert_allclose(e.values.sum() - e.diagnostics["delta"], gap, atol=1e-6)
    # steps="auto" (the default) raises the steps until the error is within 5% of the change, or says so
    auto = te.explain(POSITIVE, method="integrated_gradients")
    gap = float(auto.outputs) - float(auto.base_values)
    close = abs(auto.diagnostics["delta"]) <= 0.05 * abs(gap) + 1e-3
    assert close or auto.diagnostics["note"].startswith("approximate: the word scores miss")
    assert auto.diagnostics["steps"] in (64, 128, 256, 512) and (close or auto.diagnostics["steps"] == 512)
    assert e.params["layer"] == "bert.embeddings.word_embeddings" and e.layout == "tokens"


def test_pieces_merge_into_the_words_of_the_text(te) -> None:
    text = "Unforgettable acting, wonderfully moving."
    e = te.explain(text, method="gradient_x_input")
    wp = te.word_pieces(text)
    assert e.feature_names == ["Unforgettable", "acting", ",", "wonderfully", "moving", "."]  # the user's casing
    assert len(wp.piece_tokens) > len(e.feature_names)  # the tiny vocabulary splits words
    sums = [float(np.sum(v)) for v in e.diagnostics["piece_values"]]
    np.testing.assert_allclose(e.values, sums, atol=1e-12)
    split = [i for i, p in enumerate(e.diagnostics["pieces"]) if len(p) > 1]
    assert split and all(" + " in e.diagnostics["details"][i] for i in split)
    assert all(e.diagnostics["details"][i] == "" for i in range(len(sums)) if i not in split)


def test_long_texts_are_truncated_with_a_note(bert) -> None:
    te = TextExplainer(*bert, max_length=12)
    text = " ".join(["the plot was moving and the acting wonderful"] * 4)
    e = te.explain(text, method="integrated_gradients", steps=8)
    assert e.diagnostics["truncated"] and e.diagnostics["n_tokens"] > 12
    assert e.diagnostics["note"].startswith("truncated: the text has") and len(e.feature_names) == 10
    assert te.explain("the plot", method="gradient_x_input").diagnostics["note"] == ""


def test_model_agnostic_methods_explain_the_same_words(te) -> None:
    ig = te.explain(POSITIVE, method="integrated_gradients", steps=16)
    shap = te.explain(POSITIVE, method="token_shap", n_samples=256)
    lime = te.explain(POSITIVE, method="lime", num_samples=300)
    assert shap.feature_names == ig.feature_names == lime.feature_names
    # efficiency: the Shapley values add up to P(text) - P(every word dropped)
    np.testing.assert_allclose(shap.values.sum(), shap.outputs - shap.base_values, atol=1e-6)
    assert int(shap.target) == int(ig.target) == int(lime.target)
    again = te.explain(POSITIVE, method="lime", num_samples=300)
    np.testing.assert_array_equal(again.values, lime.values)  # seeded: the same on every run


def test_the_model_comes_back_as_it_was(bert) -> None:
    model, tok = bert
    te = TextExplainer(model, tok)
    model.train()  # the user's mode, with dropout
    before = {k: v.clone() for k, v in model.state_dict().items()}
    attn = model.config._attn_implementation
    rng = torch.random.get_rng_state()
    te.explain(POSITIVE, method="integrated_gradients", steps=8)
    te.explain(POSITIVE, method="token_occlusion")
    assert model.training and all(m.training for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters()) and hook_count(model) == 0
    assert model.config._attn_implementation == attn and torch.equal(torch.random.get_rng_state(), rng)
    model.eval()


def test_distilbert_baselines_outputs_and_errors() -> None:
    tr, ytr, _, _ = reviews_split()
    tok = train_wordpiece_tokenizer(tr, vocab_size=300)
    model, _ = train_tiny_bert(tr[:40], ytr[:40], distilbert=True, epochs=1, tokenizer=tok)
    te = TextExplainer(model, tok, baseline="mask", output="logits")
    e = te.explain("a wonderful plot", method="integrated_gradients", steps=64)
    assert e.params["baseline"] == "mask" and e.params["output"] == "logits"
    logits = te.logits(["a wonderful plot"])[0]
    np.testing.assert_allclose(float(e.outputs), logits[int(e.target)], atol=1e-6)  # the logit is explained
    assert abs(e.diagnostics["delta"]) < 1e-2 * max(1.0, abs(float(e.outputs) - float(e.base_values)))
    with pytest.raises(GradientError, match="DeepLIFT does not apply to transformer classifiers"):
        te.explain("a plot", method="deeplift")
    with pytest.raises(ValueError, match=r"baseline must be one of \['pad', 'mask', 'unk'\]"):
        TextExplainer(model, tok, baseline="zeros")
    with pytest.raises(ValueError, match="unknown text method 'shap'"):
        te.explain("a plot", method="shap")
    with pytest.raises(TypeError, match="tokenizer must be the model's transformers tokenizer"):
        TextExplainer(model, str.split)
    with pytest.raises(ValueError, match="target 5 is out of range"):
        te.explain("a plot", target=5, method="gradient_x_input")


def test_compare_view_shows_both_families_on_the_same_words(te) -> None:
    text = "Unforgettable acting, wonderfully moving."
    view = te.compare(text, ["integrated_gradients", "token_shap"])
    words = te.tokenize(text)
    assert view.methods == ["integrated_gradients", "token_shap"]
    assert all(list(w.tokens) == words for w in view.views.values())
    assert view.agreement_labels[0].value.startswith("integrated_gradients vs token_shap: rank corr")
    split = [i for i, d in enumerate(view.views["integrated_gradients"].details) if d]
    assert split  # the pieces of split words are there to hover
    view.close()


def test_attention_view_of_a_text(bert, te, recorded: None) -> None:
    from nbexplain.explainers.vision.attention import attention_rollout
    from nbexplain.widgets.views.attention_view import WIRE_VALUES, AttentionView

    model, _ = bert
    attn = model.config._attn_implementation
    w = AttentionView.from_text(te, POSITIVE)
    wp = te.word_pieces(POSITIVE)
    assert w.tokens == wp.tokens and w.tokens[0] == "[CLS]" and list(w.special) == list(wp.special.astype(float))
    assert w.maps.shape == (2, 2, len(wp.tokens), len(wp.tokens))
    np.testing.assert_allclose(w.maps.sum(-1), 1, atol=1e-5)
    with torch.no_grad():  # the model's own attentions (eager), as transformers gives them
        model.config._attn_implementation = "eager"
        try:
            ref = model(input_ids=wp.input_ids, attention_mask=wp.attention_mask, output_attentions=True).attentions
        finally:
            model.config._attn_implementation = attn
    np.testing.assert_allclose(w.maps, torch.stack(ref, 1)[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(w.rollout, attention_rollout(w.maps[None])[0], atol=1e-12)
    assert model.config._attn_implementation == attn
    # on the wire: 8-bit codes, one buffer per array, never a JSON list
    msg = next(m for m in w.comm.messages if m["msg_type"] == "comm_open")
    assert msg["data"]["state"]["maps"]["dtype"] == "uint8" and isinstance(msg["data"]["state"]["tokens"], list)
    w.layer, w.head = 1, 0
    with pytest.raises(traitlets.TraitError, match=r"layer must be -1 \(rollout\) or 0\.\.1"):
        w.layer = 2
    big = np.full((4, 8, 200, 200), 1 / 200)
    assert big.size > WIRE_VALUES
    wide = AttentionView([f"t{i}" for i in range(200)], big)
    assert wide.maps.shape == (4, 1, 200, 200) and wide.note.startswith("heads averaged per layer")
    with pytest.raises(ValueError, match=r"maps must be \(layers, heads, T, T\) with T = 3"):
        AttentionView(["a", "b", "c"], np.ones((1, 1, 2, 2)))


def test_session_and_dashboard_take_the_model_with_its_tokenizer(bert) -> None:
    from nbexplain.explainers.registry import get_explainer
    from nbexplain.session import ExplainSession
    from nbexplain.text.classifier import train_text_classifier

    model, tok = bert
    _, _, texts, y = reviews_split()
    s = ExplainSession(model, texts[:12], y[:12], tokenizer=tok)
    assert s.methods == ["integrated_gradients", "token_shap"] and s.class_names == ["negative", "positive"]
    e_ig, e_shap = s.explain(2, "integrated_gradients"), s.explain(2, "token_shap")
    assert e_ig.feature_names == e_shap.feature_names == s.model.tokenize(texts[2])
    assert int(e_ig.target) == int(s.predicted[2])
    edited = s.explain_input(" ".join(e_ig.feature_names[1:]), "integrated_gradients", target=int(s.predicted[2]))
    assert edited.feature_names == e_ig.feature_names[1:]
    with pytest.raises(ValueError, match="tokenizer= goes with text data"):
        ExplainSession(model, np.zeros((3, 4)), tokenizer=tok)
    clf = train_text_classifier(texts[:40], y[:40], seed=0)  # no tokenizer: gradient methods say what they need
    with pytest.raises(TypeError, match=r"needs a transformers classifier and its tokenizer: nbx.TextExplainer"):
        get_explainer("integrated_gradients", clf)


def test_the_guard_leaves_transformers_able_to_capture_attentions_again(bert) -> None:
    from nbexplain.guard import guard

    model, tok = bert  # transformers 5 installs capturing hooks on the first output_attentions call and marks it
    enc = tok(["a moving plot"], return_tensors="pt")
    attn = model.config._attn_implementation
    model.config._attn_implementation = "eager"
    try:
        with guard(model, eval_mode=True), torch.no_grad():
            first = model(**enc, output_attentions=True).attentions
        with torch.no_grad():
            again = model(**enc, output_attentions=True).attentions
    finally:
        model.config._attn_implementation = attn
    assert len(first) == len(again) == 2 and hook_count(model) >= 0
