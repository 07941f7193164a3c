-- The shop's order lines, one row per line of its daily exports
-- (env ORDER_LINE_FILES, a glob of Online Retail CSV files), with the
-- shop's own column names. Lines the CSV reader cannot split are left out
-- here: what customer_segmentation accounts for are the rows of this model.
select
    "InvoiceNo" as order_number,
    "StockCode" as sku,
    "Description" as product_name,
    "Quantity" as qty,
    "InvoiceDate" as ordered_at,
    "UnitPrice" as price,
    "CustomerID" as customer,
    "Country" as country
from read_csv(
    '{{ env_var("ORDER_LINE_FILES") }}',
    header = true,
    all_varchar = true,
    ignore_errors = true
)
