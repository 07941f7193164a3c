{#- Data quality profile of the raw transaction lines, one row per check.
    Over every line read: lines staged and rejected, the missing (or
    unparseable) value rate of each raw column and the rejects by reason
    (exact duplicate lines among them). Over the staged lines: cancellations,
    negative quantities, zero and negative prices, non-product codes (and
    their categories), lines without a customer and repeated invoice and
    product pairs. line_share = line_count / base_line_count. -#}

{%- set raw_columns = ['invoice_no', 'stock_code', 'description', 'customer_id', 'country',
    'quantity', 'unit_price', 'invoiced_at'] %}

{%- set staged_checks = {
    'cancellation_line': 'is_cancellation',
    'negative_quantity': 'quantity < 0',
    'zero_unit_price': 'unit_price = 0',
    'negative_unit_price': 'unit_price < 0',
    'non_product_code': 'is_non_product',
    'missing_customer_id': 'customer_id is null',
    'product_sale_line': 'is_product_sale',
    'product_return_line': 'is_product_return'
} %}

with

lines_read as (
    select
        invoice_no,
        stock_code,
        description,
        customer_id,
        country,
        quantity,
        unit_price,
        invoiced_at,
        reject_reason
    from {{ ref('base_online_retail__lines_read') }}
),

staged_lines as (
    select
        invoice_no,
        stock_code,
        customer_id,
        non_product_category,
        quantity,
        unit_price,
        is_cancellation,
        is_non_product,
        is_product_sale,
        is_product_return
    from {{ ref('stg_online_retail__transaction_lines') }}
),

read_line_counts as (
    select
        {%- for column_name in raw_columns %}
            count(*) - count({{ column_name }}) as missing_{{ column_name }},
        {%- endfor %}
        count(*) as lines_read,
        count(*) filter (where reject_reason is null) as lines_staged,
        count(*) filter (where reject_reason is not null) as lines_rejected
    from lines_read
),

staged_line_counts as (
    select
        {%- for check_name, condition in staged_checks.items() %}
            count(*) filter (where {{ condition }}) as {{ check_name }},
        {%- endfor %}
        count(*) - count(distinct invoice_no || '|' || stock_code) as repeated_invoice_product,
        count(*) as lines_staged
    from staged_lines
),

rejects_by_reason as (
    select
        reject_reason,
        count(*) as line_count
    from lines_read
    where reject_reason is not null
    group by reject_reason
),

non_product_categories as (
    select
        non_product_category,
        count(*) as line_count
    from staged_lines
    where is_non_product
    group by non_product_category
),

checks as (
    select
        1 as check_order,
        'lines' as check_group,
        'lines_staged' as check_name,
        lines_staged as line_count,
        lines_read as base_line_count
    from read_line_counts
    union all
    select
        1 as check_order,
        'lines' as check_group,
        'lines_rejected' as check_name,
        lines_rejected as line_count,
        lines_read as base_line_count
    from read_line_counts
    {%- for column_name in raw_columns %}
        union all
        select
            2 as check_order,
            'missing_value' as check_group,
            '{{ column_name }}' as check_name,
            missing_{{ column_name }} as line_count,
            lines_read as base_line_count
        from read_line_counts
    {%- endfor %}
    union all
    select
        3 as check_order,
        'rejected_by_reason' as check_group,
        rejects_by_reason.reject_reason as check_name,
        rejects_by_reason.line_count,
        read_line_counts.lines_read as base_line_count
    from rejects_by_reason
    cross join read_line_counts
    {%- for check_name in ['repeated_invoice_product'] + staged_checks.keys() | list %}
        union all
        select
            4 as check_order,
            'staged_lines' as check_group,
            '{{ check_name }}' as check_name,
            {{ check_name }} as line_count,
            lines_staged as base_line_count
        from staged_line_counts
    {%- endfor %}
    union all
    select
        5 as check_order,
        'non_product_category' as check_group,
        non_product_categories.non_product_category as check_name,
        non_product_categories.line_count,
        staged_line_counts.lines_staged as base_line_count
    from non_product_categories
    cross join staged_line_counts
),

final as (
    select
        check_group,
        check_name,
        line_count,
        base_line_count,
        round(line_count / nullif(base_line_count, 0), 6) as line_share
    from checks
    order by check_order asc, line_count desc, check_name asc
)

select * from final
