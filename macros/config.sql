{#- The compiled configuration. `valuemarts compile` writes macros/compiled/valuemarts_compiled_config.sql
    so that plain `dbt build` finds it without flags; `--vars '{valuemarts: ...}'` overrides it. -#}
{% macro vm_config() -%}
    {%- set from_vars = var('valuemarts', none) -%}
    {%- if from_vars is not none -%}
        {{ return(from_vars) }}
    {%- elif valuemarts_compiled_config is defined -%}
        {{ return(valuemarts_compiled_config()) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("valuemarts: no compiled config. Run `valuemarts compile CONFIG.toml` first.") }}
    {%- endif -%}
{%- endmacro %}

{#- Quote a column name for the target engine. -#}
{% macro vm_ident(name) -%}{{ adapter.quote(name) }}{%- endmacro %}
