{#- One labelled row per (metric, InteractionID, ActionID, Rank) for every configured metric of
    the engagement, conversion, model_ml_scores and experiment families, across all file groups
    (weakness 6). Metric marts aggregate from here. -#}
{%- set cfg = vm_config() -%}
{%- set interactions = ref('int_ih__interactions') -%}

{%- if cfg.labelled_metrics | length == 0 %}
select cast(null as varchar) as metric_name, cast(null as integer) as y, *
from {{ interactions }}
where false
{%- else %}
{%- for metric in cfg.labelled_metrics %}
{{ labelled_rows(metric, interactions) }}
{{ "union all" if not loop.last }}
{%- endfor %}
{%- endif %}
