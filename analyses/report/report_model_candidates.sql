{#- Report: every candidate the search of the model in use fitted
    (segmentation_model_evaluation holds that model's candidates only),
    whether it was selected and eligible, and the metrics the report draws
    (silhouette, Davies-Bouldin, Calinski-Harabasz, inertia, bootstrap ARI,
    smallest segment share, noise share). -#}

with

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
    select *
    from candidates
    order by algorithm asc, k asc, candidate_id asc
)

select * from final
