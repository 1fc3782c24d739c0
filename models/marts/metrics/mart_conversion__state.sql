{#- Conversion state: positives, negatives, revenue and touchpoints per metric and lowest-grain cell
    (group_by, global filters, ModelControlGroup). Every conversion report re-aggregates from here. -#}
{{ family_state_model('conversion', conversion_state, ref('int_conversion__touchpoints'), 'label',
                      linked_by=['SubjectID', 'ConversionEventID']) }}
