{#-
    Every line read from the raw files, typed where it can be, with the reason
    it cannot be staged (null when it can). Staging and transaction_rejects
    both read this one table, so each line lands in exactly one of them.

    Incremental by file: a run reads only the files whose name is not loaded
    yet (a new day's export), and `--full-refresh` reads them all again with
    the same result. A line repeating a line staged by an earlier run is a
    duplicate like any other.
-#}
{{ config(materialized='incremental', incremental_strategy='append') }}

{%- set files_to_load = raw_files_to_load(source('online_retail', 'transaction_files')) %}

{%- set date_parsers = [] -%}
{#- a bad var stops the run in the validate_settings hook, after parsing -#}
{%- set date_formats = var('raw_date_formats') if var('raw_date_formats') is iterable else [] -%}
{%- for date_format in date_formats -%}
    {%- do date_parsers.append("try_strptime(trim(invoice_date), '" ~ date_format ~ "')") -%}
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
        {{ read_raw_transaction_lines(source('online_retail', 'transaction_files'), files_to_load) }}
    {%- endif %}
),

dates_parsed as (
    -- the invoice date read with every accepted format, in the listed order
    select
        *,
        [{{ date_parsers | join(', ') }}] as invoiced_at_candidates
    from raw_lines
),

date_format_usage as (
    -- how many lines of the whole load each accepted format reads
    select
        positions.format_position,
        count(dates_parsed.invoiced_at_candidates[positions.format_position]) as parsed_lines
    from dates_parsed
    cross join range(1, {{ date_parsers | length + 1 }}) as positions (format_position)
    where dates_parsed.line_error is null
    group by positions.format_position
),

date_format_order as (
    -- the formats, those that read most lines first (ties keep the listed
    -- order): a date two formats can read (01/02/2011) is read the way most
    -- of the load is written
    select list(format_position order by parsed_lines desc, format_position asc) as format_positions
    from date_format_usage
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
        nullif(regexp_replace(trim(customer_id), '\.0+$', ''), '') as customer_id,
        nullif(trim(country), '') as country,
        try_cast(trim(quantity) as double) as quantity_number,
        try_cast(trim(unit_price) as double) as unit_price_number,
        list_filter(
            list_transform(date_format_order.format_positions, position -> invoiced_at_candidates[position]),
            candidate -> candidate is not null
        )[1] as invoiced_at
    from dates_parsed
    cross join date_format_order
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
        end as parse_error
    from typed_lines
),

deduplicated_lines as (
    select
        *,
        -- an exact repeat of an earlier valid line (all eight fields equal) is
        -- quarantined; the first copy, by file name and line number, is staged
        case
            when parse_error is null
                then row_number() over (
                    partition by
                        parse_error is null,
                        invoice_no, stock_code, description, quantity_number,
                        invoiced_at, unit_price_number, customer_id, country
                    order by source_file, source_line_number
                )
        end as copy_number
    from classified_lines
),

typed_lines_with_reason as (
    select
        source_file,
        source_line_number,
        raw_line,
        invoice_no,
        stock_code,
        description,
        customer_id,
        country,
        try_cast(quantity_number as bigint) as quantity,
        try_cast(unit_price_number as decimal(18, 4)) as unit_price,
        invoiced_at,
        coalesce(parse_error, case when copy_number > 1 then 'duplicate_line' end) as reject_reason
    from deduplicated_lines
),

{%- if is_incremental() %}

lines_staged_before as (
    select
        invoice_no,
        stock_code,
        description,
        customer_id,
        country,
        quantity,
        unit_price,
        invoiced_at
    from {{ this }}
    where reject_reason is null
),
{%- endif %}

final as (
    -- on an incremental run, a line equal to one staged before is a duplicate too
    select
        new_lines.source_file,
        new_lines.source_line_number,
        new_lines.raw_line,
        new_lines.invoice_no,
        new_lines.stock_code,
        new_lines.description,
        new_lines.customer_id,
        new_lines.country,
        new_lines.quantity,
        new_lines.unit_price,
        new_lines.invoiced_at,
        {%- if is_incremental() %}
            case
                when new_lines.reject_reason is null and lines_staged_before.invoice_no is not null
                    then 'duplicate_line'
                else new_lines.reject_reason
            end as reject_reason
        {%- else %}
            new_lines.reject_reason
        {%- endif %}
    from typed_lines_with_reason as new_lines
    {%- if is_incremental() %}
        -- (the lines staged before are unique, so a line matches at most one)
        left join lines_staged_before
            on
                new_lines.invoice_no = lines_staged_before.invoice_no
                and new_lines.stock_code = lines_staged_before.stock_code
                and new_lines.description is not distinct from lines_staged_before.description
                and new_lines.customer_id is not distinct from lines_staged_before.customer_id
                and new_lines.country is not distinct from lines_staged_before.country
                and new_lines.quantity = lines_staged_before.quantity
                and new_lines.unit_price = lines_staged_before.unit_price
                and new_lines.invoiced_at = lines_staged_before.invoiced_at
    {%- endif %}
)

select * from final
