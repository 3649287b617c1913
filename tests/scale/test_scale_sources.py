"""What a dataset-wide run explains: arrays, DataFrames (categorical columns), Dask arrays and frames, texts,
image folders, torch Datasets; bad data named (nbexplain/scale/sources.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import nbexplain as nbx
from nbexplain.scale import ExplanationStore, explain_dataset
from nbexplain.scale.sources import as_source
from nbexplain.scale.store import chunk_seed
from tests.frames_support import frame, pipeline
from tests.scale_support import cnn, kernel_shap, mlp, table


def values(path: Path) -> np.ndarray:
    return ExplanationStore.open(path).read("values")


def test_numpy_and_dask_array_give_the_same_values(tmp_path: Path) -> None:
    import dask.array as da

    X = table(150)
    ks = kernel_shap(mlp(), X)
    a = explain_dataset(ks, X, store=str(tmp_path / "np.zarr"), chunk_size=40, sync=True)
    lazy = da.from_array(X, chunks=(33, 6))  # dask chunks that do not line up with the run's
    b = explain_dataset(ks, lazy, store=str(tmp_path / "da.zarr"), chunk_size=40, sync=True)
    assert a.error is None and b.error is None, (a.error, b.error)
    assert b.store.meta["data_kind"] == "dask_array" and as_source(lazy).lazy
    assert values(tmp_path / "np.zarr").tobytes() == values(tmp_path / "da.zarr").tobytes()
    np.testing.assert_array_equal(ExplanationStore.open(tmp_path / "da.zarr").read("data"), X.astype(np.float64))
    # torch tensors are arrays too
    c = explain_dataset(ks, torch.from_numpy(X), store=str(tmp_path / "t.zarr"), chunk_size=40, sync=True)
    assert c.error is None and values(tmp_path / "t.zarr").tobytes() == values(tmp_path / "np.zarr").tobytes()


def test_dataframe_with_categorical_columns_and_a_dask_dataframe(tmp_path: Path) -> None:
    import dask.dataframe as dd

    df, y = frame(120)
    pipe = pipeline(df, y)
    ks = nbx.KernelShap(pipe, df.iloc[:8], n_samples=40, exact_max_features=0)
    before = df.copy()
    run = explain_dataset(ks, df, store=str(tmp_path / "pd.zarr"), chunk_size=50, sync=True)
    assert run.error is None, run.error
    assert df.equals(before)  # the caller's frame is left as it was
    meta = run.store.meta
    assert meta["feature_names"] == list(df.columns) and meta["data_kind"] == "frame"
    assert "data" not in run.store.arrays()  # string and categorical columns: the rows are not copied as numbers
    ks.seed = chunk_seed(0, 50, 100)
    direct = ks.explain(df.iloc[50:100])
    np.testing.assert_allclose(values(tmp_path / "pd.zarr")[50:100], direct.values, rtol=1e-5, atol=1e-7)

    ddf = dd.from_pandas(df, npartitions=3)
    run2 = explain_dataset(ks, ddf, store=str(tmp_path / "dd.zarr"), chunk_size=50, sync=True)
    assert run2.error is None, run2.error
    assert run2.store.meta["data_kind"] == "dask_frame" and run2.store.meta["n"] == 120
    assert values(tmp_path / "pd.zarr").tobytes() == values(tmp_path / "dd.zarr").tobytes()


def test_texts_keep_their_tokens(tmp_path: Path) -> None:
    texts, labels, _ = nbx.datasets.load_reviews()
    texts, labels = list(texts[:60]), np.asarray(labels[:60])
    clf = nbx.text.train_text_classifier(texts, labels, epochs=20)
    occ = nbx.explainers.TokenOcclusion(clf)
    run = explain_dataset(occ, texts[:12], store=str(tmp_path / "t.zarr"), chunk_size=5, sync=True, max_tokens=80)
    assert run.error is None, run.error
    e = nbx.Explanation.open(tmp_path / "t.zarr")
    assert e.layout == "tokens" and e.feature_shape == (80,)
    one = e[7]
    direct = occ.explain(texts[7])
    n = len(direct.values)
    np.testing.assert_allclose(one.values[:n], direct.values, rtol=1e-5, atol=1e-6)
    assert np.isnan(one.values[n:]).all()  # padded to max_tokens
    assert e[6:8].diagnostics["tokens"][1] == list(direct.feature_names)
    with pytest.raises(ValueError, match="max_tokens"):
        explain_dataset(occ, texts[:12], store=str(tmp_path / "short.zarr"), chunk_size=5, sync=True, max_tokens=2)


def test_image_folder_and_torch_dataset(tmp_path: Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    pics = rng.integers(0, 256, size=(10, 8, 8, 3), dtype=np.uint8)
    folder = tmp_path / "pics"
    folder.mkdir()
    for i, p in enumerate(pics):
        Image.fromarray(p).save(folder / f"img_{i:02d}.png")
    (folder / "notes.txt").write_text("not an image")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 6 * 6, 2)).eval()
    sal = nbx.Saliency(model)
    run = explain_dataset(sal, str(folder), store=str(tmp_path / "f.zarr"), chunk_size=4, sync=True)
    assert run.error is None, run.error
    assert run.store.meta["data_kind"] == "images" and run.store.meta["n"] == 10
    as_array = np.moveaxis(pics.astype(np.float32) / 255.0, -1, 1)  # (n, C, H, W) in [0, 1]
    ref = explain_dataset(sal, as_array, store=str(tmp_path / "a.zarr"), chunk_size=4, sync=True)
    assert ref.error is None
    assert values(tmp_path / "f.zarr").tobytes() == values(tmp_path / "a.zarr").tobytes()

    ds = torch.utils.data.TensorDataset(torch.from_numpy(as_array), torch.zeros(10, dtype=torch.long))
    run2 = explain_dataset(sal, ds, store=str(tmp_path / "ds.zarr"), chunk_size=4, sync=True)
    assert run2.error is None and run2.store.meta["data_kind"] == "dataset"
    assert values(tmp_path / "ds.zarr").tobytes() == values(tmp_path / "a.zarr").tobytes()

    # a transform resizes pictures of different sizes to one
    Image.fromarray(rng.integers(0, 256, size=(10, 10, 3), dtype=np.uint8)).save(folder / "img_99.png")
    with pytest.raises(ValueError, match="different shapes"):
        explain_dataset(sal, str(folder), store=str(tmp_path / "g.zarr"), chunk_size=11, sync=True)
    crop = explain_dataset(sal, str(folder), store=str(tmp_path / "h.zarr"), chunk_size=11, sync=True,
                           transform=lambda im: im[:, :8, :8])
    assert crop.error is None and crop.store.meta["n"] == 11


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (np.zeros((0, 3)), ValueError, "no rows"),
        (np.array([object(), 1], dtype=object), TypeError, "dtype object"),
        ("no/such/folder", FileNotFoundError, "not a folder"),
        (["a text", 3, "another"], TypeError, "every item a str"),
    ],
)
def test_bad_data_gets_a_named_error(tmp_path: Path, data: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        explain_dataset(nbx.Saliency(cnn()), data, store=str(tmp_path / "s.zarr"), sync=True)
    assert not (tmp_path / "s.zarr").exists()


def test_an_empty_image_folder_and_unknown_dask_chunks_are_refused(tmp_path: Path) -> None:
    import dask.array as da

    with pytest.raises(ValueError, match="holds no images"):
        as_source(tmp_path)
    x = da.from_array(np.arange(10.0), chunks=5)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        as_source(x[x > 3])
