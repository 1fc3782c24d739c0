{#- One row per CLV metric and holding inside the metric's observation window: the metric's filter
    applied, the configured columns mapped to fixed names, the purchase date a UTC calendar date.
    customer_key identifies a customer within a metric and group (the models' unit). -#}
{%- set metrics = metrics_of_family(vm_config().metrics, 'clv') -%}
{%- set columns = union_group_columns(metrics) -%}
{%- set keys = ['metric_name'] + (columns | map(attribute='name') | list) + ['customer_id'] -%}
{%- set quoted_keys = [] -%}
{%- for key in keys %}{% do quoted_keys.append(vm_ident(key)) %}{% endfor -%}

with holdings as (

    select * from {{ ref('int_holdings__holdings') }}

),
{%- if metrics %}

purchases as (
    {%- for metric in metrics %}

    select
        {{ vm_string(metric.name) }} as metric_name,
        {%- if columns %}
        {{ group_columns_select(metric, columns) }},
        {%- endif %}
        cast({{ vm_ident(metric.customer_id_col) }} as {{ dbt.type_string() }}) as customer_id,
        cast({{ vm_ident(metric.order_id_col) }} as {{ dbt.type_string() }}) as holding_id,
        cast({{ utc_timestamp(parse_pega_timestamp(vm_ident(metric.purchase_date_col))) }} as date) as purchase_date,
        cast({{ vm_ident(metric.monetary_value_col) }} as double) as spend,
        {%- if metric.model == 'contractual' %}
        cast({{ vm_ident(metric.recurring_cost) }} as double) as recurring_cost,
        cast({{ vm_ident(metric.recurring_period) }} as double) as recurring_period
        {%- else %}
        cast(null as double) as recurring_cost,
        cast(null as double) as recurring_period
        {%- endif %}
    from holdings
    where {{ vm_ident(metric.customer_id_col) }} is not null
        {%- if metric.filter_sql %}
        and ({{ metric.filter_sql }})
        {%- endif %}
    {{ "union all" if not loop.last }}
    {%- endfor %}

),

dated as (

    select * from purchases where purchase_date is not null

),

in_window as (
    {{ clv_purchases_in_window('dated', metrics) | indent(4) }}
)

select
    {{ null_safe_key(quoted_keys) }} as customer_key,
    *
from in_window
{%- else %}

empty as (

    select
        cast(null as {{ dbt.type_string() }}) as metric_name,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_string() }}) as holding_id,
        cast(null as date) as purchase_date,
        cast(null as double) as spend,
        cast(null as double) as recurring_cost,
        cast(null as double) as recurring_period,
        cast(null as date) as observation_end,
        cast(null as double) as days_per_unit
    from holdings
    where false

)

select cast(null as {{ dbt.type_string() }}) as customer_key, * from empty
{%- endif %}
