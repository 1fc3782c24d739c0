{#- Conversion (docs/metrics.md#conversion): the state model and the scores the mart
    and `valuemarts report` share. -#}

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
