{#- Drift of every matured scoring run against its model's baseline (int_clv__drift, a Python
    model) under this mart's contract, which dbt enforces on SQL models only. valuemarts.clv_files
    writes the alert of each drifting run after the build. -#}
with drift as (

    select * from {{ ref('int_clv__drift') }}

)

select
    metric_name,
    cutoff,
    pred_end,
    model_id,
    customers,
    value_cap,
    rmse,
    r2,
    baseline_rmse,
    baseline_r2,
    rmse_increase,
    r2_decrease,
    rmse_threshold,
    r2_threshold,
    is_drift,
    alert_path
from drift
