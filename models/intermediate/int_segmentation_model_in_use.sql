{#- The model the build scores with, one row: the registered version with
    the latest `use` row after this build's fit (macro model_in_use, the one
    home of the rule). Everything that needs the model in use joins this
    one row. -#}

with

final as (
    {{ model_in_use(ref('segmentation_model_artifacts')) }}
)

select * from final
