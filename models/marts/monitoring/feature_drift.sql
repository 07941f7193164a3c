{#- Per feature of the model in use: the Population Stability Index of the
    current customer features against the model's training reference, with
    the reference and current quantiles and a watch / act flag. The same
    numbers the `auto` retraining decision uses (python_jobs/segmentation/
    monitoring.py); see the `feature_drift` doc. -#}

{%- set feature_names = numeric_columns(ref('customer_features')) %}
{%- set psi_epsilon = 0.0001 %}

with

latest_model as (
    select
        model_version,
        training_cutoff_date,
        reference_distributions,
        transform
    from ({{ latest_registered_model() }}) as registered_model
),

training_references as (
    select
        model_version,
        unnest(reference_distributions, recursive := true)  -- noqa: AL03
    from latest_model
),

imputation as (
    select unnest(transform, recursive := true)  -- noqa: AL03
    from latest_model
),

current_values as (
    {%- if feature_names | length == 0 %}
        {#- no columns known (only while dbt compiles without a warehouse) -#}
        select
            cast(null as varchar) as feature,
            cast(null as double) as feature_value
        where false
    {%- endif %}
    {%- for feature in feature_names %}
    select
        '{{ feature }}' as feature,
        cast({{ feature }} as double) as feature_value
    from {{ ref('customer_features') }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

binned as (
    -- bin i holds edges[i] <= x < edges[i + 1]; values outside go to the end bins
    select
        training_references.model_version,
        training_references.feature,
        least(
            greatest(
                len(list_filter(
                    training_references.bin_edges,
                    edge -> edge <= coalesce(current_values.feature_value, imputation.impute_value)
                )),
                1
            ),
            len(training_references.bin_edges) - 1
        ) as bin_number,
        coalesce(current_values.feature_value, imputation.impute_value) as feature_value
    from current_values
    inner join training_references
        on current_values.feature = training_references.feature
    inner join imputation
        on current_values.feature = imputation.feature
),

current_shares as (
    select
        feature,
        bin_number,
        count(*) / sum(count(*)) over (partition by feature) as current_share
    from binned
    group by feature, bin_number
),

reference_bins as (
    select
        training_references.model_version,
        training_references.feature,
        bins.bin_number,
        training_references.shares[bins.bin_number] as reference_share
    from training_references
    cross join generate_series(1, cast(len(training_references.shares) as bigint)) as bins (bin_number)
),

psi_terms as (
    select
        reference_bins.model_version,
        reference_bins.feature,
        greatest(reference_bins.reference_share, {{ psi_epsilon }}) as reference_share,
        greatest(coalesce(current_shares.current_share, 0), {{ psi_epsilon }}) as current_share
    from reference_bins
    left join current_shares
        on
            reference_bins.feature = current_shares.feature
            and reference_bins.bin_number = current_shares.bin_number
),

psi as (
    select
        model_version,
        feature,
        sum((current_share - reference_share) * ln(current_share / reference_share)) as psi
    from psi_terms
    group by model_version, feature
),

current_quantiles as (
    select
        feature,
        quantile_cont(feature_value, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]) as current_deciles
    from binned
    group by feature
),

final as (
    select
        psi.model_version,
        psi.feature,
        psi.psi,
        case
            when psi.psi >= {{ var('monitoring').get('psi_retrain', 0.25) }} then 'act'
            when psi.psi >= {{ var('monitoring').get('psi_watch', 0.1) }} then 'watch'
            else 'ok'
        end as drift_status,
        training_references.bin_edges as reference_bin_edges,
        training_references.shares as reference_shares,
        current_quantiles.current_deciles
    from psi
    inner join training_references
        on psi.feature = training_references.feature
    inner join current_quantiles
        on psi.feature = current_quantiles.feature
)

select * from final
