{#- Descriptive statistics of every descriptive metric at its configured grain (one row per metric
    and cell of its group_by, one column `<Column>_<Score>` per described column and score). Other
    groupings: `valuemarts report` scores the same state. -#}
{{ family_mart_model('descriptive', descriptive_scores, ref('mart_descriptive__state'), 'interaction') }}
