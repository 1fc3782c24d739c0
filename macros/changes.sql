{#- Incremental bookkeeping shared by the IH models and the metric states: which files are live,
    which rows a run recomputes, and what those rows replaced (docs/architecture.md#appends). -#}

{#- The previous build's copy of a model of this project (none on a first build, a full refresh or
    in a unit test, whose givens are all there is), read without `ref` so a model can look at what
    a later model held before this run. -#}
{% macro vm_previous(identifier, schema=this.schema) -%}
    {{ return(adapter.dispatch('vm_previous', 'valuemarts')(identifier, schema)) }}
{%- endmacro %}

{% macro default__vm_previous(identifier, schema) -%}
    {%- if not execute or flags.FULL_REFRESH or model.resource_type == 'unit_test' -%}{{ return(none) }}{%- endif -%}
    {{ return(adapter.get_relation(database=this.database, schema=schema, identifier=identifier)) }}
{%- endmacro %}

{#- Spark rebuilds every model in full (vm_incremental): nothing previous is merged. -#}
{% macro spark__vm_previous(identifier, schema) -%}{{ return(none) }}{%- endmacro %}

{#- file_seq of every file whose rows are in the landing table now: per source and path, the
    latest load of it (a replaced file's earlier loads are gone from landing). -#}
{% macro live_file_seqs(source_name) -%}
    select max(file_seq) from {{ source('landing', 'load_log') }}
    where source = {{ vm_string(source_name) }} and status <> 'skipped'
    group by file_path
{%- endmacro %}

{#- Whether `relation` holds rows of files no longer live (their file was replaced): only then
    must an incremental run look beyond the newly loaded rows. -#}
{% macro has_rows_of_replaced_files(relation, source_name) -%}
    {%- if not execute or relation is none -%}{{ return(false) }}{%- endif -%}
    {%- set found = run_query(
        "select count(*) from (select 1 from " ~ relation ~ " where _file_seq not in ("
        ~ live_file_seqs(source_name) ~ ") limit 1)") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- Rows this run (re)computed in an incremental model with a `_built_by` column; every row on a
    full build. The metric states merge these; the new-row tests (tests/dbt/generic) check them. -#}
{% macro vm_built_now() -%}
    _built_by = '{{ invocation_id }}'
{%- endmacro %}
