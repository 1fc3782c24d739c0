{#- Experiment randomization units: per experiment metric, experiment, arm and unit, the unit's
    labelled rows. Arms are assigned per unit (customer), so the sample-ratio check counts the
    distinct units of each arm, exactly, at the experiment-arm grain. Mergeable: an append adds the
    labels this run built and subtracts those int_ih__changes retracted, and a unit whose rows
    all went is dropped. -#}
{%- do touched_cells_refs() -%}
{%- set previous = vm_previous(this.identifier) -%}
{%- if previous is none %}
{{ experiment_unit_rows(ref('int_ih__labelled_interactions')) }}
{%- else %}
{{ state_plus_changes(previous, experiment_unit_rows, ['metric_name', 'experiment', 'arm', 'unit'], 'label', ['labelled_rows']) }}
{%- endif %}
