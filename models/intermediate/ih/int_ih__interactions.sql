{#- Staged IH after the config's global filter, deduplicated to one row per
    (InteractionID, ActionID, Rank, Outcome) across every file loaded (weakness 6), the row from
    the latest file winning, then the first row in it; then the config's derived columns.
    Incremental: a newly loaded row beats every earlier row of its key (later file), so an append
    reads only the new rows; keys left without a row after a file was replaced are recomputed from
    all their staged rows (int_ih__changes names them). -#}
-- depends_on: {{ ref('int_ih__changes') }}, {{ source('landing', 'load_log') }}
{{
    config(
        materialized='incremental',
        unique_key='_row_key',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        pre_hook="{{ delete_rows_of_replaced_files('ih') }}"
    )
}}
{%- set cfg = vm_config() -%}
{%- set staged_relation = ref('stg_pega__interactions') -%}

with staged as not materialized (

    {{ staged_ih_with_keys() }}

),

{#- Not materialized: the repeated keys need only the key columns, so reading the landing rows
    twice beats writing every wide row to a temporary table (which spills past the memory limit). -#}
{% if is_incremental() %}
candidates as not materialized (

    select * from staged
    where _load_id > (select coalesce(max(_load_id), 0) from {{ this }})
    {%- if has_rows_of_replaced_files(this, 'ih') %}

    union all

    select * from staged
    where _load_id <= (select coalesce(max(_load_id), 0) from {{ this }})
      and _row_key in (select _row_key from {{ ref('int_ih__changes') }} where change_kind = 'interaction')
    {%- endif %}

),
{% else %}
candidates as not materialized (

    select * from staged

),
{% endif %}

{#- Duplicates are rare: only rows of a repeated key go through the window (a window sorts whole
    rows); the rest pass as they are. -#}
repeated_keys as (

    select _row_key
    from candidates
    group by _row_key
    having count(*) > 1

),

deduplicated as (

    select *
    from candidates
    anti join repeated_keys on candidates._row_key = repeated_keys._row_key

    union all by name

    select *
    from (
        select candidates.*
        from candidates
        semi join repeated_keys on candidates._row_key = repeated_keys._row_key
    ) as repeated_rows
    qualify row_number() over (
        partition by _row_key
        order by _file_seq desc, _row_in_file asc
    ) = 1

),

{{ derived_column_ctes('deduplicated', cfg.ih.derived_columns, staged_column_names(staged_relation)) }}

select
    *,
    '{{ invocation_id }}' as _built_by  -- marks rows (re)computed by this run for downstream increments
from with_derived_columns
