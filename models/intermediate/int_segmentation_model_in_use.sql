{#- The model the build scores with: the registered version with the latest
    `use` row (a new fit, or a registered version reused on data it was
    fitted on before). The one home of "the latest model": everything that
    needs the model in use joins this one row. -#}

with

uses as (
    select
        model_version,
        recorded_at,
        training_reason,
        row_number() over (order by recorded_at desc, model_version asc) as use_rank
    from {{ ref('segmentation_model_artifacts') }}
    where artifact = 'use'
),

final as (
    select
        model_version,
        recorded_at as in_use_since,
        training_reason
    from uses
    where use_rank = 1
)

select * from final
