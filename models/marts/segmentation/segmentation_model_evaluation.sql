{#- One row per candidate model the selection considered for the model in
    use: algorithm, parameters, k, every metric, whether it was eligible and
    why not, which one was selected and why, and the per-feature check of its
    segments. -#}

with

final as (
    select
        candidates.model_version,
        candidates.candidate_id,
        candidates.algorithm,
        candidates.parameters_json,
        candidates.k,
        candidates.silhouette,
        candidates.davies_bouldin,
        candidates.calinski_harabasz,
        candidates.inertia,
        candidates.smallest_segment_share,
        candidates.noise_share,
        candidates.stability_ari,
        candidates.fit_seconds,
        candidates.rejection_reason,
        candidates.is_eligible,
        candidates.is_selected,
        candidates.selection_reason,
        candidates.feature_check_json
    from {{ ref('int_segmentation_model_candidates') }} as candidates
    inner join {{ ref('int_segmentation_model_in_use') }} as in_use
        on candidates.model_version = in_use.model_version
)

select * from final
