{#- Predictions of scoring runs whose prediction window the data now covers, with each customer's
    realised spend in that window (0 when she did not buy): the input of the drift check. -#}
with predictions as (

    select * from {{ ref('mart_clv__predictions') }}

),

periods as (

    select * from {{ ref('mart_clv__purchase_periods') }}

),

data_ends as (

    select metric_name, max(observation_end) as observation_end
    from periods
    group by metric_name

),

matured as (

    select predictions.*
    from predictions
    inner join data_ends on predictions.metric_name = data_ends.metric_name
    where predictions.pred_end <= data_ends.observation_end

),

realised as (

    select
        matured.metric_name,
        matured.cutoff,
        matured.customer_key,
        coalesce(sum(periods.spend), 0) as actual_value
    from matured
    left join periods
        on periods.metric_name = matured.metric_name
        and periods.customer_key = matured.customer_key
        and periods.purchase_date > matured.cutoff
        and periods.purchase_date <= matured.pred_end
    group by matured.metric_name, matured.cutoff, matured.customer_key

)

select
    matured.*,
    realised.actual_value
from matured
inner join realised
    on realised.metric_name = matured.metric_name
    and realised.cutoff = matured.cutoff
    and realised.customer_key = matured.customer_key
