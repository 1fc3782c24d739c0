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

{#- Quote a column name for the target engine. Names come from export files and the config, so they
    are data: the quote character inside is doubled, which adapter.quote in dbt-duckdb does not do
    (a `"` in a name would end the identifier and the rest would run as SQL). -#}
{% macro vm_ident(name) -%}{{ return(adapter.dispatch('vm_ident', 'valuemarts')(name)) }}{%- endmacro %}

{% macro default__vm_ident(name) -%}"{{ name | replace('"', '""') }}"{%- endmacro %}

{% macro spark__vm_ident(name) -%}`{{ name | replace('`', '``') }}`{%- endmacro %}

{#- A string literal of any text: config values and names are data, never SQL. -#}
{% macro vm_string(text) -%}{{ return(adapter.dispatch('vm_string', 'valuemarts')(text)) }}{%- endmacro %}

{% macro default__vm_string(text) -%}'{{ text | replace("'", "''") }}'{%- endmacro %}

{#- Spark reads a backslash as an escape and '' as two adjacent literals. -#}
{% macro spark__vm_string(text) -%}'{{ text | replace('\\', '\\\\') | replace("'", "\\'") }}'{%- endmacro %}
