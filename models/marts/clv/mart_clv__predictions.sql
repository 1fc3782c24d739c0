{#- Append-only predictions keyed by cutoff: each build appends the scoring runs of
    int_clv__predictions whose (metric, cutoff) is new, so a cutoff is scored once and earlier
    runs stay comparable over time.
    On Spark, where every build rebuilds every model in full, a table (vm_incremental). -#}
{{ config(materialized=vm_incremental()) }}

with latest_runs as (

    select * from {{ ref('int_clv__predictions') }}

)

select
    metric_name,
    cutoff,
    pred_end,
    model_id,
    history_months,
    pred_months,
    customer_key,
    scored,
    frequency,
    recency,
    {{ vm_ident('T') }},
    inactivity,
    monetary_value,
    avg_period_spend,
    total_spend,
    predicted_value,
    value_rank,
    value_tier,
    cluster,
    clv_index
from latest_runs
{%- if is_incremental() %}
where not exists (
    select 1
    from {{ this }} as appended
    where appended.metric_name = latest_runs.metric_name
        and appended.cutoff = latest_runs.cutoff
)
{%- endif %}
