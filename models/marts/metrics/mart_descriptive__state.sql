{#- Descriptive state, long by described column: per metric, lowest-grain cell and column the
    count, sum, mean, M2, min, max and t-digest that every descriptive report merges. -#}
{{ config(materialized='vm_batched_table', rows_per_batch=vm_rows_per_batch(), appends_insert=true,
          pre_hook="{{ delete_touched('descriptive', 'interaction') }}") }}
{{ family_state_model('descriptive', descriptive_state, ref('int_ih__interactions'), 'interaction') }}
