-- The host's own customer_features (a name the package also uses), with
-- other columns than the package's: were the package's refs to capture
-- it, the segmentation could not build.
select
    customer,
    count(*) as orders
from {{ ref('stg_orders') }}
group by customer
