{#-
    Every line read from the raw files, typed where it can be, with the reason
    it cannot be staged (null when it can). Staging and transaction_rejects
    both read this one table, so each line lands in exactly one of them.

    Incremental by file: a run reads only the files whose name is not loaded
    yet (a new day's export), and `--full-refresh` reads them all again with
    the same result. A line repeating a line staged by an earlier run is a
    duplicate like any other.

    Exact duplicates are marked by the post-hook mark_duplicate_lines, in the
    same transaction, after the lines are written: finding them needs every
    line of the load at once, which a table scan does far more cheaply than
    the query that parses the files.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    post_hook="{{ mark_duplicate_lines(this) }}"
) }}

{%- set transaction_files = source('online_retail', 'transaction_files') %}
{%- set files_to_load = raw_files_to_load(transaction_files) %}
{#- a file that cannot be read stops the build here, with a message naming it -#}
{%- do check_raw_transaction_files(transaction_files, files_to_load) %}
{%- set date_formats = raw_date_formats_by_use(transaction_files, files_to_load) %}
{%- set quoted_formats = [] -%}
{%- for date_format in date_formats -%}
    {%- do quoted_formats.append(sql_string_literal(date_format)) -%}
{%- endfor %}

with

raw_lines as (
    {%- if is_incremental() and files_to_load | length == 0 %}
        -- no new file since the last run: nothing to read
        select
            cast(null as varchar) as source_file,
            cast(null as bigint) as source_line_number,
            cast(null as varchar) as raw_line,
            cast(null as varchar) as line_error,
            cast(null as varchar) as invoice_no,
            cast(null as varchar) as stock_code,
            cast(null as varchar) as description,
            cast(null as varchar) as quantity,
            cast(null as varchar) as invoice_date,
            cast(null as varchar) as unit_price,
            cast(null as varchar) as customer_id,
            cast(null as varchar) as country
        where false
    {%- else %}
        {{ read_raw_transaction_lines(transaction_files, files_to_load) }}
    {%- endif %}
),

typed_lines as (
    select
        source_file,
        source_line_number,
        raw_line,
        line_error,
        nullif(trim(invoice_no), '') as invoice_no,
        nullif(trim(stock_code), '') as stock_code,
        nullif(trim(description), '') as description,
        -- CustomerID arrives as a float ('17850.0'): keep the id as clean text
        nullif(
            case
                when contains(customer_id, '.') then regexp_replace(trim(customer_id), '\.0+$', '')
                else trim(customer_id)
            end,
            ''
        ) as customer_id,
        nullif(trim(country), '') as country,
        try_cast(trim(quantity) as double) as quantity_number,
        try_cast(trim(unit_price) as double) as unit_price_number,
        -- the formats in the order raw_date_formats_by_use found them used:
        -- the first that reads the date wins
        {%- if quoted_formats | length > 0 %}
            try_strptime(trim(invoice_date), [{{ quoted_formats | join(', ') }}]) as invoiced_at
        {%- else %}
            cast(null as timestamp) as invoiced_at
        {%- endif %}
    from raw_lines
),

classified_lines as (
    select
        *,
        case
            when line_error is not null then line_error
            when invoice_no is null then 'missing_invoice_no'
            when stock_code is null then 'missing_stock_code'
            when
                quantity_number is null
                or not isfinite(quantity_number)
                or quantity_number != trunc(quantity_number)
                then 'unparseable_quantity'
            when unit_price_number is null or not isfinite(unit_price_number)
                then 'unparseable_unit_price'
            when invoiced_at is null then 'unparseable_invoice_date'
            when invoiced_at > current_localtimestamp() then 'invoice_date_in_future'
            when abs(quantity_number) > {{ var('max_abs_quantity') }} then 'absurd_quantity'
            when abs(unit_price_number) > {{ var('max_abs_unit_price') }} then 'absurd_unit_price'
        end as reject_reason
    from typed_lines
),

final as (
    select
        source_file,
        source_line_number,
        -- the text is kept for the lines quarantined here; a staged line is
        -- its typed fields (and a duplicate points at its first copy)
        case when reject_reason is not null then raw_line end as raw_line,
        invoice_no,
        stock_code,
        description,
        customer_id,
        country,
        try_cast(quantity_number as bigint) as quantity,
        try_cast(unit_price_number as decimal(18, 4)) as unit_price,
        invoiced_at,
        reject_reason,
        -- set by mark_duplicate_lines
        cast(null as varchar) as duplicate_of_line_id,
        {{ raw_load_timestamp() }} as loaded_at
    from classified_lines
)

select * from final
