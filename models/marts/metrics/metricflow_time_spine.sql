{#- One row per day from 2000 to 2030: the calendar MetricFlow joins
    metrics to (its "time spine"). Static, so it needs no input. -#}

with

days as (
    select cast(generate_series as date) as date_day
    from generate_series(date '2000-01-01', date '2030-12-31', interval 1 day)
),

final as (
    select date_day
    from days
)

select * from final
