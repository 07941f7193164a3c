{#- Several row rules of one model in one test and one scan: dbt's fixed
    cost per test (about 0.09 s here) is most of what a one-column test
    costs, so a model's column checks are gathered in one test. Returns one
    row per broken rule: the rule and how many rows break it.

    not_null:        columns that must not be null;
    accepted_range:  column -> {min_value, max_value} (either may be left
                     out; nulls are not checked, as in accepted_range);
    accepted_values: column -> list of values (nulls are not checked, as in
                     dbt's accepted_values; strings are quoted, numbers not);
    expressions:     SQL conditions every row must meet (null breaks them,
                     as in expression_is_true). -#}
{% test column_rules(model, not_null=[], accepted_range={}, accepted_values={}, expressions=[]) %}
    {%- set rules = [] -%}
    {%- for column in not_null -%}
        {%- do rules.append(('not_null: ' ~ column, column ~ ' is null')) -%}
    {%- endfor -%}
    {%- for column, bounds in accepted_range.items() -%}
        {%- set low, high = bounds.get('min_value'), bounds.get('max_value') -%}
        {%- set outside, inside = [], [] -%}
        {%- if low is not none %}{% do outside.append(column ~ ' < ' ~ low) %}{% do inside.append(column ~ ' >= ' ~ low) %}{% endif -%}
        {%- if high is not none %}{% do outside.append(column ~ ' > ' ~ high) %}{% do inside.append(column ~ ' <= ' ~ high) %}{% endif -%}
        {%- do rules.append((
            'accepted_range: ' ~ inside | join(' and '),
            column ~ ' is not null and (' ~ outside | join(' or ') ~ ')'
        )) -%}
    {%- endfor -%}
    {%- for column, values in accepted_values.items() -%}
        {%- set literals = [] -%}
        {%- for value in values -%}
            {%- do literals.append(value if value is number else sql_string_literal(value)) -%}
        {%- endfor -%}
        {%- do rules.append((
            'accepted_values: ' ~ column,
            column ~ ' is not null and ' ~ column ~ ' not in (' ~ literals | join(', ') ~ ')'
        )) -%}
    {%- endfor -%}
    {%- for expression in expressions -%}
        {%- do rules.append(('expression: ' ~ expression, 'not coalesce((' ~ expression ~ '), false)')) -%}
    {%- endfor -%}

    with

    flagged as (
        -- per row first: an expression may hold a correlated subquery, which
        -- Spark allows in a projection but not inside an aggregate
        select
            {%- for rule in rules %}
                case when {{ rule[1] }} then 1 else 0 end as rule_{{ loop.index }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ model }}
    ),

    broken as (
        select
            {%- for rule in rules %}
                sum(rule_{{ loop.index }}) as rule_{{ loop.index }}{{ ',' if not loop.last }}
            {%- endfor %}
        from flagged
    )

    {% for rule in rules -%}
        select
            {{ sql_string_literal(rule[0]) }} as rule,
            rule_{{ loop.index }} as failing_rows
        from broken
        where rule_{{ loop.index }} > 0
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
{% endtest %}
