"""Can I trust this explanation? Faithfulness, robustness and sanity metrics, and a ground truth (pure compute).

Each metric takes the model, the inputs and the attributions and returns a small result object a
view can draw (curves, areas, the random floor, what "better" means in words).

Example:
    >>> import numpy as np
    >>> from nbexplain.metrics import deletion_curves
    >>> c = deletion_curves(lambda X: X, np.ones((1, 2)), [[1.0, 0.0]], baseline=0.0, output="raw", n_random=0)
    >>> c.scores.tolist()
    [[1.0, 0.0, 0.0]]
"""

# A plain list of imports, one per module: every name imported here is public (__all__ below).
from nbexplain.metrics.correlation import FaithfulnessCorrelation, faithfulness_correlation
from nbexplain.metrics.faithfulness import FaithfulnessCurves, deletion_curves, insertion_curves
from nbexplain.metrics.report import Ranking, TrustReport, trust_report
from nbexplain.metrics.road import RoadCurves, noisy_linear_imputation, road_curves
from nbexplain.metrics.robustness import (
    RobustnessError,
    RobustnessScores,
    infidelity,
    max_sensitivity,
)
from nbexplain.metrics.sanity import SanityCheckError, SanityResult, SanityVerdict, sanity_check
from nbexplain.metrics.synthetic import (
    GroundTruthScore,
    SyntheticImages,
    SyntheticTable,
    ground_truth_score,
    synthetic_images,
    synthetic_table,
)

__all__ = [
    "FaithfulnessCorrelation", "FaithfulnessCurves", "GroundTruthScore", "Ranking", "RoadCurves", "RobustnessError",
    "RobustnessScores", "SanityCheckError", "SanityResult", "SanityVerdict", "SyntheticImages", "SyntheticTable",
    "TrustReport", "deletion_curves", "faithfulness_correlation", "ground_truth_score", "infidelity",
    "insertion_curves", "max_sensitivity", "noisy_linear_imputation", "road_curves", "sanity_check",
    "synthetic_images", "synthetic_table", "trust_report",
]
