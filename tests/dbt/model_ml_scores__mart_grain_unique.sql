{#- mart_model_ml_scores has one row per metric, group of its group_by, and property. -#}
{%- set metrics = metrics_of_family(vm_config().metrics, 'model_ml_scores') -%}
{%- if metrics | length == 0 %}
select 1 as failure where false
{%- else %}
{%- for metric in metrics %}
select metric_name, count(*) as rows_in_group
from {{ ref('mart_model_ml_scores') }}
where metric_name = {{ model_ml_scores_literal(metric.name) }}
group by metric_name, {% for column in metric.group_by %}{{ vm_ident(column) }}, {% endfor %}property
having count(*) > 1
{{ "union all" if not loop.last }}
{%- endfor %}
{%- endif %}
