{#- A null-safe text key over several columns, used as a single unique key for incremental
    merges (a composite key with nulls can't be matched with "="). -#}
{% macro null_safe_key(columns) -%}
    md5({{ null_safe_key_text(columns) }})
{%- endmacro %}

{#- The same key as a 128-bit number (the md5 digest as UHUGEINT): 16 bytes a key instead of a
    32-character string, for the row keys of the IH tables, which are joined, deduplicated and
    sorted on at every size (at 20M rows the text keys outgrew the memory limit). -#}
{% macro null_safe_number_key(columns) -%}{{ adapter.dispatch('null_safe_number_key', 'valuemarts')(columns) }}{%- endmacro %}

{% macro default__null_safe_number_key(columns) -%}
    md5_number({{ null_safe_key_text(columns) }})
{%- endmacro %}

{#- Spark has no 128-bit integers: the md5 digest as text (vm_type('uhugeint') is string there). -#}
{% macro spark__null_safe_number_key(columns) -%}
    md5({{ null_safe_key_text(columns) }})
{%- endmacro %}

{#- NULL is the text `\x00` (backslash, x, 0, 0) in a key: a literal of the engine's quoting
    (vm_string), since Spark reads a backslash in a literal as an escape, so the text keys
    (customer_key) are the same on both engines. -#}
{% macro null_safe_key_text(columns) -%}
    concat_ws('|', {% for c in columns %}coalesce(cast({{ c }} as {{ dbt.type_string() }}), {{ vm_string('\\x00') }}){{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}

{#- Staged IH after the config's global filter, with its two keys: `_interaction_key` (an offer:
    InteractionID, ActionID, Rank) and `_row_key` (one of its outcomes). The one definition of the
    keys that int_ih__interactions stores and int_ih__changes looks up. -#}
{% macro staged_ih_with_keys() -%}
    {%- set cfg = vm_config() -%}
    {%- set interaction_key = [vm_ident('InteractionID'), vm_ident('ActionID'), vm_ident('Rank')] -%}
    select
        *,
        {{ null_safe_number_key(interaction_key) }} as _interaction_key,
        {{ null_safe_number_key(interaction_key + [vm_ident('Outcome')]) }} as _row_key
    from {{ ref('stg_pega__interactions') }}
    {%- if cfg.ih.filter_sql %}
    where ({{ cfg.ih.filter_sql }})
    {%- endif %}
{%- endmacro %}
