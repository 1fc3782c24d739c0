{#- Labelled rows of the conversion metrics with their touchpoints: the number of positive
    labelled rows of the same customer and conversion event, over all files (weakness 6). -#}
with labelled as (

    select * from {{ ref('int_ih__labelled_interactions') }}

),

conversion_labelled as (

    select labelled.*
    from labelled
    where metric_name in (
        {%- for metric in metrics_of_family(vm_config().metrics, 'conversion') -%}
        '{{ metric.name | replace("'", "''") }}'{{ ", " if not loop.last }}
        {%- endfor -%}
        {%- if metrics_of_family(vm_config().metrics, 'conversion') | length == 0 %}null{% endif -%}
    )

),

touchpoints_per_event as (

    select metric_name, "SubjectID", "ConversionEventID", count(*) as touchpoints
    from conversion_labelled
    where y = 1
    group by metric_name, "SubjectID", "ConversionEventID"

)

select
    conversion_labelled.*,
    touchpoints_per_event.touchpoints
from conversion_labelled
left join touchpoints_per_event
    on conversion_labelled.metric_name = touchpoints_per_event.metric_name
    and conversion_labelled."SubjectID" = touchpoints_per_event."SubjectID"
    and conversion_labelled."ConversionEventID" = touchpoints_per_event."ConversionEventID"
