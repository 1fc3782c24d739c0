{#- The fitted CLV model parameters with log-likelihood and convergence status. -#}
select * from {{ ref('int_clv__model_fits') }}
