{#- Conversion state: positives, negatives, revenue and touchpoints per metric and lowest-grain cell
    (group_by, global filters, ModelControlGroup). Every conversion report re-aggregates from here. -#}
{{ conversion_state(ref('int_conversion__touchpoints')) }}
