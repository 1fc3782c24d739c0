{#- The labelled rows of one metric (docs/metrics.md#labelled-rows): rows whose Outcome is in
    the metric's positive or negative list, after the metric's filter, collapsed to one row per
    (InteractionID, ActionID, Rank) with y = 1 if any is positive (a true dedup, weakness 4).
    Narrow on purpose: the key, y and the deciding row's `_row_key` (earliest positive if y = 1,
    else earliest negative; by OutcomeTime, then Outcome), which supplies every other column. -#}
{% macro labelled_keys(metric, relation) -%}
    {%- set positives = metric.positive_model_response -%}
    {%- set outcomes = positives + metric.negative_model_response -%}
    select
        {{ vm_string(metric.name) }} as metric_name,
        _interaction_key,
        max(y) as y,
        {{ first_ordered('_row_key', ['1 - y', 'coalesce(' ~ vm_ident('OutcomeTime') ~ ", 'infinity'::timestamptz)", vm_ident('Outcome')]) }} as _row_key
    from (
        select
            _interaction_key,
            _row_key,
            {{ vm_ident('OutcomeTime') }},
            {{ vm_ident('Outcome') }},
            case when {{ vm_ident('Outcome') }} in ({{ sql_string_list(positives) }}) then 1 else 0 end as y
        from {{ relation }}
        where {{ vm_ident('Outcome') }} in ({{ sql_string_list(outcomes) }})
        {%- if metric.filter_sql %}
          and ({{ metric.filter_sql }})
        {%- endif %}
    ) as outcome_rows
    group by _interaction_key
{%- endmacro %}

{#- The value of `expr` on the group's row with the smallest `keys` (SQL expressions compared in
    order, none NULL; the keys of the labelled rows are unique within a group): an arg_min on a
    tuple, which a hash aggregate can spill, where an ordered aggregate holds each group's rows. -#}
{% macro first_ordered(expr, keys) -%}
    {{ return(adapter.dispatch('first_ordered', 'valuemarts')(expr, keys)) }}
{%- endmacro %}

{% macro default__first_ordered(expr, keys) -%}
    arg_min({{ expr }}, ({{ keys | join(', ') }}))
{%- endmacro %}

{% macro sql_string_list(values) -%}
    {%- for v in values -%}{{ vm_string(v) }}{{ ", " if not loop.last }}{%- endfor -%}
{%- endmacro %}
