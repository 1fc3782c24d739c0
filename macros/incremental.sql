{#- Pre-hook for incremental models over landing rows: drop rows whose file was replaced by new
    content (its landing rows are gone), so a replaced file never leaves stale rows behind. The
    model itself then restores any key still present in other files. -#}
{% macro delete_rows_of_replaced_files(source_name) -%}
    {%- if execute and is_incremental() -%}
        delete from {{ this }}
        where _file_seq not in ({{ live_file_seqs(source_name) }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of the labelled rows: remove the labels of every offer this run relabels, those
    whose earlier labels int_ih__changes retracts (keys with new rows or rows of replaced files). -#}
{% macro delete_relabelled_keys(changes_relation) -%}
    {%- if execute and is_incremental() -%}
        delete from {{ this }}
        where _interaction_key in (select _interaction_key from {{ changes_relation }} where change_kind = 'label')
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The materialization of the incremental IH models: incremental on DuckDB (delete+insert and
    append, docs/architecture.md#appends). Spark without Delta or Iceberg can't delete rows, so
    there they are tables rebuilt in full on every run, and the metric states rebuild in full too
    (spark__vm_previous): README "Running on Spark". -#}
{% macro vm_incremental() -%}{{ return(adapter.dispatch('vm_incremental', 'valuemarts')()) }}{%- endmacro %}

{% macro default__vm_incremental() -%}{{ return('incremental') }}{%- endmacro %}

{% macro spark__vm_incremental() -%}{{ return('table') }}{%- endmacro %}
