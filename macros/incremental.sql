{#- Pre-hook for incremental models over landing rows: drop rows whose file was replaced by new
    content (its landing rows are gone), so a replaced file never leaves stale rows behind. The
    model's own anti-join then restores any key still present in other files. -#}
{% macro delete_rows_of_replaced_files(landing_relation) -%}
    {%- if execute and load_relation(this) is not none -%}
        delete from {{ this }}
        where _file_seq not in (select distinct _file_seq from {{ landing_relation }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of the labelled rows: remove the labelled rows of every interaction key this run
    recomputed upstream (they are relabelled from all their rows) and of keys with no rows left. -#}
{% macro delete_relabelled_keys(interactions_relation) -%}
    {%- if execute and load_relation(this) is not none -%}
        delete from {{ this }}
        where _interaction_key in (
                select _interaction_key from {{ interactions_relation }} where _built_by = '{{ invocation_id }}'
            )
           or _interaction_key not in (select _interaction_key from {{ interactions_relation }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
