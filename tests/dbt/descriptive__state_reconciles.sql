{#- The descriptive state accounts for every staged value: per metric and described column, its
    counts equal the non-null values after the metric's filter, and for numeric columns its sums
    equal theirs (to 1e-9 relative; text columns have no sum in the state). -#}
{%- set metrics = metrics_of_family(vm_config().metrics, 'descriptive') -%}
{%- if metrics | length == 0 %}
select 1 as failure where false
{%- else %}
with staged_totals as (
    {%- for metric in metrics %}
    {%- set metric_loop = loop %}
    {%- for column in adapter.dispatch('descriptive_described_columns')(metric) %}

    select
        {{ vm_string(metric.name) }} as metric_name,
        {{ vm_string(column) }} as column_name,
        count({{ vm_ident(column) }}) as value_count,
        sum(try_cast({{ vm_ident(column) }} as double)) as value_sum
    from {{ ref('int_ih__interactions') }}
    {%- if metric.filter_sql %}
    where ({{ metric.filter_sql }})
    {%- endif %}
    {{ "union all" if not (metric_loop.last and loop.last) }}
    {%- endfor %}
    {%- endfor %}

),

state_totals as (

    select metric_name, column_name, sum(value_count) as value_count, sum(value_sum) as value_sum
    from {{ ref('mart_descriptive__state') }}
    group by metric_name, column_name

)

select
    coalesce(staged_totals.metric_name, state_totals.metric_name) as metric_name,
    coalesce(staged_totals.column_name, state_totals.column_name) as column_name
from staged_totals
full outer join state_totals
    on staged_totals.metric_name = state_totals.metric_name
    and staged_totals.column_name = state_totals.column_name
-- A column with no values (no rows at all, or all null) has no state cells: zero on both sides.
where coalesce(staged_totals.value_count, 0) != coalesce(state_totals.value_count, 0)
   or (state_totals.value_sum is not null
       and abs(staged_totals.value_sum - state_totals.value_sum) > 1e-9 * (1 + abs(staged_totals.value_sum)))
{%- endif %}
