{#-
    Exact duplicates: every line that would be staged and repeats another
    such line in all eight fields (nulls equal), with the copy that stays
    staged: the first by load (a copy loaded by an earlier run first), then
    by file name and line number. Rebuilt each run from every parsed line,
    so the duplicate of a line from an earlier load is found, and nothing
    in the lines table is ever updated.

    The hashes of the eight fields that repeat are found first
    (repeated_values), so that the exact comparison sorts only the few
    lines whose hash repeats.
-#}
{{ config(materialized='table') }}

{%- set fields = 'invoice_no, stock_code, description, quantity, invoiced_at, unit_price, customer_id, country' %}

with

line_keys as (
    select {{ grouping_hash(fields) }} as line_key
    from {{ ref('base_online_retail__lines_parsed') }}
    where reject_reason is null
),

repeated_keys as (
    {{ repeated_values('line_keys', 'line_key') }}
),

candidate_copies as (
    select
        source_file,
        source_line_number,
        loaded_at,
        {{ fields }}
    from {{ ref('base_online_retail__lines_parsed') }}
    where
        reject_reason is null
        and {{ grouping_hash(fields) }} in (select repeated_keys.line_key from repeated_keys)
),

ranked_copies as (
    select
        source_file,
        source_line_number,
        row_number() over copies_in_order as copy_number,
        first_value(source_file || ':' || source_line_number) over copies_in_order as first_copy_line_id
    from candidate_copies
    window copies_in_order as (
        partition by {{ fields }}
        order by loaded_at, source_file, source_line_number
    )
),

final as (
    select
        source_file,
        source_line_number,
        first_copy_line_id as duplicate_of_line_id
    from ranked_copies
    where copy_number > 1
)

select * from final
