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
side in threads), ``fit_process`` (and in a second process),
``candidate_record``, ``selection``,
``segment_ids``, ``model`` (the pipeline), ``registry_row`` and
``artifacts`` (the model as data), ``warehouse`` (reading the features,
the retrain decision made in SQL, and the registry back). Scoring is done
in SQL from the flat artifacts; :func:`score` is the Python reference of
that scoring.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

#: Where each name of the package is defined. The modules are imported on
#: first use, not with the package, so that ``segmentation.fit_process`` can
#: start its process before scikit-learn is imported here.
_DEFINED_IN = {
    "CandidateSpec": "algorithms",
    "DeployedModel": "algorithms",
    "SegmentationConfig": "config",
    "data_fingerprint": "data",
    "ConfigError": "errors",
    "SegmentationError": "errors",
    "SegmentationResult": "model",
    "fit_segmentation": "model",
    "ColumnTransform": "preprocessing",
    "FeatureTransformer": "preprocessing",
    "REGISTRY_SCHEMA": "registry",
    "RegistryModel": "registry",
    "model_from_registry_row": "registry",
    "score": "scoring",
    "SELECTION_RULE": "selection",
    "Candidate": "selection",
    "describe_selection_rule": "selection",
    "match_segment_ids": "selection",
}


def __getattr__(name: str) -> Any:
    module = _DEFINED_IN.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
