{#- One labelled row per (metric, InteractionID, ActionID, Rank) for every configured metric of
    the engagement, conversion, model_ml_scores and experiment families, across all file groups
    (weakness 6): the key, y and the deciding row. Incremental: keys whose rows this run
    (re)computed upstream are relabelled from all their rows, and keys left without rows (a
    replaced file) are dropped, by the pre-hook. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ delete_relabelled_keys(ref('int_ih__interactions')) }}"
    )
}}
{%- set cfg = vm_config() -%}

with interactions as (

    select * from {{ ref('int_ih__interactions') }}
    {%- if is_incremental() %}
    where _interaction_key in (
        select _interaction_key from {{ ref('int_ih__interactions') }} where _built_by = '{{ invocation_id }}'
    )
    {%- endif %}

),

{%- if cfg.labelled_metrics | length == 0 %}

labelled as (

    select cast(null as varchar) as metric_name, _interaction_key, cast(null as integer) as y, _row_key
    from interactions
    where false

)
{%- else %}

labelled as (
    {%- for metric in cfg.labelled_metrics %}

    {{ labelled_keys(metric, 'interactions') }}
    {{ "union all" if not loop.last }}
    {%- endfor %}

)
{%- endif %}

select * from labelled
