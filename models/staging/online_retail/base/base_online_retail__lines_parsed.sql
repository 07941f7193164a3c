{#-
    Every line read from the raw files, typed where it can be, with the reason
    it cannot be staged while parsing (null when it can). Duplicates are
    found apart, by base_online_retail__duplicate_lines; the two together are
    base_online_retail__lines_read, which staging and transaction_rejects
    read, so each line lands in exactly one of them.

    Incremental by file: a run reads only the loads base_online_retail__raw_files
    recorded and this table does not hold yet (a new day's export, or a file
    whose content changed, whose earlier lines the pre-hook deletes), and
    `--full-refresh` reads them all again with the same result. Each line is
    written once: a file goes through the engine's native reader when its
    survey allows (raw_file_reads_natively), any other file through the
    line-exact reader. The native reader's files are written in batches of
    a bounded number of lines (raw_native_batches): this query writes the
    first, a post-hook the others; then a file the native reader did not
    account for line by line is deleted and read again line-exactly
    (reread_files_the_native_reader_missed), the one case of a second write.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook=[
        "{{ drop_lines_of_reloaded_files(this, ref('base_online_retail__raw_files')) }}",
        "{{ prepare_native_write_check(this) }}",
        "{{ raw_lines_write_settings(true) }}"
    ],
    post_hook=[
        "{{ write_later_native_batches(this, source('online_retail', 'transaction_files')) }}",
        "{{ reread_files_the_native_reader_missed(this, source('online_retail', 'transaction_files')) }}",
        "{{ raw_lines_write_settings(false) }}"
    ]
) }}

{%- set transaction_files = source('online_retail', 'transaction_files') %}
{%- set plan = plan_raw_load(ref('base_online_retail__raw_files'), this) %}
{#- Parquet with numeric and date columns is read with those types -#}
{%- set typed = raw_parquet_is_typed(transaction_files, plan.native_files) %}
{#- the date formats in the order this load tries them, kept for the hooks:
    a typed load (Parquet, whose files all go to the native reader with
    their dates typed: raw_file_reads_natively) takes no sample, which at
    10.8M lines took 0.57 s on the build's critical path -#}
{%- set date_formats = raw_load_date_formats(transaction_files, [] if typed else plan.files) %}

with

read_natively as (
    {%- if plan.native_files | length > 0 %}
        {{ classify_raw_lines(
            read_raw_transaction_lines_natively(transaction_files, plan.native_batches[0], typed),
            'native_reader',
            date_formats,
            typed
        ) }}
    {%- else %}
        {{ classify_raw_lines(no_raw_lines(), 'native_reader', date_formats) }}
    {%- endif %}
),

read_line_exactly as (
    {%- if plan.exact_files | length > 0 %}
        {{ classify_raw_lines(
            read_raw_transaction_lines(transaction_files, plan.exact_files),
            'warehouse_table' if transactions_relation() is not none else 'line_exact_reader',
            date_formats
        ) }}
    {%- else %}
        {{ classify_raw_lines(
            no_raw_lines(),
            'warehouse_table' if transactions_relation() is not none else 'line_exact_reader',
            date_formats
        ) }}
    {%- endif %}
),

final as (
    select * from read_natively
    union all
    select * from read_line_exactly
)

select * from final
