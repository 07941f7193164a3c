{#- How customers moved between segments from the previous run to this one:
    a from-to matrix with counts and shares, read from the segment history
    snapshot. New customers come `from` 'new', departed ones go `to`
    'departed'. The previous state is the history as it stood when this
    run started. -#}

with

history as (
    select
        customer_id,
        segment_id,
        dbt_valid_from,
        dbt_valid_to
    from {{ ref('customer_segment_history') }}
),

previous_state as (
    select
        customer_id,
        segment_id
    from history
    where
        dbt_valid_from < cast('{{ run_started_at }}' as {{ type_timestamp_with_time_zone() }})
        and (dbt_valid_to is null or dbt_valid_to >= cast('{{ run_started_at }}' as {{ type_timestamp_with_time_zone() }}))
),

current_state as (
    select
        customer_id,
        segment_id
    from history
    where dbt_valid_to is null
),

moves as (
    select
        previous_state.segment_id as from_segment_id,
        current_state.segment_id as to_segment_id,
        coalesce(cast(previous_state.segment_id as {{ dbt.type_string() }}), 'new') as from_segment,
        coalesce(cast(current_state.segment_id as {{ dbt.type_string() }}), 'departed') as to_segment
    from previous_state
    full outer join current_state
        on previous_state.customer_id = current_state.customer_id
),

final as (
    select
        from_segment,
        to_segment,
        from_segment_id,
        to_segment_id,
        count(*) as customer_count,
        count(*) / sum(count(*)) over (partition by from_segment) as share_of_from_segment,
        count(*) / sum(count(*)) over () as share_of_customers,
        coalesce(from_segment_id = to_segment_id, false) as is_same_segment
    from moves
    group by from_segment, to_segment, from_segment_id, to_segment_id
)

select * from final
