{#- Distribution of the R, F and M scores (1 to 5, 5 best): customers per
    score and the range of the underlying measure (recency in days, frequency
    in orders, monetary in currency units) each score covers. -#}

{%- set scores = {
    'recency': 'recency_days',
    'frequency': 'frequency',
    'monetary': 'monetary'
} %}

with

customer_features as (
    select
        recency_days,
        frequency,
        monetary,
        recency_score,
        frequency_score,
        monetary_score
    from {{ ref('customer_features') }}
),

scores as (
    {%- for score_name, measure in scores.items() %}
        select
            '{{ score_name }}' as score_name,
            {{ score_name }}_score as score,
            count(*) as customer_count,
            min({{ measure }}) as measure_min,
            median({{ measure }}) as measure_median,
            max({{ measure }}) as measure_max
        from customer_features
        group by {{ score_name }}_score
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        score_name,
        score,
        customer_count,
        round(customer_count / sum(customer_count) over (partition by score_name), 4) as customer_share,
        measure_min,
        measure_median,
        measure_max
    from scores
    order by score_name, score
)

select * from final
