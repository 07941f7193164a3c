{#-
    The non-product stock codes (postage, fees, discounts, adjustments,
    vouchers) among the codes of the parsed lines, each with its category
    from the non_product_stock_codes seed: an exact code first, else a
    prefix. A table of a few rows, rebuilt each run, which staging joins to
    every line. Kept apart so that the engine sees how small it is and
    joins the lines to it, not it to the lines: computed inside the staging
    view, DuckDB misjudged its size at 50M lines and built its hash table on
    the 37M lines (19.8 s of a 26 s read of the view).
-#}
{{ config(materialized='table') }}

with

stock_codes as (
    select distinct stock_code
    from {{ ref('base_online_retail__lines_parsed') }}
    where reject_reason is null
),

non_product_codes as (
    select
        stock_code,
        match_type,
        non_product_category
    from {{ ref('non_product_stock_codes') }}
),

exact_codes as (
    select * from non_product_codes
    where match_type = 'exact'
),

prefix_codes as (
    select * from non_product_codes
    where match_type = 'prefix'
),

-- the prefix match is a nested-loop join, done on the few thousand codes
-- rather than on every line
final as (
    select
        stock_codes.stock_code,
        coalesce(
            exact_codes.non_product_category, prefix_codes.non_product_category
        ) as non_product_category
    from stock_codes
    left join exact_codes
        on stock_codes.stock_code = exact_codes.stock_code
    left join prefix_codes
        on {{ has_prefix('stock_codes.stock_code', 'prefix_codes.stock_code') }}
    where
        exact_codes.non_product_category is not null
        or prefix_codes.non_product_category is not null
)

select * from final
