{#- The customer features the persona rules read, in the order the persona
    z-scores are listed (int_segments_z_scored, segment_personas,
    segment_profiles). -#}
{% macro persona_features() %}
    {{ return(['recency_days', 'frequency', 'monetary', 'tenure_days', 'avg_order_value',
        'items_per_order', 'distinct_products', 'return_rate', 'mean_days_between_orders',
        'weekend_order_share']) }}
{% endmacro %}
