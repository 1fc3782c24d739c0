{#- Experiment state per metric and lowest-grain cell (group_by, global filters, experiment
    name and arm): positives and negatives. -#}
{{ family_state('experiment', ref('int_ih__labelled_interactions'), [
    'cast(sum(y) as bigint) as positives',
    'cast(count(*) - sum(y) as bigint) as negatives',
]) }}
