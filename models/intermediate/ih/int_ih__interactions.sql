{#- Staged IH after the config's global filter, deduplicated to one row per
    (InteractionID, ActionID, Rank, Outcome) across every file loaded (weakness 6), the row from
    the latest file winning, then the first row in it; then the config's derived columns.
    Incremental: a newly loaded row beats every earlier row of its key (later file), so an append
    reads only the new rows; keys left without a row after a file was replaced are recomputed from
    all their staged rows (int_ih__changes names them). -#}
-- depends_on: {{ ref('int_ih__changes') }}, {{ source('landing', 'load_log') }}
{{
    config(
        materialized=vm_incremental(),
        unique_key='_row_key',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        pre_hook="{{ delete_rows_of_replaced_files('ih') }}"
    )
}}
{%- set cfg = vm_config() -%}
{%- set staged_relation = ref('stg_pega__interactions') -%}

with staged {{ vm_cte_as() }} (

    {{ staged_ih_with_keys() }}

),

{#- Not materialized: the repeated keys need only the key columns, so reading the landing rows
    twice beats writing every wide row to a temporary table (which spills past the memory limit). -#}
{% if is_incremental() %}
candidates {{ vm_cte_as() }} (

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
candidates {{ vm_cte_as() }} (

    select * from staged

),
{% endif %}

{#- Duplicates are rare: they are found on the narrow key columns, and the wide rows pass once,
    each kept unless its key is repeated and it is not the key's winning row (the latest file,
    then the first row in it). Reading the wide rows once more to set the repeated ones apart cost
    as much as staging them. -#}
repeated_keys as (

    select _row_key
    from candidates
    group by _row_key
    having count(*) > 1

),

winning_rows as (

    select candidates._row_key, candidates._file_seq, candidates._row_in_file
    from candidates
    {{ vm_semi_join() }} repeated_keys on candidates._row_key = repeated_keys._row_key
    qualify row_number() over (
        partition by candidates._row_key
        order by candidates._file_seq desc, candidates._row_in_file asc
    ) = 1

),

deduplicated as (

    select candidates.*
    from candidates
    left join winning_rows on candidates._row_key = winning_rows._row_key
    where winning_rows._row_key is null
       or (candidates._file_seq = winning_rows._file_seq and candidates._row_in_file = winning_rows._row_in_file)

),

{{ derived_column_ctes('deduplicated', cfg.ih.derived_columns, staged_column_names(staged_relation)) }}

select
    *,
    '{{ invocation_id }}' as _built_by  -- marks rows (re)computed by this run for downstream increments
from with_derived_columns
