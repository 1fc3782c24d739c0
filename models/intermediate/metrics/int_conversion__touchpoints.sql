{#- Labelled rows of the conversion metrics with their touchpoints: the number of positive labelled
    rows of the same customer and conversion event, over all files (weakness 6). A view: the
    conversion state reads only the rows of the cells it recomputes. -#}
{{ config(materialized='view') }}
{%- set metrics = metrics_of_family(vm_config().metrics, 'conversion') -%}
{%- set customer = vm_ident('SubjectID') -%}
{%- set event = vm_ident('ConversionEventID') -%}
with labelled as (

    select * from {{ ref('int_ih__labelled_interactions') }}

),

conversion_labelled as (

    select labelled.*
    from labelled
    where metric_name in ({{ sql_string_list(metrics | map(attribute='name') | list) if metrics else 'null' }})

),

touchpoints_per_event as (

    select metric_name, {{ customer }}, {{ event }}, count(*) as touchpoints
    from conversion_labelled
    where y = 1
    group by metric_name, {{ customer }}, {{ event }}

)

select
    conversion_labelled.*,
    touchpoints_per_event.touchpoints
from conversion_labelled
left join touchpoints_per_event
    on conversion_labelled.metric_name = touchpoints_per_event.metric_name
    and conversion_labelled.{{ customer }} = touchpoints_per_event.{{ customer }}
    and conversion_labelled.{{ event }} = touchpoints_per_event.{{ event }}
