{#- One labelled row per (metric, InteractionID, ActionID, Rank) for every labelled metric: the
    rows of its labelling rule (int_ih__labelled_keys_by_rule). A view: metrics that label rows
    the same way share one stored copy. -#}
{{ config(materialized='view') }}
{%- set cfg = vm_config() -%}

{%- if cfg.labelled_metrics | length == 0 %}

select
    cast(null as {{ dbt.type_string() }}) as metric_name, _interaction_key, y, _row_key, _built_by
from {{ ref('int_ih__labelled_keys_by_rule') }}
where false
{%- else %}

with metric_rules as (

    {%- for metric in cfg.labelled_metrics %}
    select {{ vm_string(metric.name) }} as metric_name, {{ vm_string(metric.label_rule) }} as label_rule
    {{ "union all" if not loop.last }}
    {%- endfor %}

)

select
    metric_rules.metric_name,
    rule_keys._interaction_key,
    rule_keys.y,
    rule_keys._row_key,
    rule_keys._built_by
from {{ ref('int_ih__labelled_keys_by_rule') }} as rule_keys
inner join metric_rules on rule_keys.label_rule = metric_rules.label_rule
{%- endif %}
