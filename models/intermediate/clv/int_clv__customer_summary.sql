{#- Frequency, recency, T and monetary value per CLV metric, group and customer, from the
    purchase periods (rules in macros/metrics/clv.sql). -#}
{%- set columns = union_group_columns(metrics_of_family(vm_config().metrics, 'clv')) -%}
{%- set keys = ['metric_name', 'customer_key'] + (columns | map(attribute='name') | list) + ['customer_id'] -%}

with periods as (

    select * from {{ ref('mart_clv__purchase_periods') }}

),

summary as (
    {{ clv_customer_summary('periods', keys) | indent(4) }}
)

select * from summary
