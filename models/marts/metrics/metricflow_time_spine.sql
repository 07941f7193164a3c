{#- One row per day from 2000 to 2030: the calendar MetricFlow joins
    metrics to (its "time spine"). Static, so it needs no input. -#}

with

days as (
    -- dbt's portable date spine; the end date is not included
    select cast(date_day as date) as date_day
    from (
        {{ dbt.date_spine('day', "cast('2000-01-01' as date)", "cast('2031-01-01' as date)") }}
    ) as spine
),

final as (
    select date_day
    from days
)

select * from final
