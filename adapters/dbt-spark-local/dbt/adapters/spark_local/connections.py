from dataclasses import dataclass, field

from dbt.adapters.spark.connections import SparkConnectionManager, SparkCredentials

# The profile type, the connection manager's TYPE and the module name
# (dbt.adapters.spark_local) must all be this one name.
ADAPTER_TYPE = "spark_local"


@dataclass
class SparkLocalCredentials(SparkCredentials):
    """dbt-spark's credentials; a Spark setting left empty in the profile is dropped.

    So a profile can write `spark.remote: "{{ env_var('SPARK_REMOTE', '') }}"`
    and get an in-process Spark when the variable is unset. With `spark.remote`
    set, only the `spark.sql.*` session settings go to the Spark Connect
    server: a local master, driver options and the warehouse folder belong to
    the server's own configuration (pyspark refuses a master and a remote at
    once).
    """

    # folders put on sys.path before a Python model runs (as dbt-duckdb's
    # module_paths), so a model can import the project's own packages
    module_paths: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        settings = {
            key: value
            for key, value in (self.server_side_parameters or {}).items()
            if str(value).strip() != ""
        }
        if "spark.remote" in settings:
            settings = {
                key: value
                for key, value in settings.items()
                if key == "spark.remote"
                or (key.startswith("spark.sql.") and key != "spark.sql.warehouse.dir")
            }
        self.server_side_parameters = settings
        super().__post_init__()

    @property
    def type(self) -> str:
        return ADAPTER_TYPE


class SparkLocalConnectionManager(SparkConnectionManager):
    TYPE = ADAPTER_TYPE
