{#-
    publish_for_bi(results)

    The on-run-end hook that publishes the BI-facing models (tag `bi`) to a
    DuckDB file of their own (env var BI_DUCKDB_PATH, default
    published/segments.duckdb) and to Parquet files beside it
    (published/parquet/<table>.parquet), atomically. See the
    `bi_publication` doc block.

    On by default in this project; off in a host project that installed it
    as a package, unless the host sets the var publish_for_bi: true (and
    declares the plugin below in its profile, else it stops saying so).
    It publishes only after `dbt build` (not with --empty), only when no
    node of the run errored or failed, and only when every BI model was
    rebuilt in this run; otherwise it logs why and leaves the last
    publication untouched.
    The staged files are written with ATTACH / CREATE TABLE AS / COPY; the
    rename into place is done by the bi_publication_* functions that the
    dbt-duckdb plugin `publishing.dbt_plugin` registers on the connection.
    Returns no SQL: the work is done while the hook renders.
-#}
{% macro publish_for_bi(results) %}
    {{- return(adapter.dispatch('publish_for_bi')(results)) -}}
{% endmacro %}

{#- The publication is a DuckDB file and Parquet files beside it: on another
    engine BI tools read the segment tables where dbt built them. -#}
{% macro default__publish_for_bi(results) %}
    {%- if execute and invocation_args_dict.get('which') == 'build' -%}
        {{ log('BI publication: DuckDB only; on target type ' ~ target.type ~ ' BI tools read the tagged `bi` tables in the warehouse', info=true) }}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}

{% macro duckdb__publish_for_bi(results) %}
    {%- if not execute or invocation_args_dict.get('which') != 'build' -%}
        {{ return('') }}
    {%- endif -%}
    {#- on by default when this is the dbt project run; off when a host
        project installed it as a package, unless its var turns it on -#}
    {%- set standalone = project_name == 'customer_segmentation' -%}
    {%- if not var('publish_for_bi', standalone) -%}
        {{ log('BI publication: off (var publish_for_bi is ' ~ ('false' if standalone else 'not true in this host project') ~ ')', info=true) }}
        {{ return('') }}
    {%- elif invocation_args_dict.get('empty') -%}
        {{ log('BI publication: not published, --empty builds tables without rows', info=true) }}
        {{ return('') }}
    {%- endif -%}

    {%- set bi_models = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='name') -%}
        {%- if node.resource_type == 'model' and 'bi' in node.tags -%}
            {%- do bi_models.append(node) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- set problems = [] -%}
    {%- set rebuilt = [] -%}
    {%- for result in results -%}
        {%- set status = result.status | string -%}
        {%- if status in ['error', 'fail', 'runtime error', 'partial success'] -%}
            {%- do problems.append(result.node.name ~ ' (' ~ status ~ ')') -%}
        {%- elif status == 'success' -%}
            {%- do rebuilt.append(result.node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set not_rebuilt = [] -%}
    {%- for node in bi_models -%}
        {%- if node.unique_id not in rebuilt -%}
            {%- do not_rebuilt.append(node.name) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- if problems -%}
        {{ log('BI publication: not published, the last one is kept; failed: ' ~ problems | join(', '), info=true) }}
        {{ return('') }}
    {%- elif not bi_models or not_rebuilt -%}
        {{ log('BI publication: not published, not rebuilt in this run: ' ~ (not_rebuilt | join(', ') or 'no model tagged bi'), info=true) }}
        {{ return('') }}
    {%- endif -%}

    {%- set plugin = run_query(
        "select count(*) from duckdb_functions() where function_name = 'bi_publication_prepare'"
    ).columns[0].values()[0] -%}
    {%- if plugin == 0 -%}
        {{ exceptions.raise_compiler_error(
            "BI publication: the var publish_for_bi is true, but the profile of target " ~ target.name
            ~ " lacks the dbt-duckdb plugin that publishes (plugins: - module: publishing.dbt_plugin, "
            ~ "from the customer-segmentation Python package; README, Use it from your own dbt "
            ~ "project). Add it, or set publish_for_bi: false. The models are built; nothing was published."
        ) }}
    {%- endif -%}
    {%- set version = run_started_at.strftime('%Y%m%dT%H%M%SZ') ~ '-' ~ invocation_id[:8] -%}
    {%- set prepared = run_query(
        'select bi_publication_prepare('
        ~ sql_string_literal(env_var('BI_DUCKDB_PATH', 'published/segments.duckdb')) ~ ', '
        ~ sql_string_literal(version) ~ ', '
        ~ sql_string_literal(target.path) ~ ')'
    ).columns[0].values()[0] -%}
    {%- set paths = fromjson(prepared) -%}
    {%- set staged = 'bi_publication_staged' -%}

    {#- in DuckDB 1.0's storage format, whatever the warehouse's (profiles.yml
        config_options): BI tools embedding any DuckDB since 1.0 open it -#}
    {%- do run_query(
        'attach ' ~ sql_string_literal(paths['staged_database']) ~ ' as ' ~ staged
        ~ " (storage_version 'v1.0.0')"
    ) -%}
    {%- set counts = [] -%}
    {%- set metadata = {'model_version': 'null', 'as_of_date': 'null'} -%}
    {%- for node in bi_models -%}
        {%- set relation = api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- do run_query('create table ' ~ staged ~ '.main.' ~ node.alias ~ ' as select * from ' ~ relation) -%}
        {%- do counts.append("('" ~ node.alias ~ "', (select count(*) from " ~ staged ~ ".main." ~ node.alias ~ "))") -%}
        {%- for column in ['model_version', 'as_of_date'] -%}
            {%- if column in node.columns and metadata[column] == 'null' -%}
                {%- do metadata.update({column: '(select max(' ~ column ~ ') from ' ~ staged ~ '.main.' ~ node.alias ~ ')'}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- do run_query(
        'create table ' ~ staged ~ '.main.publication_info as select'
        ~ ' tables.table_name, tables.row_count,'
        ~ ' ' ~ sql_string_literal(version) ~ ' as publication_version,'
        ~ ' cast(' ~ metadata['model_version'] ~ ' as varchar) as model_version,'
        ~ ' cast(' ~ metadata['as_of_date'] ~ ' as date) as as_of_date,'
        ~ " timestamp '" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S') ~ "' as built_at,"
        ~ " cast(now() at time zone 'UTC' as timestamp) as published_at,"
        ~ ' ' ~ sql_string_literal(invocation_id) ~ ' as dbt_invocation_id,'
        ~ ' ' ~ sql_string_literal(dbt_version) ~ ' as dbt_version'
        ~ ' from (values ' ~ counts | join(', ') ~ ') as tables (table_name, row_count)'
        ~ ' order by tables.table_name'
    ) -%}
    {%- for name in bi_models | map(attribute='alias') | list + ['publication_info'] -%}
        {%- do run_query(
            'copy ' ~ staged ~ '.main.' ~ name ~ ' to '
            ~ sql_string_literal(paths['staged_version_dir'] ~ '/' ~ name ~ '.parquet')
            ~ ' (format parquet, compression zstd)'
        ) -%}
    {%- endfor -%}
    {%- do run_query('detach ' ~ staged) -%}

    {%- set summary = run_query(
        'select bi_publication_commit(' ~ sql_string_literal(prepared) ~ ')'
    ).columns[0].values()[0] -%}
    {{ log('BI publication: ' ~ summary, info=true) }}
    {{ return('') }}
{% endmacro %}

