{#- Interaction History, renamed to the reference system's names, typed, defaulted, with UTC
    calendar fields and ResponseTime. One row per landing row: no filtering here. -#}
{%- set cfg = vm_config() -%}
{%- set landing = source('landing', 'ih_raw') -%}

with landing as (

    select * from {{ landing }}

),

renamed as (

    select
    {{ staged_select_list(landing, cfg.ih) }}
    from landing

)

select
    *,
    coalesce("Issue", '') || '/' || coalesce("Group", '') || '/' || coalesce("Name", '') as "ActionID",
    cast({{ utc_timestamp('"OutcomeTime"') }} as date) as "Day",
    strftime({{ utc_timestamp('"OutcomeTime"') }}, '%Y-%m') as "Month",
    cast(year({{ utc_timestamp('"OutcomeTime"') }}) as smallint) as "Year",
    cast(year({{ utc_timestamp('"OutcomeTime"') }}) as varchar)
        || '_Q' || cast(quarter({{ utc_timestamp('"OutcomeTime"') }}) as varchar) as "Quarter",
    {{ seconds_between('"DecisionTime"', '"OutcomeTime"') }} as "ResponseTime"
from renamed
