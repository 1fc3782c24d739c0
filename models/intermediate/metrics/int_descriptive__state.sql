{#- Mergeable state of every descriptive metric, long by column: per lowest-grain cell (the
    metric's group_by and the global filters) and described column, over staged rows after the
    global and the metric's filter (all outcomes): the non-null count, and for numeric columns the
    sum, mean, M2 (sum of squared deviations from the mean), min, max and a t-digest. -#}
{%- set metrics = metrics_of_family(vm_config().metrics, 'descriptive') -%}
{%- set group_columns = union_group_columns(metrics) -%}
{%- set group_names = group_columns | map(attribute='name') | list -%}
{%- set interactions = ref('int_ih__interactions') -%}
{%- set numeric_columns = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(interactions) -%}
        {%- if column.is_number() -%}{%- do numeric_columns.append(column.name) -%}{%- endif -%}
    {%- endfor -%}
{%- endif -%}

{%- if metrics | length == 0 %}
select
    cast(null as varchar) as metric_name,
    cast(null as varchar) as column_name,
    cast(null as bigint) as value_count,
    cast(null as double) as value_sum,
    cast(null as double) as value_mean,
    cast(null as double) as value_m2,
    cast(null as double) as value_min,
    cast(null as double) as value_max,
    cast(null as blob) as value_digest
where false
{%- else %}
with
{%- for metric in metrics %}
{%- set metric_loop = loop %}

metric_{{ metric_loop.index }}_cells as (

    select
        {{ sql_string_list([metric.name]) }} as metric_name,
        {%- if group_columns %}
        {{ group_columns_select(metric, group_columns) }},
        {%- endif %}
        {%- for column in adapter.dispatch('descriptive_described_columns')(metric) %}
        {%- set value = vm_ident(column) %}
        {%- set suffix = metric_loop.index ~ '_' ~ loop.index %}
        count({{ value }}) as value_count_{{ suffix }}
        {%- if column in numeric_columns %},
        sum(cast({{ value }} as double)) as value_sum_{{ suffix }},
        avg(cast({{ value }} as double)) as value_mean_{{ suffix }},
        var_pop(cast({{ value }} as double)) * count({{ value }}) as value_m2_{{ suffix }},
        min(cast({{ value }} as double)) as value_min_{{ suffix }},
        max(cast({{ value }} as double)) as value_max_{{ suffix }},
        tdigest_build(list(cast({{ value }} as double)) filter (where {{ value }} is not null)) as value_digest_{{ suffix }}
        {%- endif %}
        {{- "," if not loop.last }}
        {%- endfor %}
    from {{ interactions }}
    {%- if metric.filter_sql %}
    where ({{ metric.filter_sql }})
    {%- endif %}
    group by all

){{ "," if not loop.last }}
{%- endfor %}

{%- for metric in metrics %}
{%- set metric_loop = loop %}
{%- for column in adapter.dispatch('descriptive_described_columns')(metric) %}
{%- set suffix = metric_loop.index ~ '_' ~ loop.index %}

select
    metric_name,
    {% for name in group_names %}{{ vm_ident(name) }}, {% endfor %}{{ sql_string_list([column]) }} as column_name,
    value_count_{{ suffix }} as value_count,
    {%- if column in numeric_columns %}
    value_sum_{{ suffix }} as value_sum,
    value_mean_{{ suffix }} as value_mean,
    value_m2_{{ suffix }} as value_m2,
    value_min_{{ suffix }} as value_min,
    value_max_{{ suffix }} as value_max,
    value_digest_{{ suffix }} as value_digest
    {%- else %}
    cast(null as double) as value_sum,
    cast(null as double) as value_mean,
    cast(null as double) as value_m2,
    cast(null as double) as value_min,
    cast(null as double) as value_max,
    cast(null as blob) as value_digest
    {%- endif %}
from metric_{{ metric_loop.index }}_cells
{{ "union all" if not (metric_loop.last and loop.last) }}
{%- endfor %}
{%- endfor %}
{%- endif %}
