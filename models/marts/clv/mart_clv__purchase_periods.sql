{#- One row per CLV metric, group, customer and purchase day (a purchase period): purchases on
    the same day merged (docs/metrics.md#customer-summary). Computed once, here: the customer summary, the prediction
    engine and `report clv` all read these periods, so they cannot disagree. -#}
{%- set columns = union_group_columns(metrics_of_family(vm_config().metrics, 'clv')) -%}
{%- set keys = ['metric_name', 'customer_key'] + (columns | map(attribute='name') | list) + ['customer_id'] -%}

with purchases as (

    select * from {{ ref('int_clv__purchases') }}

),

periods as (
    {{ clv_purchase_periods('purchases', keys) | indent(4) }}
)

select * from periods
