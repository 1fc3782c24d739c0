{#- One labelled row per (labelling rule, InteractionID, ActionID, Rank), across all file groups
    (weakness 6): the key, y and the deciding row. A rule is the positive and negative outcomes
    and filter of the labelled metrics (engagement, conversion, model_ml_scores, experiment) that
    share them, stored once for all of them (valuemarts.config.compiler._with_label_rules);
    int_ih__labelled_keys gives each metric its rule's rows. Incremental: offers with rows this
    run (re)computed upstream, or rows of a replaced file, are relabelled from all their rows; the
    pre-hook drops their earlier labels (int_ih__changes). -#}
{{
    config(
        materialized=vm_incremental(),
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ delete_relabelled_keys(ref('int_ih__changes')) }}"
    )
}}
{%- set cfg = vm_config() -%}

with interactions as (

    select * from {{ ref('int_ih__interactions') }}
    {%- if is_incremental() %}
    where _interaction_key in (
            select _interaction_key from {{ ref('int_ih__interactions') }} where {{ vm_built_now() }}
        )
       or _interaction_key in (
            select _interaction_key from {{ ref('int_ih__changes') }} where change_kind = 'label'
        )
    {%- endif %}

),

{%- if cfg.labelled_metrics | length == 0 %}

labelled as (

    select cast(null as {{ dbt.type_string() }}) as label_rule, _interaction_key, cast(null as integer) as y, _row_key
    from interactions
    where false

)
{%- else %}

labelled as (
    {#- one block per rule: the metric that names it -#}
    {%- for rule in cfg.labelled_metrics if rule.label_rule == rule.name %}

    {{ labelled_keys(rule, 'interactions') }}
    {{ "union all" if not loop.last }}
    {%- endfor %}

)
{%- endif %}

select *, '{{ invocation_id }}' as _built_by  -- marks labels (re)computed by this run
from labelled
