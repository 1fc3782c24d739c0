{#- The labelled rows of one labelling rule, that of `metric` and every metric sharing its
    label_rule (docs/metrics.md#labelled-rows): rows whose Outcome is in the positive or negative
    list, after the filter, collapsed to one row per (InteractionID, ActionID, Rank) with y = 1 if
    any is positive (a true dedup, weakness 4). Narrow on purpose: the key, y and the deciding
    row's `_row_key` (earliest positive if y = 1, else earliest negative; by OutcomeTime, then
    Outcome), which supplies every other column. -#}
{% macro labelled_keys(metric, relation) -%}
    {%- set positives = metric.positive_model_response -%}
    {%- set outcomes = positives + metric.negative_model_response -%}
    select
        {{ vm_string(metric.label_rule) }} as label_rule,
        _interaction_key,
        y,
        _row_key
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
    {# The deciding row comes first: a positive if any (so its y is the offer's max), then the
       earliest. A sort, which spills past the memory limit; an aggregate keeping each offer's
       row key ran out of memory at 20M rows. #}
    qualify row_number() over (
        partition by _interaction_key
        order by y desc, {{ vm_ident('OutcomeTime') }} asc nulls last, {{ vm_ident('Outcome') }} asc
    ) = 1
{%- endmacro %}

{% macro sql_string_list(values) -%}
    {%- for v in values -%}{{ vm_string(v) }}{{ ", " if not loop.last }}{%- endfor -%}
{%- endmacro %}

{#- Every labelled row with all columns of its deciding row among `interactions` (int_ih__interactions
    or a subquery of it): the rows the metric states aggregate (int_ih__labelled_interactions). -#}
{% macro labelled_rows_of(interactions) -%}
select
    labelled_keys.metric_name,
    labelled_keys.y,
    interactions.*
from {{ ref('int_ih__labelled_keys') }} as labelled_keys
inner join {{ interactions }} as interactions on labelled_keys._row_key = interactions._row_key
{%- endmacro %}
