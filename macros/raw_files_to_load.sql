{#-
    raw_files_to_load(source_relation)

    The raw files this run reads, as a list of paths: on a full build every
    file the `raw_transactions` glob matches; on an incremental build only
    those whose name is not yet in the model being built ({{ this }}), so a
    new day's file is read without reading the history again. An empty list
    while dbt only parses.
-#}
{% macro raw_files_to_load(source_relation) %}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set listing -%}
        select file
        from glob({{ source_relation.render() }})
        {%- if is_incremental() %}
            where file not in (select distinct source_file from {{ this }})
        {%- endif %}
        order by file
    {%- endset -%}
    {{ return(run_query(listing).columns[0].values() | list) }}
{% endmacro %}
