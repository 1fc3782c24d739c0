{#- Append-only: one row per model promoted to champion, in promotion order. The latest row of a
    metric is the model that scores it.
    On Spark, where every build rebuilds every model in full, a table (vm_incremental). -#}
{{ config(materialized=vm_incremental()) }}

with cards as (

    select * from {{ ref('mart_clv__model_cards') }}

)

select
    model_id,
    metric_name,
    trained_at as promoted_at,
    model_type,
    training_signature,
    code_version,
    train_cutoff,
    history_months,
    pred_months,
    baseline_rmse,
    baseline_r2,
    value_cap
from cards
where is_champion
{%- if is_incremental() %}
    and model_id not in (select model_id from {{ this }})
{%- endif %}
