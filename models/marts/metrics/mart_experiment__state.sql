{#- Experiment state: positives and negatives per metric and lowest-grain cell (group_by, global
    filters, experiment name and arm). Every experiment report re-aggregates from here. -#}
{{ family_state_model('experiment', experiment_state, ref('int_ih__labelled_interactions'), 'label',
                      counts=['positives', 'negatives']) }}
