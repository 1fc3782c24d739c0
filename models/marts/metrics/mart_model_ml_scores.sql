{#- Model quality per model_ml_scores metric at its configured group_by, for both properties. -#}
{%- set metrics = metrics_of_family(vm_config().metrics, 'model_ml_scores') -%}

{%- if metrics | length == 0 %}
select
    cast(null as varchar) as metric_name,
    cast(null as varchar) as property,
    cast(null as bigint) as "Positives",
    cast(null as bigint) as "Negatives",
    cast(null as bigint) as "Count",
    cast(null as double) as roc_auc,
    cast(null as double) as average_precision,
    cast(null as double) as personalization,
    cast(null as double) as novelty
where false
{%- else %}
{%- for metric in metrics %}
select
    {{ model_ml_scores_literal(metric.name) }} as metric_name,
    metric_scores.*
from (
    {{ model_ml_scores_scores(metric, metric.group_by, none, model_ml_scores_properties(),
                              ref('int_model_ml_scores__state'), ref('int_model_ml_scores__action_state')) }}
) as metric_scores
{{ "union all by name" if not loop.last }}
{%- endfor %}
{%- endif %}
