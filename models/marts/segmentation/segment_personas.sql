{#- One row per segment of the model in use: its persona (a short unique
    name, a one-line description and a suggested action), named by the rules
    in the seeds `personas` and `persona_rules` (documented in the
    `segment_personas` doc block) from the z-scores of the segment's
    customers against the whole customer population. Recency, frequency,
    monetary value and tenure name the persona; behaviour (basket size,
    weekend orders, returns) only qualifies it. -#}

{%- set persona_features = persona_features() %}


with

segment_z_scores as (
    select
        model_version,
        segment_id,
        {%- for feature in persona_features %}
            {{ feature }}_z,
        {%- endfor %}
        customer_count
    from {{ ref('int_segments_z_scored') }}
),

z_scores as (
    {#- one row per segment and feature: one pass over segment_z_scores with
        the feature names as rows (a union of one select per feature would
        make Spark analyse and plan the whole query above once per feature) -#}
    select
        segment_z_scores.segment_id,
        feature_names.feature,
        case feature_names.feature
            {%- for feature in persona_features %}
                when '{{ feature }}' then segment_z_scores.{{ feature }}_z
            {%- endfor %}
        end as z_score
    from segment_z_scores
    cross join (
        {%- for feature in persona_features %}
            select '{{ feature }}' as feature
            {%- if not loop.last %}
                union all
            {%- endif %}
        {%- endfor %}
    ) as feature_names
),

conditions as (
    select
        z_scores.segment_id,
        personas.persona_key,
        personas.rule_kind,
        personas.rule_order,
        rules.condition_group,
        case rules.direction
            when 'at_least' then z_scores.z_score >= rules.threshold
            when 'at_most' then z_scores.z_score <= rules.threshold
            else true
        end as holds
    from {{ ref('persona_rules') }} as rules
    inner join {{ ref('personas') }} as personas
        on rules.persona_key = personas.persona_key
    inner join z_scores
        on rules.feature = z_scores.feature
    where z_scores.segment_id != 0
),

matched_rules as (
    {#- a rule holds when every condition of one of its groups holds -#}
    select
        segment_id,
        persona_key,
        rule_kind,
        rule_order
    from conditions
    group by segment_id, persona_key, rule_kind, rule_order, condition_group
    having min(case when holds then 1 else 0 end) = 1
),

first_matches as (
    select
        segment_id,
        rule_kind,
        persona_key,
        row_number() over (partition by segment_id, rule_kind order by rule_order) as match_rank
    from (select distinct * from matched_rules) as distinct_matches
),

rule_texts as (
    select
        persona_key,
        {{ string_agg_ordered('condition_text', ' or ', 'condition_group') }} as persona_rule
    from (
        select
            persona_key,
            condition_group,
            '(' || {{ string_agg_ordered('condition', ' and ', 'condition_number') }} || ')' as condition_text
        from (
            select
                persona_key,
                condition_group,
                condition_number,
                case
                    when direction = 'any' then 'true'
                    when direction = 'at_least' then feature || '_z >= ' || cast(threshold as {{ dbt.type_string() }})
                    else feature || '_z <= ' || cast(threshold as {{ dbt.type_string() }})
                end as condition
            from {{ ref('persona_rules') }}
        ) as conditions
        group by persona_key, condition_group
    ) as condition_groups
    group by persona_key
),

named as (
    select
        segment_z_scores.*,
        case
            when segment_z_scores.segment_id = 0 then 'outliers'
            else persona_match.persona_key
        end as persona_key,
        behaviour.persona_name as behaviour_qualifier
    from segment_z_scores
    left join first_matches as persona_match
        on
            segment_z_scores.segment_id = persona_match.segment_id
            and persona_match.rule_kind = 'persona'
            and persona_match.match_rank = 1
    left join first_matches as behaviour_match
        on
            segment_z_scores.segment_id = behaviour_match.segment_id
            and behaviour_match.rule_kind = 'qualifier'
            and behaviour_match.match_rank = 1
    left join {{ ref('personas') }} as behaviour
        on behaviour_match.persona_key = behaviour.persona_key
),

persona_texts as (
    select
        personas.persona_key,
        personas.persona_name,
        coalesce(rule_texts.persona_rule, 'segment_id = 0') as persona_rule,
        personas.rule_order as persona_rule_order,
        personas.persona_description,
        personas.suggested_action
    from {{ ref('personas') }} as personas
    left join rule_texts
        on personas.persona_key = rule_texts.persona_key
    where personas.rule_kind in ('persona', 'outliers')
),

base_names as (
    select
        named.*,
        persona_texts.persona_name
        || coalesce(' (' || named.behaviour_qualifier || ')', '') as base_name
    from named
    inner join persona_texts
        on named.persona_key = persona_texts.persona_key
),

feature_deviations as (
    {#- for segments sharing a name: how far each feature's z-score lies
        from the mean of the segments with that name, for the features
        the persona's rule does not mention (those say nothing new) -#}
    select
        z_scores.segment_id,
        words.feature_position,
        words.word_above,
        words.word_below,
        z_scores.z_score
        - avg(z_scores.z_score) over (partition by base_names.base_name, z_scores.feature) as deviation
    from z_scores
    inner join base_names
        on z_scores.segment_id = base_names.segment_id
    inner join {{ ref('persona_feature_words') }} as words
        on z_scores.feature = words.feature
    where
        base_names.segment_id != 0
        and z_scores.feature not in (
            select rules.feature from {{ ref('persona_rules') }} as rules
            where rules.persona_key = base_names.persona_key
        )
        and base_names.base_name in (
            select shared.base_name from base_names as shared
            group by shared.base_name
            having count(*) > 1
        )
),

segment_qualifiers as (
    select
        segment_id,
        qualifier
    from (
        select
            segment_id,
            case when deviation > 0 then word_above else word_below end as qualifier,
            row_number() over (
                partition by segment_id
                order by abs(deviation) desc, feature_position asc
            ) as qualifier_rank
        from feature_deviations
    ) as ranked
    where qualifier_rank = 1
),

qualified_names as (
    select
        base_names.*,
        persona_texts.persona_name,
        persona_texts.persona_rule,
        persona_texts.persona_rule_order,
        persona_texts.persona_description,
        persona_texts.suggested_action,
        persona_texts.persona_name
        || case
            when base_names.behaviour_qualifier is null and segment_qualifiers.qualifier is null then ''
            else ' (' || concat_ws(', ', base_names.behaviour_qualifier, segment_qualifiers.qualifier) || ')'
        end as qualified_name
    from base_names
    inner join persona_texts
        on base_names.persona_key = persona_texts.persona_key
    left join segment_qualifiers
        on base_names.segment_id = segment_qualifiers.segment_id
),

numbered as (
    {#- the last resort when qualified names still collide: a number in
        segment order -#}
    select
        *,
        row_number() over (partition by qualified_name order by segment_id) as name_rank
    from qualified_names
),

final as (
    select
        model_version,
        cast(segment_id as integer) as segment_id,
        qualified_name
        || case when name_rank > 1 then ' ' || cast(name_rank as {{ dbt.type_string() }}) else '' end as segment_name,
        persona_key,
        persona_name,
        behaviour_qualifier,
        persona_description,
        suggested_action,
        persona_rule,
        cast(persona_rule_order as integer) as persona_rule_order,
        {%- for feature in persona_features %}
            cast({{ feature }}_z as double) as {{ feature }}_z,
        {%- endfor %}
        cast(customer_count as bigint) as customer_count
    from numbered
)

select * from final
