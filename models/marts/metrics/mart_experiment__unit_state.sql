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
with labels_built_now as (
{{ rows_built_now('label') }}
),

labels_retracted as (
{{ rows_retracted('label') }}
),

signed_rows as (

    select metric_name, experiment, arm, unit, labelled_rows from {{ previous }}
    union all
    {{ experiment_unit_rows('labels_built_now') }}
    union all
    {{ experiment_unit_rows('labels_retracted', -1) }}

)

select metric_name, experiment, arm, unit, cast(sum(labelled_rows) as bigint) as labelled_rows
from signed_rows
group by metric_name, experiment, arm, unit
having sum(labelled_rows) > 0
{%- endif %}
