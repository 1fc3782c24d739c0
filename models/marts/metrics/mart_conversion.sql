{#- Conversion scores of every conversion metric at its configured grain (one row per metric and
    cell of its group_by). Other groupings: `valuemarts report` scores the same state. -#}
{{ family_mart_model('conversion', conversion_scores, ref('mart_conversion__state'), 'label',
                     linked_by=['SubjectID', 'ConversionEventID']) }}
