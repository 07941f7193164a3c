{#- Report: every candidate the latest model's search fitted, whether it
    was selected and eligible, and the metrics the report draws
    (silhouette, Davies-Bouldin, Calinski-Harabasz, inertia, bootstrap ARI,
    smallest segment share, noise share). -#}

with

latest_model as (
    {{ latest_registered_model() }}
),

candidates as (
    select
        model_version,
        algorithm,
        k,
        candidate_id,
        is_selected,
        is_eligible,
        silhouette,
        davies_bouldin,
        calinski_harabasz,
        inertia,
        stability_ari,
        smallest_segment_share,
        noise_share
    from {{ ref('segmentation_model_evaluation') }}
),

final as (
    select candidates.*
    from candidates
    inner join latest_model
        on candidates.model_version = latest_model.model_version
    order by candidates.algorithm asc, candidates.k asc, candidates.candidate_id asc
)

select * from final
