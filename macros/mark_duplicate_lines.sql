{#-
    mark_duplicate_lines(relation)

    The post-hook of base_online_retail__lines_read: quarantines exact
    duplicates. A line that would be staged and repeats another such line in
    all eight fields (nulls equal) gets reject_reason `duplicate_line` and
    `duplicate_of_line_id`, the `<file>:<line>` of the copy that stays
    staged: a copy loaded by an earlier run if there is one, else the first
    copy of this load by file name and line number.

    Only the lines of this run's load (`loaded_at` = raw_load_timestamp())
    are changed. Runs in the model's transaction, so a failure leaves the
    table as it was before the run. Lines are grouped by a hash of the eight
    fields first, so the exact comparison sorts only the few lines whose
    hash repeats.
-#}
{% macro mark_duplicate_lines(relation) %}
    {%- set fields = 'invoice_no, stock_code, description, quantity, invoiced_at, unit_price, customer_id, country' -%}
    update {{ relation }} as lines
    set
        reject_reason = 'duplicate_line',
        duplicate_of_line_id = copies.first_copy_line_id
    from (
        with

        staged_lines as (
            select
                source_file,
                source_line_number,
                {{ fields }},
                loaded_at = {{ raw_load_timestamp() }} as is_new,
                hash({{ fields }}) as line_key
            from {{ relation }}
            where reject_reason is null
        ),

        repeated_keys as (
            -- keys seen more than once, one of them in this load
            select line_key
            from staged_lines
            group by line_key
            having count(*) > 1 and bool_or(is_new)
        ),

        ranked_copies as (
            select
                source_file,
                source_line_number,
                is_new,
                row_number() over copies_in_order as copy_number,
                first_value(source_file || ':' || source_line_number) over copies_in_order as first_copy_line_id
            from staged_lines
            where line_key in (select repeated_keys.line_key from repeated_keys)
            window copies_in_order as (
                partition by {{ fields }}
                order by is_new, source_file, source_line_number
            )
        )

        select
            source_file,
            source_line_number,
            first_copy_line_id
        from ranked_copies
        where copy_number > 1 and is_new
    ) as copies
    where
        lines.source_file = copies.source_file
        and lines.source_line_number = copies.source_line_number
{% endmacro %}


{#- The time stamp of this run's load of raw lines (`loaded_at`): when the
    dbt invocation started, the same in the model and its post-hook. -#}
{% macro raw_load_timestamp() %}
    {{- return("cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as timestamp)") -}}
{% endmacro %}
