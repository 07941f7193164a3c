-- The host's own stg_orders (a name the package also uses): one row per order.
select
    order_number,
    min(customer) as customer,
    count(*) as lines
from {{ ref('order_lines') }}
group by order_number
