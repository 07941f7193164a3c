from dataclasses import dataclass

from dbt.adapters.spark.connections import SparkConnectionManager, SparkCredentials

# The profile type, the connection manager's TYPE and the module name
# (dbt.adapters.spark_local) must all be this one name.
ADAPTER_TYPE = "spark_local"


@dataclass
class SparkLocalCredentials(SparkCredentials):
    """dbt-spark's credentials; a Spark setting left empty in the profile is dropped.

    So a profile can write `spark.remote: "{{ env_var('SPARK_REMOTE', '') }}"`
    and get an in-process Spark when the variable is unset.
    """

    def __post_init__(self) -> None:
        self.server_side_parameters = {
            key: value
            for key, value in (self.server_side_parameters or {}).items()
            if str(value).strip() != ""
        }
        super().__post_init__()

    @property
    def type(self) -> str:
        return ADAPTER_TYPE


class SparkLocalConnectionManager(SparkConnectionManager):
    TYPE = ADAPTER_TYPE
