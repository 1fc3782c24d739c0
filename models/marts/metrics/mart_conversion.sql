{#- Conversion scores of every conversion metric at its configured grain (one row per metric and
    cell of its group_by). Other groupings: `valuemarts report` scores the same state. Scored whole
    on every build: its SQL over a state of sums per cell costs less than finding the groups an
    append touched, which follows each touched conversion to its touchpoints through all
    interactions (0.16 s against 4.3 s at 5M rows). -#}
{{ family_mart('conversion', conversion_scores, ref('mart_conversion__state')) }}
