{#- All the checks of one model in one test: dbt's fixed cost per test
    (compiling and logging a node, about 0.05 s of the two threads here) is
    most of what a one-column test costs, so a model's column checks and its
    keys are gathered in one test. Returns one row per broken rule: the rule
    and how many rows break it.

    not_null:        columns that must not be null;
    unique:          the model's keys, each a column or a list of columns
                     that no two rows share (rows whose key columns are all
                     null are left out, as dbt's unique leaves out null; one
                     grouping per key, the row rules in one scan);
    accepted_range:  column -> {min_value, max_value} (either may be left
                     out; nulls are not checked, as in accepted_range);
    accepted_values: column -> list of values (nulls are not checked, as in
                     dbt's accepted_values; strings are quoted, numbers not);
    expressions:     SQL conditions every row must meet (null breaks them,
                     as in expression_is_true). -#}
{% test column_rules(model, not_null=[], unique=[], accepted_range={}, accepted_values={}, expressions=[]) %}
    {%- if not (not_null or unique or accepted_range or accepted_values or expressions) -%}
        {{ exceptions.raise_compiler_error("column_rules on " ~ model ~ ": give at least one rule or key") }}
    {%- endif -%}
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
    {%- set keys = [] -%}
    {%- for key in unique -%}
        {%- do keys.append([key] if key is string else key) -%}
    {%- endfor -%}
    {%- set results = [] -%}

    with

    {% if rules -%}
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
    ),
    {%- for rule in rules %}
        {%- do results.append((rule[0], 'rule_' ~ loop.index, 'broken')) %}
    {%- endfor %}
    {%- endif %}

    {% for key in keys -%}
    repeated_key_{{ loop.index }} as (
        -- the rows that share their key with another row
        select coalesce(sum(occurrences), 0) as failing_rows
        from (
            select count(*) as occurrences
            from {{ model }}
            where not ({{ key | join(' is null and ') }} is null)
            group by {{ key | join(', ') }}
            having count(*) > 1
        ) as repeated
    ),
    {%- do results.append(('unique: ' ~ key | join(', '), 'failing_rows', 'repeated_key_' ~ loop.index)) %}
    {% endfor %}

    checked as (
        {% for result in results -%}
            select
                {{ sql_string_literal(result[0]) }} as rule,
                {{ result[1] }} as failing_rows
            from {{ result[2] }}
            {% if not loop.last %}union all{% endif %}
        {% endfor %}
    )

    select
        rule,
        failing_rows
    from checked
    where failing_rows > 0
{% endtest %}
