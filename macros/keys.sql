{#- A null-safe text key over several columns, used as a single unique key for incremental
    merges (a composite key with nulls can't be matched with "="). -#}
{% macro null_safe_key(columns) -%}
    md5(concat_ws('|', {% for c in columns %}coalesce(cast({{ c }} as varchar), '\x00'){{ ", " if not loop.last }}{% endfor %}))
{%- endmacro %}
