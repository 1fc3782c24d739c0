{#- A null-safe text key over several columns, used as a single unique key for incremental
    merges (a composite key with nulls can't be matched with "="). -#}
{% macro null_safe_key(columns) -%}
    md5(concat_ws('|', {% for c in columns %}coalesce(cast({{ c }} as varchar), '\x00'){{ ", " if not loop.last }}{% endfor %}))
{%- endmacro %}

{#- Staged IH after the config's global filter, with its two keys: `_interaction_key` (an offer:
    InteractionID, ActionID, Rank) and `_row_key` (one of its outcomes). The one definition of the
    keys that int_ih__interactions stores and int_ih__changes looks up. -#}
{% macro staged_ih_with_keys() -%}
    {%- set cfg = vm_config() -%}
    {%- set interaction_key = [vm_ident('InteractionID'), vm_ident('ActionID'), vm_ident('Rank')] -%}
    select
        *,
        {{ null_safe_key(interaction_key) }} as _interaction_key,
        {{ null_safe_key(interaction_key + [vm_ident('Outcome')]) }} as _row_key
    from {{ ref('stg_pega__interactions') }}
    {%- if cfg.ih.filter_sql %}
    where ({{ cfg.ih.filter_sql }})
    {%- endif %}
{%- endmacro %}
