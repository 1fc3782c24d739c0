{#- Conversion state: positives, negatives, revenue and touchpoints per metric and lowest-grain cell
    (group_by, global filters, ModelControlGroup). Every conversion report re-aggregates from here.
    An append counts touchpoints for the events of the cells it recomputes only. -#}
-- depends_on: {{ ref('int_ih__labelled_interactions') }}
{{ family_state_model('conversion', conversion_state, ref('int_conversion__touchpoints'), 'label',
                      linked_by=['SubjectID', 'ConversionEventID'], source_of=conversion_touchpoints) }}
