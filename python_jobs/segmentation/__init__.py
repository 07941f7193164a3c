"""Customer segmentation: fit clustering candidates, select one, export it.

The dbt Python model (models/marts/segmentation/segmentation_model_artifacts.py)
uses::

    from segmentation import SegmentationConfig, fit_segmentation
    from segmentation.artifacts import artifact_table

    # the settings, checked and defaulted in Jinja (int_segmentation_settings)
    config = SegmentationConfig.from_dict(json.loads(settings_json))
    result = fit_segmentation(table, config, training_cutoff_date=...)
    return artifact_table(result.artifact_rows, reason)  # flat registry rows

Modules by job: ``data`` (input matrix, model version), ``preprocessing``,
``algorithms`` (the candidate grid, deployment), ``fitting``,
``candidates``, ``evaluation``, ``concurrency`` (independent fits side by
side in threads), ``candidate_record``, ``selection``,
``segment_ids``, ``model`` (the pipeline), ``registry_row`` and
``artifacts`` (the model as data), ``warehouse`` (reading the features,
the retrain decision made in SQL, and the registry back). Scoring is done
in SQL from the flat artifacts; :func:`score` is the Python reference of
that scoring.
"""

from .algorithms import CandidateSpec, DeployedModel
from .config import SegmentationConfig
from .data import data_fingerprint
from .errors import ConfigError, SegmentationError
from .model import SegmentationResult, fit_segmentation
from .preprocessing import ColumnTransform, FeatureTransformer
from .registry import REGISTRY_SCHEMA, RegistryModel, model_from_registry_row
from .scoring import score
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
