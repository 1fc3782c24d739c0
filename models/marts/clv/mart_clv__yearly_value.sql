{#- Per CLV metric, group and purchase Year: customers who bought, their historical value and the
    value per customer with its change on the previous Year (the reference's average CLTV cards). -#}
{%- set metrics = metrics_of_family(vm_config().metrics, 'clv') -%}
{%- set group_names = union_group_columns(metrics) | map(attribute='name') | list -%}
{%- set partition = ['metric_name'] + group_names -%}

with quarters as (

    select * from {{ ref('mart_clv__customer_quarters') }}

),

yearly as (

    select
        {{ quoted_list(partition) }},
        {%- if 'Year' not in group_names %}
        {{ vm_ident('Year') }},
        {%- endif %}
        count(distinct customer_key) as customers,
        sum(historical_value) as historical_value
    from quarters
    group by all

),

with_average as (

    select
        *,
        historical_value / customers as value_per_customer
    from yearly

)

select
    *,
    value_per_customer / lag(value_per_customer) over (
        partition by {{ quoted_list(partition) }} order by {{ vm_ident('Year') }}
    ) - 1 as value_per_customer_yoy
from with_average
