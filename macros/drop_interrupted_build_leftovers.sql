{#-
    drop_interrupted_build_leftovers()

    An on-run-start hook of `dbt build` and `dbt run`: drops the tables that
    dbt's incremental materialization left in the warehouse. For a Python
    model (segmentation_models) it writes each run's rows to a table named
    `<model>__dbt_tmp<timestamp>` before it inserts them; dbt-duckdb 1.11
    does not drop that table afterwards, nor does anything when the run is
    killed in between, and no later run reuses the name. Safe because DuckDB
    lets one build at a time write the warehouse. Returns no SQL.
-#}
{% macro drop_interrupted_build_leftovers() %}
    {{- return(adapter.dispatch('drop_interrupted_build_leftovers')()) -}}
{% endmacro %}

{#- other engines (Spark) drop these tables themselves: nothing to do -#}
{% macro default__drop_interrupted_build_leftovers() %}
    {{- return('') -}}
{% endmacro %}

{% macro duckdb__drop_interrupted_build_leftovers() %}
    {%- if not execute or flags.WHICH not in ('build', 'run') -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set leftovers = run_query(
        "select table_schema, table_name, table_type from information_schema.tables "
        ~ "where table_catalog = '" ~ target.database ~ "' "
        ~ "and regexp_matches(table_name, '__dbt_tmp[0-9]+$') order by 1, 2"
    ) -%}
    {%- for schema, name, kind in leftovers.rows -%}
        {%- set relation = api.Relation.create(database=target.database, schema=schema, identifier=name) -%}
        {%- do run_query('drop ' ~ ('view' if kind == 'VIEW' else 'table') ~ ' if exists ' ~ relation) -%}
        {{ log('Dropped ' ~ relation ~ ', left behind by an earlier run', info=true) }}
    {%- endfor -%}
    {{- return('') -}}
{% endmacro %}
