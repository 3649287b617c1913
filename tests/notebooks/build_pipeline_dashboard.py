"""Writes ``pipeline_dashboard.ipynb``: a Dashboard on a scikit-learn Pipeline over a DataFrame.

The browser test tests/browser/dashboard/test_pipeline_dashboard_browser.py opens it in JupyterLab. Edit the
cell sources here and rerun ``python tests/notebooks/build_pipeline_dashboard.py``; the notebook is
checked in unexecuted.
"""

from __future__ import annotations

from build_notebooks import write_notebooks

# Breast-cancer columns as a DataFrame plus a string column ("size", with missing values), a
# pandas categorical ("grade") and missing numeric values; a ColumnTransformer pipeline on it.
PIPELINE = '''import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_breast_cancer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
import nbexplain as nbx

cancer = load_breast_cancer(as_frame=True)
df = cancer.frame[["mean radius", "mean texture", "mean smoothness"]].copy()
rng = np.random.default_rng(0)
size = np.where(df["mean radius"] > 15, "large", np.where(df["mean radius"] > 12, "medium", "small")).astype(object)
size[rng.random(len(df)) < 0.1] = None
df["size"] = pd.Series(size, dtype=object)
df["grade"] = pd.Categorical(rng.choice(["I", "II", "III"], len(df)), categories=["I", "II", "III"])
df.loc[rng.random(len(df)) < 0.1, "mean texture"] = np.nan
X_train, X_test, y_train, y_test = train_test_split(df, cancer.target.to_numpy(), test_size=0.3, random_state=0)
X_test = X_test.reset_index(drop=True)
numeric, categorical = ["mean radius", "mean texture", "mean smoothness"], ["size", "grade"]
pipe = make_pipeline(
    make_column_transformer(
        (make_pipeline(SimpleImputer(), StandardScaler()), numeric),
        (make_pipeline(SimpleImputer(strategy="constant", fill_value="none"), OneHotEncoder(handle_unknown="ignore")),
         categorical)),
    LogisticRegression(max_iter=1000)).fit(X_train, y_train)
X_copy = X_test.copy()
start = int(np.flatnonzero((X_test["size"] == "medium").to_numpy())[0])'''

DASHBOARD = '''dash = nbx.Dashboard(pipe, X_test, y_test, X_train=X_train, y_train=y_train, class_names=["malignant", "benign"],
                     methods=["kernel_shap", "lime_batched"], index=start, page_size=8)
dash.wait()
dash'''

NOTEBOOKS: dict[str, list[str]] = {"pipeline_dashboard.ipynb": [PIPELINE, DASHBOARD]}


if __name__ == "__main__":
    write_notebooks(NOTEBOOKS)
