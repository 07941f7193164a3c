{#- Every candidate each model version's selection evaluated, one row per
    model version and candidate. -#}

with

final as (
    select
        model_version,
        candidate_id,
        algorithm,
        parameters_json,
        k,
        silhouette,
        davies_bouldin,
        calinski_harabasz,
        inertia,
        smallest_segment_share,
        noise_share,
        stability_ari,
        fit_seconds,
        rejection_reason,
        is_eligible,
        is_selected,
        selection_reason,
        feature_check_json
    from {{ ref('segmentation_model_artifacts') }}
    where artifact = 'candidate'
)

select * from final
