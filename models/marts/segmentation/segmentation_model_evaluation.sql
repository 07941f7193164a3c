{#- One row per candidate model the selection considered: algorithm,
    parameters, k, every metric, whether it was eligible and why not, and
    which one was selected and why, and the per-feature check of its
    segments. -#}

with

latest_model as (
    select
        model_version,
        candidates
    from ({{ latest_registered_model() }}) as registered_model
),

candidates as (
    select
        model_version,
        unnest(candidates, recursive := true)  -- noqa: AL03
    from latest_model
),

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
    from candidates
)

select * from final
