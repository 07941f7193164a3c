from importlib import import_module
from typing import Any

from dbt.adapters.base import PythonJobHelper
from dbt.adapters.base.impl import AdapterTrackingRelationInfo
from dbt.adapters.spark.impl import SparkAdapter
from dbt.adapters.spark_local.connections import (
    ADAPTER_TYPE,
    SparkLocalConnectionManager,
)
from dbt.adapters.spark_local.python_submissions import SessionPythonJobHelper


class SparkLocalAdapter(SparkAdapter):
    ConnectionManager = SparkLocalConnectionManager

    @property
    def default_python_submission_method(self) -> str:
        return "session"

    @property
    def python_submission_helpers(self) -> dict[str, type[PythonJobHelper]]:
        return {**super().python_submission_helpers, "session": SessionPythonJobHelper}

    @classmethod
    def get_adapter_run_info(cls, config: Any) -> AdapterTrackingRelationInfo:
        # the base class derives the module name from the class name
        # (SparkLocalAdapter -> "sparklocal"), which does not exist
        return AdapterTrackingRelationInfo(
            adapter_name=ADAPTER_TYPE,
            base_adapter_version=import_module("dbt.adapters.__about__").version,
            adapter_version=import_module(
                f"dbt.adapters.{ADAPTER_TYPE}.__version__"
            ).version,
            model_adapter_details=cls._get_adapter_specific_run_info(config),
        )
