import sys
from typing import Any

from dbt.adapters.base import PythonJobHelper
from dbt.adapters.spark.connections import SparkConnectionMethod
from dbt.adapters.spark_local.connections import SparkLocalCredentials
from dbt_common.exceptions import DbtRuntimeError


def spark_session(credentials: SparkLocalCredentials) -> Any:
    """The Spark session dbt-spark's `method: session` runs SQL on.

    Built the way dbt-spark's session cursor builds it, so getOrCreate returns
    the session that already runs this invocation's SQL (a local Spark, or a
    Spark Connect session when `spark.remote` is set).
    """
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in credentials.server_side_parameters.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


class SessionPythonJobHelper(PythonJobHelper):
    """Runs a Python model's compiled code in this process, on dbt's Spark session."""

    def __init__(self, parsed_model: dict, credentials: SparkLocalCredentials) -> None:
        if credentials.method != SparkConnectionMethod.SESSION:
            raise DbtRuntimeError(
                f"Python model {parsed_model['alias']}: submission_method 'session' needs "
                f"`method: session` in the profile (got {credentials.method}). On Databricks use "
                "dbt-databricks and its own submission methods."
            )
        self.credentials = credentials
        self.identifier = parsed_model["alias"]
        self.schema = parsed_model["schema"]

    def submit(self, compiled_code: str) -> None:
        # the code dbt-spark compiles refers to the session as the global `spark`
        # and writes the model's table itself (saveAsTable)
        for path in self.credentials.module_paths:
            if path not in sys.path:
                sys.path.insert(0, path)
        namespace = {
            "__name__": f"dbt_python_model_{self.identifier}",
            "spark": spark_session(self.credentials),
        }
        code = compile(
            compiled_code, f"<python model {self.schema}.{self.identifier}>", "exec"
        )
        exec(code, namespace)
