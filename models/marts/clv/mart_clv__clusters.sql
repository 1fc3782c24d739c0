{#- Behavioural clusters of each scoring run: size, median and mean predicted value, CLV index
    (100 x the cluster median over the median of all clustered customers) and mean features.
    Cluster 1 has the highest median predicted value. -#}
with predictions as (

    select * from {{ ref('mart_clv__predictions') }}
    where cluster is not null

)

select
    metric_name,
    cutoff,
    model_id,
    cluster,
    count(*) as customers,
    median(predicted_value) as median_predicted_value,
    avg(predicted_value) as mean_predicted_value,
    any_value(clv_index) as clv_index,
    avg(inactivity) as mean_inactivity,
    avg(frequency) as mean_frequency,
    avg(avg_period_spend) as mean_period_spend
from predictions
group by metric_name, cutoff, model_id, cluster
