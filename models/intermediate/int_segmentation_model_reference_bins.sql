{#- The drift reference, one row per model version, feature and bin: the
    training deciles (duplicates removed) as bins, with the share of training
    customers in each. Bin i holds bin_lower <= x < bin_upper. -#}

with

final as (
    select
        model_version,
        feature,
        bin_number,
        bin_lower,
        bin_upper,
        reference_share
    from {{ ref('segmentation_model_artifacts') }}
    where artifact = 'reference_bin'
)

select * from final
