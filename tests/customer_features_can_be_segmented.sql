{#-
    Stops the build before the clustering (segmentation_models and every
    table after it are skipped, the last publication stays) when the data
    cannot be segmented, with one paragraph that names the condition and
    what to change:

    - no transaction line at all (empty or header-only files);
    - every line quarantined;
    - no customer with a product sale (no CustomerID at all);
    - fewer customers than segmentation.k_min;
    - no usable feature: every feature constant or null, i.e. all customers
      identical (the clustering package's own test: constant after
      median imputation and winsorizing).

    With segmentation_mode `score` nothing is fitted, so only the first three
    apply. A feature that is all null while others vary is not an error: the
    clustering drops it and says so in segmentation_models.features_dropped.
-#}
{#- bad settings stop the run in the validate_settings hook; until then
    (when dbt parses the project) the defaults stand in for them -#}
{%- set given = var('segmentation', none) -%}
{%- set settings = segmentation_settings({} if segmentation_settings_problem(given) else given) -%}
{%- set low_percentile = settings['winsorize_percentiles'][0] -%}
{%- set high_percentile = settings['winsorize_percentiles'][1] -%}
{%- set fits = 'false' if var('segmentation_mode', 'auto') == 'score' else 'true' -%}
{%- set feature_columns, medians, usable = [], [], [] -%}
{%- for feature in settings['features'] -%}
    {%- set column = adapter.quote(feature) -%}
    {%- set median = adapter.quote(feature ~ '_median') -%}
    {%- set imputed = 'coalesce(customer_features.' ~ column ~ ', feature_medians.' ~ median ~ ')' -%}
    {%- do feature_columns.append('cast(' ~ column ~ ' as double) as ' ~ column) -%}
    {%- do medians.append('median(' ~ column ~ ') as ' ~ median) -%}
    {%- set percentiles = percentiles_cont(imputed, [low_percentile, high_percentile]) -%}
    {%- do usable.append(
        'cast(coalesce(' ~ array_element(percentiles, 2) ~ ' > ' ~ array_element(percentiles, 1)
        ~ ', false) as integer)'
    ) -%}
{%- endfor %}

with

raw_files as (
    {#- the lines are counted from a row per file and a row per invoice, not
        line by line; both models are upstream of the clustering, so this
        test still stops it -#}
    select lines_read
    from {{ ref('base_online_retail__raw_files') }}
),

invoices as (
    {#- every staged line is on an invoice (a line without one is quarantined) -#}
    select
        customer_id,
        line_count
    from {{ ref('int_invoices_aggregated_from_lines') }}
),

customer_features as (
    select
        customer_id,
        {{ feature_columns | join(',\n        ') }}
    from {{ ref('customer_features') }}
),

load_summary as (
    select
        (select coalesce(sum(lines_read), 0) from raw_files) as lines_read,
        coalesce(sum(line_count), 0) as lines_staged,
        count(*) as invoices,
        count(*) filter (where customer_id is not null) as invoices_with_customer
    from invoices
),

feature_medians as (
    select
        {{ medians | join(',\n        ') }}
    from customer_features
),

feature_spread as (
    -- a feature is usable when, nulls replaced by its median, its winsorizing
    -- percentiles differ
    select
        count(*) as customers,
        {{ usable | join('\n        + ') }} as usable_features
    from customer_features
    cross join feature_medians
),

problems as (
    select
        case
            when load_summary.lines_read = 0
                then
                    'Nothing to segment: the files matched by the dbt var raw_transactions hold no transaction line '
                    || '(each is empty or only a header; source_file_loads lists them). Point raw_transactions at '
                    || 'the exports that hold the data.'
            when load_summary.lines_staged = 0
                then
                    'Nothing to segment: all ' || load_summary.lines_read || ' lines read were quarantined '
                    || '(see transaction_rejects, by reject_reason). Fix the export, or the dbt vars that say how to '
                    || 'read it (raw_csv_delimiter, raw_encoding, raw_date_formats).'
            when feature_spread.customers = 0
                then
                    'Nothing to segment: none of the ' || load_summary.lines_staged || ' staged lines is a product '
                    || 'sale with a CustomerID (' || load_summary.invoices_with_customer || ' of their '
                    || load_summary.invoices || ' invoices have a CustomerID at all). Segments are made of '
                    || 'identified customers: check that the export keeps '
                    || 'the CustomerID column filled{{ " and that the dbt var as_of_date is after the sales" if var("as_of_date") }}.'
            when {{ fits }} and feature_spread.customers < {{ settings['k_min'] }}
                then
                    'Cannot segment ' || feature_spread.customers || ' customer'
                    || case when feature_spread.customers = 1 then '' else 's' end
                    || ': segmentation.k_min is {{ settings["k_min"] }}, so at least {{ settings["k_min"] }} '
                    || 'customers with a product sale are needed (and many times more for segments to mean '
                    || 'anything). Check that raw_transactions matches all the exports (source_file_loads lists what '
                    || 'was read){{ " and that as_of_date does not cut most sales" if var("as_of_date") }}, or lower '
                    || 'segmentation.k_min.'
            when {{ fits }} and feature_spread.usable_features = 0
                then
                    'Cannot segment the ' || feature_spread.customers || ' customers: every feature in '
                    || 'segmentation.features ({{ settings["features"] | join(", ") }}) is constant or null across '
                    || 'them, so all customers look identical. Check the export (does it repeat one customer''s '
                    || 'purchases?), or add features that vary to segmentation.features.'
        end as problem
    from load_summary
    cross join feature_spread
),

final as (
    select
        {{ raise_error(
            "problem || ' The clustering and the tables after it were not rebuilt, and the last publication '
            || 'stays as it is.'"
        ) }} as problem
    from problems
    where problem is not null
)

select * from final
