{#- The fitted CLV model parameters with log-likelihood and convergence status: the fits of
    int_clv__model_fits (a Python model) under this mart's contract, which dbt enforces on SQL
    models only. -#}
with fits as (

    select * from {{ ref('int_clv__model_fits') }}

)

select
    metric_name,
    model,
    parameter,
    value,
    log_likelihood,
    converged,
    iterations,
    n_customers,
    message,
    time_unit,
    observation_end
from fits
