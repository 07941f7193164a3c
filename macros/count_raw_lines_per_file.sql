{#-
    count_raw_lines_per_file(source_relation, files=none)

    Counts the data lines of every raw file with a plain read that does no
    parsing at all (physical lines less the header line for CSV, rows for
    Parquet), so that the accounting test compares the staging layer with
    an independent count. Files with no line at all count 0. `files`, when
    given, is the list of paths to count instead of the whole glob.
-#}
{% macro count_raw_lines_per_file(source_relation, files=none) %}
    {%- set glob_location = source_relation.render() -%}
    {%- set location = raw_files_location(source_relation, files) -%}
    with

    files as (
        {%- if files is none %}
        select file as source_file from glob({{ glob_location }})
        {%- else %}
        select unnest({{ location }}) as source_file
        {%- endif %}
    ),

    {% if glob_location.strip("'").lower().endswith('.parquet') -%}
    counts as (
        select filename as source_file, count(*) as lines_read
        from read_parquet({{ location }}, filename = true, union_by_name = true)
        group by filename
    ),
    {%- else -%}
    counts as (
        select filename as source_file, count(*) - 1 as lines_read
        from {{ read_raw_csv_as_lines(location) }}
        group by filename
    ),
    {%- endif %}

    final as (
        select
            files.source_file,
            coalesce(counts.lines_read, 0) as lines_read
        from files
        left join counts on files.source_file = counts.source_file
    )

    select * from final
{% endmacro %}
