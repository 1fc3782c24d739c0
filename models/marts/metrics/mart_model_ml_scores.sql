{#- Model quality of every model_ml_scores metric at its configured grain, for both properties (one
    row per metric, cell of its group_by and property). Other groupings: `valuemarts report` scores
    the same state. -#}
{{ config(materialized='vm_batched_table', rows_per_batch=vm_rows_per_batch(), appends_insert=true,
          pre_hook="{{ delete_touched('model_ml_scores', 'label', groups=true) }}") }}
{{ family_mart_model('model_ml_scores', model_ml_scores_scores, ref('mart_model_ml_scores__state'), 'label',
                     {'action_state': ref('mart_model_ml_scores__action_state')}, batched=true) }}
