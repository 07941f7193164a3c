{#-
    raw_files_to_load(source_relation)

    The raw files this run reads, as a list of paths: on a full build every
    file the `raw_transactions` glob matches; on an incremental build only
    those whose name is not yet in the model being built ({{ this }}), so a
    new day's file is read without reading the history again. A glob that
    matches no file stops the build (check_raw_transactions_location), also
    after earlier runs loaded files. An empty list while dbt only parses.
-#}
{% macro raw_files_to_load(source_relation) %}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set location = source_relation.render() -%}
    {%- set listing -%}
        select file
        from glob({{ location }})
        {%- if is_incremental() %}
            where file not in (select distinct source_file from {{ this }})
        {%- endif %}
        order by file
    {%- endset -%}
    {%- set files = run_query(listing).columns[0].values() | list -%}
    {%- if files | length == 0 and flags.WHICH in ('run', 'build')
        and run_query("select count(*) from glob(" ~ location ~ ")").columns[0].values()[0] == 0 -%}
        {#- no file at all, even when earlier runs loaded some: stop with
            the message that names the var -#}
        {%- do check_raw_transactions_location(location, []) -%}
    {%- endif -%}
    {{ return(files) }}
{% endmacro %}
