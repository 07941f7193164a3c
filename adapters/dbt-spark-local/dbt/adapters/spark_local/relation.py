from dataclasses import dataclass
from typing import Any, Optional

from dbt.adapters.contracts.relation import HasQuoting, RelationConfig
from dbt.adapters.spark.relation import SparkRelation


def _source_meta(relation_config: RelationConfig) -> dict[str, Any]:
    """A source's meta: the source's, the table's, then the table's config's."""
    meta: dict[str, Any] = {}
    for part in (
        getattr(relation_config, "source_meta", None),
        getattr(relation_config, "meta", None),
        (getattr(relation_config, "config", None) or {}).get("meta"),
    ):
        meta.update(part or {})
    return meta


@dataclass(frozen=True, eq=False, repr=False)
class SparkLocalRelation(SparkRelation):
    """dbt-spark's relation; a source with `meta.external_location` is files.

    Such a source (this project's raw transaction files, whose location is
    the dbt var `raw_transactions`) renders as that location, a quoted SQL
    string, as dbt-duckdb renders it: the raw-file macros read it with
    Spark's file sources (`text.`...``) instead of a table.
    """

    external: Optional[str] = None  # noqa: UP045 (as the fields of dbt-spark's SparkRelation)

    @classmethod
    def create_from(
        cls,
        quoting: HasQuoting,
        relation_config: RelationConfig,
        **kwargs: Any,
    ) -> "SparkLocalRelation":
        if relation_config.resource_type == "source":
            location = _source_meta(relation_config).get("external_location")
            if location:
                location = str(location).strip()
                if not location.startswith("'"):
                    location = "'" + location.replace("'", "''") + "'"
                kwargs["external"] = location
        return super().create_from(quoting, relation_config, **kwargs)

    def render(self) -> str:
        return self.external if self.external else super().render()
