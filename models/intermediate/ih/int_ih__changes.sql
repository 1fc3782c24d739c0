{#- What this run changes in the interactions, read before int_ih__interactions and
    int_ih__labelled_keys change (they depend on this model; it reads their previous copies
    without `ref`): the rows and labels newly loaded rows replace, and the rows of replaced files.
    The metric states recompute only the cells these rows, and the rows built now, fall in.
    Empty on a first build or a full refresh, when every state is built from all rows. -#}
-- depends_on: {{ ref('stg_pega__interactions') }}, {{ source('landing', 'load_log') }}
{%- set interactions = vm_previous('int_ih__interactions') -%}
{%- set labelled_keys = vm_previous('int_ih__labelled_keys') -%}
{%- set replaced_files = has_rows_of_replaced_files(interactions, 'ih') -%}

{%- if interactions is none or labelled_keys is none %}
select
    cast(null as {{ dbt.type_string() }}) as change_kind,
    cast(null as {{ dbt.type_string() }}) as metric_name,
    cast(null as integer) as y,
    cast(null as {{ vm_type('uhugeint') }}) as _row_key,
    cast(null as {{ vm_type('uhugeint') }}) as _interaction_key
where false
{%- else %}
with previous_build as (

    select coalesce(max(_load_id), 0) as load_id from {{ interactions }}

),

new_rows as (

    select _row_key, _interaction_key
    from ({{ staged_ih_with_keys() }}) as staged
    where _load_id > (select load_id from previous_build)

),

{%- if replaced_files %}

rows_of_replaced_files as (

    select _row_key, _interaction_key
    from {{ interactions }}
    where _file_seq not in ({{ live_file_seqs('ih') }})

),
{%- endif %}

affected_rows as (

    select _row_key, _interaction_key from new_rows
    {%- if replaced_files %}
    union
    select _row_key, _interaction_key from rows_of_replaced_files
    {%- endif %}

),

retracted_interactions as (

    select 'interaction' as change_kind, cast(null as {{ dbt.type_string() }}) as metric_name, cast(null as integer) as y, interactions.*
    from {{ interactions }} as interactions
    {{ vm_semi_join() }} affected_rows on interactions._row_key = affected_rows._row_key

),

retracted_labels as (

    select 'label' as change_kind, labelled_keys.metric_name, labelled_keys.y, interactions.*
    from {{ labelled_keys }} as labelled_keys
    inner join {{ interactions }} as interactions on labelled_keys._row_key = interactions._row_key
    where labelled_keys._interaction_key in (select _interaction_key from affected_rows)

)

{{ vm_union_all_by_name(['select * from retracted_interactions', 'select * from retracted_labels']) }}
{%- endif %}
