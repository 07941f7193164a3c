"""Customer segmentation: fit clustering candidates, select one, export it.

The dbt Python model uses::

    from segmentation import SegmentationConfig, fit_segmentation

    config = SegmentationConfig.from_dict(dbt.config.get("segmentation"))
    result = fit_segmentation(table, config, training_cutoff_date=...)
    return result.to_arrow()  # one row of the model registry

Scoring is done in SQL from the exported transform and centroids;
:func:`score` is the Python reference of that scoring.
"""

from .algorithms import CandidateSpec, DeployedModel
from .config import SegmentationConfig
from .errors import ConfigError, SegmentationError
from .model import SegmentationResult, data_fingerprint, fit_segmentation, score
from .preprocessing import ColumnTransform, FeatureTransformer
from .registry import REGISTRY_SCHEMA, RegistryModel, model_from_registry_row
from .selection import (
    SELECTION_RULE,
    Candidate,
    describe_selection_rule,
    match_segment_ids,
)

__all__ = [
    "REGISTRY_SCHEMA",
    "SELECTION_RULE",
    "Candidate",
    "CandidateSpec",
    "ColumnTransform",
    "ConfigError",
    "DeployedModel",
    "FeatureTransformer",
    "RegistryModel",
    "SegmentationConfig",
    "SegmentationError",
    "SegmentationResult",
    "data_fingerprint",
    "describe_selection_rule",
    "fit_segmentation",
    "match_segment_ids",
    "model_from_registry_row",
    "score",
]
