{#- The reference system's CLV state: per CLV metric, group, customer, Year and Quarter of the
    purchase date, distinct holdings, purchase periods, spend and historical value (spend plus, for
    contractual metrics, recurring cost x recurring period per holding, as the reference adds; the
    reference called it lifetime_value, a name the CLV marts keep for the predicted value). -#}
{%- set metrics = metrics_of_family(vm_config().metrics, 'clv') -%}
{%- set group_names = union_group_columns(metrics) | map(attribute='name') | list -%}
{%- set calendar = [] -%}
{%- for name in ['Year', 'Quarter'] %}{% if name not in group_names %}{% do calendar.append(name) %}{% endif %}{% endfor -%}

with purchases as (

    select
        *,
        year(purchase_date) as {{ vm_ident('Year') }},
        concat(year(purchase_date), '_Q', quarter(purchase_date)) as {{ vm_ident('Quarter') }}
    from {{ ref('int_clv__purchases') }}

)

select
    metric_name,
    customer_key,
    {%- for name in group_names %}
    {{ vm_ident(name) }},
    {%- endfor %}
    customer_id,
    {%- for name in calendar %}
    {{ vm_ident(name) }},
    {%- endfor %}
    count(distinct holding_id) as unique_holdings,
    count(distinct purchase_date) as purchase_periods,
    sum(coalesce(spend, 0)) as spend,
    sum(coalesce(recurring_cost * recurring_period, 0)) as recurring_value,
    sum(coalesce(spend, 0)) + sum(coalesce(recurring_cost * recurring_period, 0)) as historical_value,
    min(purchase_date) as first_purchase_date,
    max(purchase_date) as last_purchase_date
from purchases
group by all
