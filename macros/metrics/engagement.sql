{#- Engagement (docs/metrics.md#engagement): the state model and the scores the mart
    and `valuemarts report` share. -#}

{#- Positives and negatives of the labelled rows per metric and cell (group_by, global filters,
    ModelControlGroup). -#}
{% macro engagement_state(labelled_relation) -%}
{{ family_state('engagement', labelled_relation, [
    'cast(sum(y) as bigint) as positives',
    'cast(count(*) - sum(y) as bigint) as negatives',
]) }}
{%- endmacro %}

{#- CTR pooled over all arms with its Wilson interval, and the Test/Control lift and z-test, per
    group of `by` (any subset of the metric's grouping) over the state rows `where_sql` keeps.
    `property` and `helper_states` are unused (every family's scores take the same arguments). -#}
{% macro engagement_scores(state, metric, by, where_sql=none, property=none, helper_states={}) -%}
{{ summed_arms(state, metric, by, where_sql, []) }}

select
    {{ key_prefix(by) }}
    cast(positives as bigint) as {{ vm_ident('Positives') }},
    cast(negatives as bigint) as {{ vm_ident('Negatives') }},
    cast(positives + negatives as bigint) as {{ vm_ident('Count') }},
    {{ rate('positives', 'positives + negatives') }} as {{ vm_ident('CTR') }},
    {{ lift_columns() }}
from sums
{{- order_by_groups(by) }}
{%- endmacro %}
