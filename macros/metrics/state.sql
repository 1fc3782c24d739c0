{#- Per-family state: for each metric of the family, its labelled rows summed per cell of its
    grouping columns (group_by, global filters and the family's own keys). Cells with zero
    positives or zero negatives are kept (weakness 7). `measures` are aggregate expressions. -#}
{% macro family_state(family, source_relation, measures) -%}
    {%- set metrics = metrics_of_family(vm_config().metrics, family) -%}
    {%- set columns = union_group_columns(metrics) -%}
    {%- if metrics | length == 0 %}
        {#- No metric of this family: an empty table with the family's key columns. -#}
        {%- set keys = family_key_columns(family) %}
select cast(null as varchar) as metric_name{% for k in keys %}, cast(null as varchar) as {{ vm_ident(k) }}{% endfor %}{% for m in measures %}, {{ m }}{% endfor %}
from {{ source_relation }}
where false
group by {% for i in range(1, keys | length + 2) %}{{ i }}{{ ", " if not loop.last }}{% endfor %}
    {%- else %}
        {%- for metric in metrics %}
select
    metric_name,
    {{ group_columns_select(metric, columns) }},
    {{ measures | join(',\n    ') }}
from {{ source_relation }}
where metric_name = '{{ metric.name | replace("'", "''") }}'
group by {% for i in range(1, columns | length + 2) %}{{ i }}{{ ", " if not loop.last }}{% endfor %}
{{ "union all" if not loop.last }}
        {%- endfor %}
    {%- endif %}
{%- endmacro %}
