"""dbt adapter type `spark_local`: dbt-spark with one more way to run Python models.

dbt-spark sends Python models only to Databricks (its `job_cluster` and
`all_purpose_cluster` submission methods call the Databricks REST API). This
plugin adds the submission method `session`, which runs the compiled model
code on the Spark session dbt already uses for SQL (`method: session`): a
local, in-process Spark, or a Spark Connect server when the profile sets
`spark.remote`. Everything else, the SQL macros included, is dbt-spark's.
"""

from dbt.adapters.base import AdapterPlugin
from dbt.adapters.spark_local.connections import (  # noqa: F401
    SparkLocalConnectionManager,
    SparkLocalCredentials,
)
from dbt.adapters.spark_local.impl import SparkLocalAdapter
from dbt.include import spark_local

Plugin = AdapterPlugin(
    adapter=SparkLocalAdapter,  # type: ignore[arg-type]
    credentials=SparkLocalCredentials,
    include_path=spark_local.PACKAGE_PATH,
    dependencies=["spark"],
)
