"""Small Keras 3 models (torch backend), trained in seconds on scikit-learn data, built once per process.

- :func:`table` / :func:`mlp`: breast cancer (30 standardised features, 2 classes); the MLP has
  ``Dense(relu) -> Dropout -> Dense "logits" -> Activation("softmax") "proba"``, so it returns
  probabilities, and :func:`mlp_logits` is the same network up to its logits (shared layers);
- :func:`digits` / :func:`cnn`: 8 x 8 digits, channels-last ``(n, 8, 8, 1)``; the CNN has two
  ``Conv2D`` (relu), a ``BatchNormalization``, max pooling and a seeded ``Dropout``, and returns
  logits;
- :func:`linear`: one ``Dense`` layer on the table (its saliency is its kernel).

``KERAS_BACKEND`` is set to torch here too (tests/conftest.py sets it first), so the module
works on its own.

Example:
    >>> X, y, names = table()
    >>> X.shape, X.dtype, len(names)
    ((569, 30), dtype('float32'), 30)
"""

from __future__ import annotations

import functools
import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")


@functools.cache
def table() -> tuple[np.ndarray, np.ndarray, list[str]]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    X = (data.data - data.data.mean(0)) / data.data.std(0)
    return X.astype(np.float32), data.target.astype(np.int64), [str(n) for n in data.feature_names]


@functools.cache
def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    data = load_digits()
    return (data.images / 16.0).astype(np.float32)[..., None], data.target.astype(np.int64)


@functools.cache
def mlp() -> object:
    import keras

    keras.utils.set_random_seed(0)
    X, y, _ = table()
    model = keras.Sequential([
        keras.Input((30,)),
        keras.layers.Dense(16, activation="relu", name="hidden"),
        keras.layers.Dropout(0.3, name="drop"),
        keras.layers.Dense(2, name="logits"),
        keras.layers.Activation("softmax", name="proba"),
    ], name="mlp")
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    model.fit(X, y, epochs=8, batch_size=64, verbose=0)
    return model


@functools.cache
def mlp_logits() -> object:
    import keras

    model = mlp()
    return keras.Model(model.inputs, model.get_layer("logits").output, name="mlp_logits")


@functools.cache
def cnn() -> object:
    import keras

    keras.utils.set_random_seed(1)
    X, y = digits()
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2"),
        keras.layers.MaxPooling2D(2, name="pool"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dropout(0.25, seed=3, name="drop"),
        keras.layers.Dense(10, name="logits"),
    ], name="cnn")
    model.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(X, y, epochs=3, batch_size=64, verbose=0)
    return model


@functools.cache
def linear() -> object:
    import keras

    keras.utils.set_random_seed(2)
    X, y, _ = table()
    model = keras.Sequential([keras.Input((30,)), keras.layers.Dense(2, name="dense")], name="linear")
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(X, y, epochs=1, batch_size=128, verbose=0)
    return model
