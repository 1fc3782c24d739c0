{#- Experiment scores of every experiment metric at its configured grain (one row per metric and cell
    of its group_by). Other groupings: `valuemarts report` re-aggregates the same state. -#}
{{ family_mart('experiment', experiment_scores, ref('int_experiment__state')) }}
