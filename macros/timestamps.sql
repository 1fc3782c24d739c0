{#- Pega writes timestamps as strings like `20241010T145658.123 GMT`. The zone name is honoured
    (docs/metrics.md#staging-rules: GMT is UTC), and native timestamps from parquet pass through. Unparseable values
    give NULL here; the loader rejects them earlier with the file, row and column. -#}
{% macro parse_pega_timestamp(expr) -%}
    {{ return(adapter.dispatch('parse_pega_timestamp', 'valuemarts')(expr)) }}
{%- endmacro %}

{% macro default__parse_pega_timestamp(expr) -%}
    coalesce(
        try_strptime(cast({{ expr }} as varchar), '%Y%m%dT%H%M%S.%g %Z'),
        try_strptime(cast({{ expr }} as varchar), '%Y%m%dT%H%M%S %Z'),
        try_cast(cast({{ expr }} as varchar) as timestamptz)
    )
{%- endmacro %}

{#- The UTC wall-clock value of a TIMESTAMPTZ, so Day/Month/Year/Quarter are UTC calendar values. -#}
{% macro utc_timestamp(expr) -%}
    {{ return(adapter.dispatch('utc_timestamp', 'valuemarts')(expr)) }}
{%- endmacro %}

{% macro default__utc_timestamp(expr) -%}
    timezone('UTC', {{ expr }})
{%- endmacro %}

{#- Seconds between two TIMESTAMPTZ values, with milliseconds. -#}
{% macro seconds_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('seconds_between', 'valuemarts')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro default__seconds_between(start_expr, end_expr) -%}
    (epoch_ms({{ end_expr }}) - epoch_ms({{ start_expr }})) / 1000.0
{%- endmacro %}
