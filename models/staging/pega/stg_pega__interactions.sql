{#- Interaction History, renamed to the reference system's names, typed, defaulted, with UTC
    calendar fields and ResponseTime. One row per landing row: no filtering here. -#}
{%- set cfg = vm_config() -%}
{%- set landing = source('landing', 'ih_raw') -%}
{%- set outcome_utc = utc_timestamp(vm_ident('OutcomeTime')) -%}

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
    coalesce({{ vm_ident('Issue') }}, '') || '/' || coalesce({{ vm_ident('Group') }}, '')
        || '/' || coalesce({{ vm_ident('Name') }}, '') as {{ vm_ident('ActionID') }},
    cast({{ outcome_utc }} as date) as {{ vm_ident('Day') }},
    {{ year_month(outcome_utc) }} as {{ vm_ident('Month') }},
    cast(year({{ outcome_utc }}) as smallint) as {{ vm_ident('Year') }},
    cast(year({{ outcome_utc }}) as {{ dbt.type_string() }})
        || '_Q' || cast(quarter({{ outcome_utc }}) as {{ dbt.type_string() }}) as {{ vm_ident('Quarter') }},
    {{ seconds_between(vm_ident('DecisionTime'), vm_ident('OutcomeTime')) }} as {{ vm_ident('ResponseTime') }}
from renamed
