{#- One row per CLV metric, group and customer: the customer summary, the models' expected
    purchases and lifetime value over the configured horizon, RFM scores and segment within the
    metric's groups, and the prediction engine's value tier and cluster from the latest scoring run
    (what `report clv` reads). -#}
{%- set metrics = metrics_of_family(vm_config().metrics, 'clv') -%}
{%- set group_names = union_group_columns(metrics) | map(attribute='name') | list -%}

with summary as (

    select * from {{ ref('int_clv__customer_summary') }}

),

customer_values as (

    select * from {{ ref('int_clv__customer_values') }}

),

latest_predictions as (

    select * from {{ ref('mart_clv__predictions') }}
    qualify cutoff = max(cutoff) over (partition by metric_name)

),

segments as (

    select * from {{ ref('rfm_segments') }}

),

rfm as (
    {%- set preset_sql -%}
    {%- if metrics -%}
    case metric_name
        {%- for metric in metrics %} when {{ vm_string(metric.name) }} then {{ vm_string(metric.rfm_segment_config) }}{% endfor %}
    end
    {%- else -%}
    cast(null as {{ dbt.type_string() }})
    {%- endif -%}
    {%- endset %}
    {{ clv_rfm_scores('summary', ['metric_name'] + group_names, preset_sql, 'segments') | indent(4) }}
)

select
    rfm.*,
    customer_values.p_alive,
    customer_values.expected_purchases,
    customer_values.expected_spend,
    customer_values.one_off_value,
    customer_values.expected_renewals,
    customer_values.recurring_clv,
    customer_values.recurring_basis,
    customer_values.lifetime_value,
    latest_predictions.cutoff as scored_cutoff,
    latest_predictions.model_id as scoring_model_id,
    latest_predictions.predicted_value,
    latest_predictions.value_rank,
    latest_predictions.value_tier,
    latest_predictions.cluster,
    latest_predictions.clv_index
from rfm
left join customer_values
    on customer_values.metric_name = rfm.metric_name
    and customer_values.customer_key = rfm.customer_key
left join latest_predictions
    on latest_predictions.metric_name = rfm.metric_name
    and latest_predictions.customer_key = rfm.customer_key
