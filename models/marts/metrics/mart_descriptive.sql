{#- Descriptive statistics of every descriptive metric at its configured grain (one row per metric
    and cell of its group_by, one column `<Column>_<Score>` per described column and score). Other
    groupings: `valuemarts report` scores the same state. -#}
{{ config(materialized='vm_batched_table', rows_per_batch=vm_rows_per_batch(), appends_insert=true,
          pre_hook="{{ delete_touched('descriptive', 'interaction', groups=true) }}") }}
{{ family_mart_model('descriptive', descriptive_scores, ref('mart_descriptive__state'), 'interaction', batched=true) }}
