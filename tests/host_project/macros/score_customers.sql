{#- The host's own macro named like one of the package's: the package's
    models must keep calling their own. -#}
{% macro score_customers() %}
    {{ exceptions.raise_compiler_error("host_shop.score_customers was called") }}
{% endmacro %}
