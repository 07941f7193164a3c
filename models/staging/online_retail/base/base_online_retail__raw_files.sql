{#-
    One row per raw file matched by the `raw_transactions` glob: what
    identifies its content, its line count, and when it was loaded. With
    the var `transactions_relation` set, one row for that table or view
    instead (its row count; read again whole on every run).

    Incremental by file: a run surveys only the files that are new or whose
    content changed (file_fingerprint), in one plain read that counts their
    lines and stops the build on a file that cannot be read whole (see
    survey_raw_files); such a file's row is replaced and its reload counted.
    base_online_retail__lines_parsed then reads the loads recorded here.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy=strategy_replacing_rows_by_key(),
    unique_key='source_file'
) }}

{%- set transaction_files = source('online_retail', 'transaction_files') %}
{%- set from_table = transactions_relation() is not none %}
{%- if not from_table %}
    {%- set files_to_survey = raw_files_to_survey(transaction_files, this) %}
    {%- do survey_raw_files(transaction_files, files_to_survey) %}
{%- endif %}

with

surveyed_files as (
    {%- if from_table %}
        -- the var transactions_relation: its rows are the one "file", read
        -- again whole on every run (a table has no fingerprint to compare)
        select
            survey.source_file,
            survey.lines_read,
            survey.malformed_quoting_lines,
            cast(null as bigint) as file_size,
            cast(null as timestamp) as file_modified_at,
            {{ dbt.concat(["'table|'", "survey.lines_read", "'|'", "'" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "'"]) }}
                as file_fingerprint,
            cast(null as {{ dbt.type_string() }}) as header_line
        from ({{ count_transactions_relation_rows() }}) as survey
    {%- elif files_to_survey | length > 0 %}
        select
            survey.source_file,
            survey.lines_read,
            survey.malformed_quoting_lines,
            attributes.file_size,
            attributes.file_modified_at,
            attributes.file_fingerprint,
            attributes.header_line
        from raw_file_survey as survey
        inner join raw_file_attributes as attributes
            on survey.source_file = attributes.source_file
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as source_file,
            cast(null as bigint) as lines_read,
            cast(null as bigint) as malformed_quoting_lines,
            cast(null as bigint) as file_size,
            cast(null as timestamp) as file_modified_at,
            cast(null as {{ dbt.type_string() }}) as file_fingerprint,
            cast(null as {{ dbt.type_string() }}) as header_line
        where false
    {%- endif %}
),

{% if is_incremental() -%}
earlier_loads as (
    select
        source_file,
        times_loaded,
        first_loaded_at
    from {{ relation_read_before_overwrite(this, {
        'source_file': dbt.type_string(),
        'times_loaded': 'integer',
        'first_loaded_at': 'timestamp'}) }} as earlier
),
{%- endif %}

final as (
    select
        surveyed_files.source_file,
        surveyed_files.file_size,
        surveyed_files.file_modified_at,
        surveyed_files.file_fingerprint,
        surveyed_files.lines_read,
        surveyed_files.malformed_quoting_lines,
        surveyed_files.header_line,
        {%- if from_table %}
            false as reads_natively,
        {%- else %}
            {{ raw_file_reads_natively('surveyed_files') }} as reads_natively,
        {%- endif %}
        {%- if is_incremental() %}
            coalesce(earlier_loads.times_loaded, 0) + 1 as times_loaded,
            coalesce(earlier_loads.first_loaded_at, {{ raw_load_timestamp() }}) as first_loaded_at,
        {%- else %}
            1 as times_loaded,
            {{ raw_load_timestamp() }} as first_loaded_at,
        {%- endif %}
        {{ raw_load_timestamp() }} as loaded_at
    from surveyed_files
    {%- if is_incremental() %}
        left join earlier_loads
            on surveyed_files.source_file = earlier_loads.source_file
    {%- endif %}
)

select * from final
