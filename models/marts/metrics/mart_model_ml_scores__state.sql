{#- Model-quality score state: per metric, lowest-grain cell, property and class, the count of each
    rounded score (and a t-digest where asked), from which every report computes AUC and AP. -#}
{{ config(materialized='vm_batched_table', rows_per_batch=vm_rows_per_batch(), appends_insert=true,
          pre_hook="{{ delete_touched('model_ml_scores', 'label') }}") }}
{{ family_state_model('model_ml_scores', model_ml_scores_state, labelled_rows_in_batch('model_ml_scores'), 'label') }}
