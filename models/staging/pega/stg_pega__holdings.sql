{#- Product Holdings, renamed with the same rule as IH, typed and defaulted. -#}
{%- set cfg = vm_config() -%}
{%- set landing = source('landing', 'holdings_raw') -%}

with landing as (

    select * from {{ landing }}

)

select
    {{ staged_select_list(landing, cfg.holdings) }}
from landing
