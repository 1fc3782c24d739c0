{#- Append-only model cards: each build adds the cards int_clv__model_cards trained, under this
    mart's contract (dbt enforces contracts on SQL models only).
    On Spark, where every build rebuilds every model in full, a table (vm_incremental). -#}
{{ config(materialized=vm_incremental()) }}

with cards as (

    select * from {{ ref('int_clv__model_cards') }}

)

select
    model_id,
    metric_name,
    trained_at,
    code_version,
    training_signature,
    train_cutoff,
    data_end,
    history_months,
    pred_months,
    time_unit,
    model_type,
    is_champion,
    params_json,
    baseline_rmse,
    baseline_r2,
    value_cap,
    customers,
    holdout_folds,
    grid_json,
    model_state
from cards
{%- if is_incremental() %}
where model_id not in (select model_id from {{ this }})
{%- endif %}
