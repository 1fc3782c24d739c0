{#- Engagement scores of every engagement metric at its configured grain (one row per metric and
    cell of its group_by). Other groupings: `valuemarts report` scores the same state. -#}
{{ family_mart_model('engagement', engagement_scores, ref('mart_engagement__state'), 'label') }}
