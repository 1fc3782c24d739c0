{#- Helpers shared by the metric families. Macros in macros/metrics/ are also rendered by
    valuemarts.reports.templates outside dbt: use only vm_ident, adapter.dispatch, return. -#}

{#- The union of the typed grouping columns over the given metrics, first-seen order. A family's
    state table carries them all; a column outside a metric's grouping is NULL on its rows. -#}
{% macro union_group_columns(metrics) -%}
    {{ return(typed_columns_union(metrics, false)) }}
{%- endmacro %}

{#- The typed grouping columns of the metrics, unioned in first-seen order: all of them, or only
    those of the configured group_by (plus, for experiments, the experiment name and arm). -#}
{% macro typed_columns_union(metrics, configured_only) -%}
    {%- set seen = [] -%}
    {%- set columns = [] -%}
    {%- for metric in metrics -%}
        {%- set names = metric.group_by + ([metric.experiment_name, metric.experiment_group] if metric.family == 'experiment' else []) -%}
        {%- for column in metric.group_columns -%}
            {%- if (column.name in names or not configured_only) and column.name not in seen -%}
                {%- do seen.append(column.name) -%}
                {%- do columns.append(column) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- Select list placing one metric's grouping columns into the family's union of columns. -#}
{% macro group_columns_select(metric, union_columns) -%}
    {%- set own = metric.group_columns | map(attribute='name') | list -%}
    {%- for column in union_columns -%}
        {%- if column.name in own -%}
            cast({{ vm_ident(column.name) }} as {{ column.type }}) as {{ vm_ident(column.name) }}
        {%- else -%}
            cast(null as {{ column.type }}) as {{ vm_ident(column.name) }}
        {%- endif -%}
        {{- ",\n        " if not loop.last -}}
    {%- endfor -%}
{%- endmacro %}

{#- Comma list of quoted column names (empty string for none). -#}
{% macro quoted_list(names) -%}
    {%- for name in names -%}{{ vm_ident(name) }}{{ ", " if not loop.last }}{%- endfor -%}
{%- endmacro %}

{#- The metrics of one family, from the compiled config. -#}
{% macro metrics_of_family(metrics, family) -%}
    {%- set found = [] -%}
    {%- for metric in metrics.values() -%}
        {%- if metric.family == family -%}{%- do found.append(metric) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#- A family's mart: each metric scored at its configured grain, padded to the union of columns. -#}
{% macro family_mart(family, scores_macro, state_relation) -%}
    {%- set metrics = metrics_of_family(vm_config().metrics, family) -%}
    {%- set columns = typed_columns_union(metrics, true) -%}
    {%- if metrics | length == 0 %}
        {#- No metric of this family: the mart's columns, no rows. -#}
select cast(null as varchar) as metric_name, scored.*
from (
{{ scores_macro(state_relation, placeholder_metric(family), [], none, []) }}
) as scored
where false
    {%- else %}
        {%- for metric in metrics %}
select '{{ metric.name | replace("'", "''") }}' as metric_name, scored.*
from (
{{ scores_macro(state_relation, metric, metric.group_by, none, columns) }}
) as scored
{{ "union all" if not loop.last }}
        {%- endfor %}
    {%- endif %}
{%- endmacro %}

{#- The key columns a family's state always has, beside group_by and the global filters
    (default column names for a config without such a metric). -#}
{% macro family_key_columns(family) -%}
    {%- if family in ('engagement', 'conversion') -%}
        {{ return(['ModelControlGroup']) }}
    {%- elif family == 'experiment' -%}
        {{ return(['ExperimentName', 'ExperimentGroup']) }}
    {%- else -%}
        {{ return([]) }}
    {%- endif -%}
{%- endmacro %}

{#- A metric with default settings and no grouping, to give an empty mart its columns. -#}
{% macro placeholder_metric(family) -%}
    {{ return({'name': '', 'family': family, 'group_by': [], 'group_columns': [], 'filter_sql': none,
               'experiment_name': 'ExperimentName', 'experiment_group': 'ExperimentGroup',
               'control_group': none, 'expected_split': none, 'no_experiment_value': 'N/A'}) }}
{%- endmacro %}
