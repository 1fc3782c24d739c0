{#- Model-quality offer-set state: per metric, lowest-grain cell, action and offer-set size, the
    offer sets containing the action, from which every report computes personalization and novelty. -#}
{{ family_state_model('model_ml_scores', model_ml_scores_action_state, ref('int_ih__labelled_interactions'), 'label') }}
