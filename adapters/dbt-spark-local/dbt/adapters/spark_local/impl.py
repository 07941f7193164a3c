import glob
import os
from importlib import import_module
from typing import Any

from dbt.adapters.base import PythonJobHelper, available
from dbt.adapters.base.impl import AdapterTrackingRelationInfo
from dbt.adapters.spark.impl import SparkAdapter
from dbt.adapters.spark_local.connections import (
    ADAPTER_TYPE,
    SparkLocalConnectionManager,
)
from dbt.adapters.spark_local.python_submissions import SessionPythonJobHelper
from dbt.adapters.spark_local.relation import SparkLocalRelation


class SparkLocalAdapter(SparkAdapter):
    ConnectionManager = SparkLocalConnectionManager
    Relation = SparkLocalRelation  # type: ignore[assignment]

    @available
    def count_local_files_matching(self, pattern: str) -> int | None:
        """How many files the glob `pattern` matches on this machine.

        None for a location Spark reads through another file system (a URI
        such as s3a:// or dbfs:/, or a Spark Connect server elsewhere): the
        macros then let Spark list it. Spark's own listing stops with an
        error when nothing matches, which is why a local glob is counted here.
        """
        if self.config.credentials.server_side_parameters.get("spark.remote"):
            return None
        path = pattern[len("file:") :] if pattern.startswith("file:") else pattern
        if "://" in path or (":" in path.split("/")[0] and path.split("/")[0] != ""):
            return None
        return sum(
            1 for match in glob.glob(path, recursive=True) if os.path.isfile(match)
        )

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
