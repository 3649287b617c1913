"""Writes ``keras.ipynb``: Keras 3 models (torch backend) explained and drawn, for
``tests/browser/models/test_keras_browser.py``: a Grad-CAM Heatmap of a channels-last CNN on a digit and
the FeatureBars of KernelShap on an MLP of the breast cancer table.

The notebook is checked in; edit the sources here and rerun ``python tests/notebooks/build_keras.py``
so it stays unexecuted and tidy.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

SETUP = '''import os
os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is first imported
import json

import keras
import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits

import nbexplain as nbx

torch.set_num_threads(1)
keras.utils.set_random_seed(0)'''

# A channels-last CNN: (n, 8, 8, 1) digits, a global-average-pooling head (its Grad-CAM maps are
# not all 0). The map is 8 x 8, drawn over the digit.
GRADCAM = '''digits = load_digits()
images = (digits.images / 16.0).astype("float32")[..., None]
cnn = keras.Sequential([
    keras.Input((8, 8, 1)),
    keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
    keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
    keras.layers.GlobalAveragePooling2D(),
    keras.layers.Dense(10, name="logits"),
])
cnn.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
cnn.fit(images[:1500], digits.target[:1500], epochs=12, batch_size=64, verbose=0)
digit = images[1500:1501]
cam = nbx.GradCAM(cnn).explain(digit)
hm = nbx.Heatmap.from_explanation(cam[0], image=(digit[0, :, :, 0] * 255).astype(np.uint8), cmap="viridis",
                                  opacity=0.5, clip_percentile=100.0, precision="float32", width=240,
                                  title="Grad-CAM of a Keras CNN")
hm'''

SHAP = '''cancer = load_breast_cancer()
X = ((cancer.data - cancer.data.mean(0)) / cancer.data.std(0)).astype("float32")
mlp = keras.Sequential([keras.Input((30,)), keras.layers.Dense(16, activation="relu"),
                        keras.layers.Dense(2, activation="softmax")])
mlp.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
mlp.fit(X, cancer.target, epochs=3, batch_size=64, verbose=0)
shap_e = nbx.KernelShap(mlp, X[:30], feature_names=list(cancer.feature_names), n_samples=400).explain(X[7:8], target=1)
bars = nbx.FeatureBars.from_explanation(shap_e[0], top_k=6, title="KernelShap of a Keras MLP")
bars'''

NOTEBOOKS = {"keras.ipynb": [SETUP, GRADCAM, SHAP]}

if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
