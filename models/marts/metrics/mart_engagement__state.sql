{#- Engagement state: positives and negatives per metric and lowest-grain cell (group_by, global
    filters, ModelControlGroup). Every engagement report re-aggregates from here. -#}
{{ family_state_model('engagement', engagement_state, ref('int_ih__labelled_interactions'), 'label',
                      counts=['positives', 'negatives']) }}
