"""Model maintenance: when to retrain, and how far the data have drifted.

A registered model is kept as data (a registry row). Each run either scores
with the latest registered model or fits a new one, by the dbt var
``segmentation_mode``:

- ``retrain``: fit a new model;
- ``score``: never fit; fail with a clear message when no model exists;
- ``auto``: fit when there is no model, when the largest feature drift (PSI)
  reaches ``monitoring.psi_retrain``, or when the model is older than
  ``monitoring.max_model_age_days`` (measured on the data: the current as-of
  date against the model's training cut-off); otherwise score.

Drift is the Population Stability Index of each feature against the
training reference kept in the registry row (quantile bins of the training
values after imputation)::

    PSI = sum over bins (current_share - reference_share)
                        * ln(current_share / reference_share)

with shares floored at ``PSI_EPSILON`` so an empty bin stays finite.

The registry model needs the drift *before* it fits (to decide whether to
fit), while the SQL model ``feature_drift`` reports it after the model in use
is known; SQL cannot feed the fit without a cycle in the dbt graph, so this
decision is the one place the PSI is also computed in Python (a test holds
the two equal). Scoring, segment drift and the health verdict are SQL only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .data import as_arrow_table, numeric_column
from .errors import ConfigError, SegmentationError
from .preprocessing import ColumnTransform

MODES = ("auto", "retrain", "score")
PSI_EPSILON = 1e-4


@dataclass(frozen=True)
class MonitoringConfig:
    """Settings of the retraining decision (dbt vars ``segmentation_mode`` and
    ``monitoring``).

    Parameters
    ----------
    mode : {"auto", "retrain", "score"}
    psi_watch : float
        PSI from which a feature is worth watching (default 0.1).
    psi_retrain : float
        PSI from which ``auto`` retrains (default 0.25).
    max_model_age_days : int
        Age in days of data after which ``auto`` retrains (default 90).
    """

    mode: str = "auto"
    psi_watch: float = 0.1
    psi_retrain: float = 0.25
    max_model_age_days: int = 90

    @classmethod
    def from_vars(
        cls, mode: str | None, monitoring: Mapping[str, Any] | None
    ) -> MonitoringConfig:
        """Validate the dbt vars; raise ConfigError naming the bad setting."""
        mode = "auto" if mode is None else mode
        if mode not in MODES:
            raise ConfigError(
                f"The dbt var segmentation_mode is {mode!r}; it must be one of "
                f"{', '.join(MODES)}."
            )
        settings = dict(monitoring or {})
        allowed = {"psi_watch", "psi_retrain", "max_model_age_days"}
        unknown = sorted(set(settings) - allowed)
        if unknown:
            raise ConfigError(
                f"Unknown setting(s) monitoring.{', monitoring.'.join(unknown)}; "
                f"allowed: {', '.join(sorted(allowed))}."
            )
        config = cls(mode=mode, **settings)
        for name in ("psi_watch", "psi_retrain"):
            value = getattr(config, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or value <= 0
            ):
                raise ConfigError(
                    f"monitoring.{name} is {value!r}; it must be a positive number."
                )
        if config.psi_retrain < config.psi_watch:
            raise ConfigError(
                f"monitoring.psi_retrain ({config.psi_retrain}) is below "
                f"monitoring.psi_watch ({config.psi_watch}); retraining must need "
                "at least as much drift as watching."
            )
        age = config.max_model_age_days
        if isinstance(age, bool) or not isinstance(age, int) or age < 1:
            raise ConfigError(
                f"monitoring.max_model_age_days is {age!r}; it must be a whole "
                "number of days, at least 1."
            )
        return config


def bin_shares(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Shares of ``values`` in the reference bins defined by ``edges``.

    Bin ``i`` holds ``edges[i] <= x < edges[i + 1]``; values below the first
    edge go to the first bin, values from the last edge up to the last bin
    (as in :func:`segmentation.preprocessing.reference_distribution`).
    """
    x = np.asarray(values, dtype=np.float64)
    edges_array = np.asarray(edges, dtype=np.float64)
    n_bins = max(edges_array.size - 1, 1)
    if x.size == 0:
        return np.zeros(n_bins)
    bins = np.clip(np.searchsorted(edges_array, x, side="right") - 1, 0, n_bins - 1)
    return np.bincount(bins, minlength=n_bins) / x.size


def population_stability_index(
    reference_shares: np.ndarray, current_shares: np.ndarray
) -> float:
    """PSI between two share vectors over the same bins (shares floored at
    ``PSI_EPSILON``)."""
    ref = np.maximum(np.asarray(reference_shares, dtype=np.float64), PSI_EPSILON)
    cur = np.maximum(np.asarray(current_shares, dtype=np.float64), PSI_EPSILON)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def feature_psi(table: Any, model_row: Mapping[str, Any]) -> dict[str, float]:
    """PSI of every feature the model keeps a reference for.

    Current values are imputed with the model's training median, as the
    reference was.
    """
    table = as_arrow_table(table)
    impute = {
        t["feature"]: ColumnTransform.from_record(t).impute_value
        for t in model_row.get("transform") or []
    }
    result: dict[str, float] = {}
    for reference in model_row.get("reference_distributions") or []:
        feature = reference["feature"]
        if feature not in table.column_names:
            raise SegmentationError(
                f"Cannot compute drift: the current features lack {feature!r}, "
                "which the registered model was trained on."
            )
        values = numeric_column(table, feature)
        values = np.where(np.isnan(values), impute.get(feature, np.nan), values)
        current = bin_shares(values, reference["bin_edges"])
        result[feature] = population_stability_index(reference["shares"], current)
    return result


@dataclass
class Decision:
    """Whether this run fits a new model, and why."""

    fit: bool
    reason: str
    psi: dict[str, float] = field(default_factory=dict)


def decide(
    config: MonitoringConfig,
    latest_model: Mapping[str, Any] | None,
    table: Any,
    as_of_date: dt.date | None,
) -> Decision:
    """Apply ``segmentation_mode`` to the latest registered model.

    Raises
    ------
    SegmentationError
        In ``score`` mode when no model is registered.
    """
    if latest_model is None:
        if config.mode == "score":
            raise SegmentationError(
                "segmentation_mode is 'score' but no model is registered yet in "
                "segmentation_models. Run once with --vars "
                "'{segmentation_mode: retrain}' (or 'auto') to fit the first model."
            )
        return Decision(True, f"{config.mode}: no model registered yet")
    if config.mode == "retrain":
        return Decision(True, "retrain: requested by segmentation_mode")
    psi = feature_psi(table, latest_model)
    if config.mode == "score":
        return Decision(False, "score: requested by segmentation_mode", psi)
    worst = max(psi, key=psi.get) if psi else None
    if worst is not None and psi[worst] >= config.psi_retrain:
        return Decision(
            True,
            f"auto: drift PSI {psi[worst]:.3f} on {worst} >= "
            f"monitoring.psi_retrain {config.psi_retrain}",
            psi,
        )
    cutoff = latest_model.get("training_cutoff_date")
    if cutoff is not None and as_of_date is not None:
        age = (as_of_date - cutoff).days
        if age > config.max_model_age_days:
            return Decision(
                True,
                f"auto: model trained on data to {cutoff} is {age} days old > "
                f"monitoring.max_model_age_days {config.max_model_age_days}",
                psi,
            )
    largest = "" if worst is None else f"; largest PSI {psi[worst]:.3f} on {worst}"
    return Decision(False, f"auto: model still fits the data{largest}", psi)
