{#- Experiment statistics of every experiment metric at its configured grain (one row per metric,
    cell of its group_by, experiment and arm). Other groupings: `valuemarts report` scores the same
    state. Scored whole on every build, not only the groups an append touched: the sample-ratio
    check counts an experiment's units over all its rows, so one new row can move it on every
    row of its experiment (and the state is small: experiments by arm by cell). -#}
{{ family_mart('experiment', experiment_scores, ref('mart_experiment__state'),
               {'unit_state': ref('mart_experiment__unit_state')}) }}
