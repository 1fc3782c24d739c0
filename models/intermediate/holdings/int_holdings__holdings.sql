{#- Staged holdings after the config's filter and derived columns, one row per holding: the same
    (customer, holding id) exported in several snapshots counts once (weakness 13), the row from
    the latest file winning. Rebuilt in full: holdings are small next to IH. -#}
{%- set cfg = vm_config() -%}
{%- set staged_relation = ref('stg_pega__holdings') -%}
{%- set dedup_key = cfg.holdings.dedup_key -%}

with staged as (

    select * from {{ staged_relation }}

),

{{ derived_column_ctes('staged', cfg.holdings.derived_columns, staged_column_names(staged_relation)) }},

filtered as (

    select * from with_derived_columns
    {%- if cfg.holdings.filter_sql %}
    where ({{ cfg.holdings.filter_sql }})
    {%- endif %}

)

select *
from filtered
{%- if dedup_key %}
qualify row_number() over (
    partition by {% for c in dedup_key %}{{ vm_ident(c) }}{{ ", " if not loop.last }}{% endfor %}
    order by _file_seq desc, _row_in_file asc
) = 1
{%- endif %}
