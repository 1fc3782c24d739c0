{#- A warehouse and the config it was built with stay together, whoever runs dbt.

    on-run-start: refuse to run on a warehouse without landing tables (say what to run first), or
    on one built with another config unless the run is a full refresh (a changed config can change
    any row, so models can't be updated incrementally with it).
    on-run-end: a successful build or run records the config it used, with its report specs, in
    landing._builds, which `valuemarts report` and the next run read. -#}

{% macro vm_guard_warehouse() -%}{{ adapter.dispatch('vm_guard_warehouse', 'valuemarts')() }}{%- endmacro %}

{% macro default__vm_guard_warehouse() -%}
    {%- if execute and flags.WHICH in ('build', 'run', 'test', 'seed') -%}
        {%- set found = run_query(
            "select table_name from information_schema.tables where table_schema = 'landing'"
        ).columns[0].values() -%}
        {%- if '_load_log' not in found -%}
            {{ exceptions.raise_compiler_error(
                "valuemarts: this warehouse (" ~ target.path ~ ") has no landing tables. Load export files first: "
                ~ "`valuemarts load --config CONFIG.toml --ih PATH --holdings PATH`, then run dbt again "
                ~ "(or let `valuemarts build` do both).") }}
        {%- endif -%}
        {%- if '_builds' in found -%}
            {%- set built = run_query(
                "select config_name, config_hash from landing._builds order by built_at desc limit 1") -%}
            {%- set cfg = vm_config() -%}
            {#- A test would check the warehouse against the wrong config; a run would update it
                incrementally with one; a full refresh rebuilds everything with it. -#}
            {%- if built.rows | length > 0 and built.rows[0][1] != cfg.config_hash
                  and (flags.WHICH == 'test' or (flags.WHICH in ('build', 'run') and not flags.FULL_REFRESH)) -%}
                {{ exceptions.raise_compiler_error(
                    "valuemarts: this warehouse was built with config '" ~ built.rows[0][0] ~ "' ("
                    ~ built.rows[0][1][:12] ~ "), the compiled config is '" ~ cfg.config_name ~ "' ("
                    ~ cfg.config_hash[:12] ~ "). Rebuild everything with it: `dbt build --full-refresh`, "
                    ~ "or compile the warehouse's own config again with `valuemarts compile`.") }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- On Spark the guard checks the landing tables only: a Spark build rebuilds every model in full
    (vm_incremental), so a changed config needs no refresh. Returns no SQL. -#}
{% macro spark__vm_guard_warehouse() -%}
    {%- if execute and flags.WHICH in ('build', 'run', 'test', 'seed') -%}
        {%- set found = run_query("show tables in landing").columns[1].values() -%}
        {%- if '_load_log' not in found -%}
            {{ exceptions.raise_compiler_error(
                "valuemarts: this Spark warehouse has no landing tables. Load export files first: "
                ~ "`valuemarts load --target spark --warehouse DIR --config CONFIG.toml --ih PATH --holdings PATH` "
                ~ "(or let `valuemarts build --target spark` do both).") }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro vm_record_build(results) -%}
    {%- if execute and flags.WHICH in ('build', 'run') -%}
        {%- set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error', 'skipped']) | list -%}
        {%- if failed | length == 0 -%}
            {%- set cfg = vm_config() -%}
            {{ adapter.dispatch('vm_create_builds_table', 'valuemarts')() }}
            insert into landing._builds (built_at, config_name, config_hash, report_specs)
            values (
                current_timestamp,
                {{ vm_string(cfg.config_name) }},
                {{ vm_string(cfg.config_hash) }},
                {{ vm_string(tojson(cfg.report_specs)) }}
            )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The statement creating landing._builds when absent, ahead of the hook's insert. -#}
{% macro default__vm_create_builds_table() -%}
    create table if not exists landing._builds (
        built_at timestamp with time zone, config_name varchar, config_hash varchar, report_specs varchar
    );
{%- endmacro %}

{#- Spark runs one statement at a time: the table is created now, the hook is the insert alone. -#}
{% macro spark__vm_create_builds_table() -%}
    {%- do run_query("create table if not exists landing._builds (built_at timestamp, config_name string, "
                     ~ "config_hash string, report_specs string) using parquet") -%}
{%- endmacro %}

{#- dbt-duckdb leaves the `__dbt_tmp` tables of incremental Python models behind; a warehouse
    holds only models, so drop them at the end of every run. dbt-spark leaves none. -#}
{% macro vm_drop_tmp_relations() -%}{{ adapter.dispatch('vm_drop_tmp_relations', 'valuemarts')() }}{%- endmacro %}

{% macro spark__vm_drop_tmp_relations() -%}{%- endmacro %}

{% macro default__vm_drop_tmp_relations() -%}
    {%- if execute and flags.WHICH in ('build', 'run') -%}
        {%- set leftovers = run_query(
            "select table_schema, table_name, table_type from information_schema.tables "
            ~ "where table_name like '%\\_\\_dbt\\_tmp%' escape '\\'") -%}
        {%- for row in leftovers.rows %}
            drop {{ 'view' if row[2] == 'VIEW' else 'table' }} if exists {{ vm_ident(row[0]) }}.{{ vm_ident(row[1]) }};
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
