{#- Conversion state per metric and lowest-grain cell (group_by, global filters,
    ModelControlGroup): positives, negatives, revenue and touchpoints. -#}
{{ family_state('conversion', ref('int_conversion__touchpoints'), [
    'cast(sum(y) as bigint) as positives',
    'cast(count(*) - sum(y) as bigint) as negatives',
    'sum("Revenue") as revenue',
    'cast(sum(touchpoints) as bigint) as touchpoints',
]) }}
