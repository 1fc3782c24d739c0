{#- Engagement state: positives and negatives per metric and lowest-grain cell
    (group_by, global filters, ModelControlGroup). Every report re-aggregates from here. -#}
{{ family_state('engagement', ref('int_ih__labelled_interactions'), [
    'cast(sum(y) as bigint) as positives',
    'cast(count(*) - sum(y) as bigint) as negatives',
]) }}
