{#- Conversion (docs/metrics.md#conversion): the state model and the scores the mart
    and `valuemarts report` share. -#}

{#- The conversion metrics' rows of `labelled` (labelled rows of every metric) with their
    touchpoints: the number of positive labelled rows of the same metric, customer and conversion
    event in `positives` (every labelled row, over all files: weakness 6). A full build passes the
    same relation twice; an append passes the rows of the cells it recomputes and counts the
    positives of only their events. -#}
{% macro conversion_touchpoints(labelled, positives) -%}
    {%- set metrics = metrics_of_family(vm_config().metrics, 'conversion') -%}
    {%- set customer = vm_ident('SubjectID') -%}
    {%- set event = vm_ident('ConversionEventID') -%}
    {%- set only_their_events = labelled != positives -%}
{#- Not materialized: read twice (every row; the positives' keys), and materializing the wide
    joined rows once cost ten times reading them twice (7.1 s against 0.8 s on 5M rows). -#}
with conversion_labelled {{ vm_cte_as() }} (

    select labelled_rows.*
    from {{ labelled }} as labelled_rows
    where metric_name in ({{ sql_string_list(metrics | map(attribute='name') | list) if metrics else 'null' }})

),
{%- if only_their_events %}

events as (

    select distinct metric_name, {{ customer }}, {{ event }}
    from conversion_labelled

),
{%- endif %}

touchpoints_per_event as (

    select positive_rows.metric_name, positive_rows.{{ customer }}, positive_rows.{{ event }}, count(*) as touchpoints
    from {{ positives if only_their_events else 'conversion_labelled' }} as positive_rows
    {%- if only_their_events %}
    {{ vm_semi_join() }} events
        on positive_rows.metric_name = events.metric_name
        and positive_rows.{{ customer }} = events.{{ customer }}
        and positive_rows.{{ event }} = events.{{ event }}
    {%- endif %}
    where positive_rows.y = 1
    group by positive_rows.metric_name, positive_rows.{{ customer }}, positive_rows.{{ event }}

)

select
    conversion_labelled.*,
    touchpoints_per_event.touchpoints
from conversion_labelled
left join touchpoints_per_event
    on conversion_labelled.metric_name = touchpoints_per_event.metric_name
    and conversion_labelled.{{ customer }} = touchpoints_per_event.{{ customer }}
    and conversion_labelled.{{ event }} = touchpoints_per_event.{{ event }}
{%- endmacro %}

{#- Positives, negatives, revenue and touchpoints of the labelled rows per metric and cell
    (group_by, global filters, ModelControlGroup). -#}
{% macro conversion_state(touchpoints_relation) -%}
{{ family_state('conversion', touchpoints_relation, [
    'cast(sum(y) as bigint) as positives',
    'cast(count(*) - sum(y) as bigint) as negatives',
    'sum(' ~ vm_ident('Revenue') ~ ') as revenue',
    'cast(sum(touchpoints) as bigint) as touchpoints',
]) }}
{%- endmacro %}

{#- ConversionRate, revenue and touchpoints with the engagement Test/Control columns, per group
    of `by` over the state rows `where_sql` keeps. `property` and `helper_states` are unused. -#}
{% macro conversion_scores(state, metric, by, where_sql=none, property=none, helper_states={}) -%}
{{ summed_arms(state, metric, by, where_sql,
               ['sum(revenue) as revenue', 'coalesce(sum(touchpoints), 0) as touchpoints']) }}

select
    {{ key_prefix(by) }}
    cast(positives as bigint) as {{ vm_ident('Positives') }},
    cast(negatives as bigint) as {{ vm_ident('Negatives') }},
    cast(positives + negatives as bigint) as {{ vm_ident('Count') }},
    {{ rate('positives', 'positives + negatives') }} as {{ vm_ident('ConversionRate') }},
    revenue as {{ vm_ident('Revenue') }},
    revenue / nullif(positives, 0) as {{ vm_ident('RevenuePerConversion') }},
    cast(touchpoints as bigint) as {{ vm_ident('Touchpoints') }},
    {{ lift_columns() }},
    cast(touchpoints as double) / nullif(positives, 0) as {{ vm_ident('AvgTouchpoints') }}
from sums
{{- order_by_groups(by) }}
{%- endmacro %}
