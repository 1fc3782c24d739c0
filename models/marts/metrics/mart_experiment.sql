{#- Experiment statistics of every experiment metric at its configured grain (one row per metric,
    cell of its group_by, experiment and arm). Other groupings: `valuemarts report` scores the same
    state. -#}
{{ family_mart_model('experiment', experiment_scores, ref('mart_experiment__state'), 'label') }}
