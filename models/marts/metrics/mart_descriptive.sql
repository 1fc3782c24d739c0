{#- Descriptive statistics per descriptive metric at its configured group_by: one column
    `<Column>_<Score>` per described column and score. -#}
{%- set metrics = metrics_of_family(vm_config().metrics, 'descriptive') -%}

{%- if metrics | length == 0 %}
select cast(null as varchar) as metric_name
where false
{%- else %}
{%- for metric in metrics %}
select
    {{ descriptive_literal(metric.name) }} as metric_name,
    metric_scores.*
from (
    {{ descriptive_scores(metric, metric.group_by, none, adapter.dispatch('descriptive_described_columns')(metric),
                          ref('int_descriptive__state')) }}
) as metric_scores
{{ "union all by name" if not loop.last }}
{%- endfor %}
{%- endif %}
