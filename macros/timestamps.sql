{#- Pega writes timestamps as strings like `20241010T145658.123 GMT`. The zone name is honoured
    (docs/metrics.md#staging-rules: GMT is UTC), and native timestamps from parquet pass through. Unparseable values
    give NULL here; the loader rejects them earlier with the file, row and column. -#}
{% macro parse_pega_timestamp(expr) -%}
    {{ return(adapter.dispatch('parse_pega_timestamp', 'valuemarts')(expr)) }}
{%- endmacro %}

{#- Zone names cost a time-zone lookup per row, so the usual ' GMT' / ' UTC' suffix is read as UTC
    directly (4x faster on a million rows); anything else takes the general path. -#}
{% macro default__parse_pega_timestamp(expr) -%}
    {%- set text = 'cast(' ~ expr ~ ' as varchar)' -%}
    coalesce(
        case when suffix({{ text }}, ' GMT') or suffix({{ text }}, ' UTC') then make_timestamptz(epoch_us(coalesce(
            try_strptime(left({{ text }}, -4), '%Y%m%dT%H%M%S.%g'),
            try_strptime(left({{ text }}, -4), '%Y%m%dT%H%M%S')
        ))) end,
        try_strptime(cast({{ expr }} as varchar), '%Y%m%dT%H%M%S.%g %Z'),
        try_strptime(cast({{ expr }} as varchar), '%Y%m%dT%H%M%S %Z'),
        try_cast(cast({{ expr }} as varchar) as timestamptz)
    )
{%- endmacro %}

{#- Spark reads the same two forms with Java patterns (a time zone name, `z`, after the usual
    ' GMT' / ' UTC'); ANSI mode is off in valuemarts' sessions, so an unparseable value is NULL. -#}
{% macro spark__parse_pega_timestamp(expr) -%}
    {%- set text = 'cast(' ~ expr ~ ' as string)' -%}
    coalesce(
        to_timestamp({{ text }}, "yyyyMMdd'T'HHmmss.SSS z"),
        to_timestamp({{ text }}, "yyyyMMdd'T'HHmmss z"),
        cast({{ expr }} as timestamp)
    )
{%- endmacro %}

{#- The UTC wall-clock value of a TIMESTAMPTZ, so Day/Month/Year/Quarter are UTC calendar values:
    the instant's microseconds since the epoch as a plain timestamp, with no time-zone lookup. -#}
{% macro utc_timestamp(expr) -%}
    {{ return(adapter.dispatch('utc_timestamp', 'valuemarts')(expr)) }}
{%- endmacro %}

{% macro default__utc_timestamp(expr) -%}
    make_timestamp(epoch_us({{ expr }}))
{%- endmacro %}

{#- Spark's TIMESTAMP is an instant shown in the session's zone, UTC in valuemarts' sessions. -#}
{% macro spark__utc_timestamp(expr) -%}{{ expr }}{%- endmacro %}

{#- Seconds between two TIMESTAMPTZ values, with milliseconds. -#}
{% macro seconds_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('seconds_between', 'valuemarts')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro default__seconds_between(start_expr, end_expr) -%}
    (epoch_ms({{ end_expr }}) - epoch_ms({{ start_expr }})) / 1000.0
{%- endmacro %}

{#- A double, as DuckDB's: Spark divides by a decimal literal in decimal arithmetic. -#}
{% macro spark__seconds_between(start_expr, end_expr) -%}
    cast(unix_millis({{ end_expr }}) - unix_millis({{ start_expr }}) as double) / 1000
{%- endmacro %}

{#- The 'YYYY-MM' text of a timestamp (the Month field). -#}
{% macro year_month(expr) -%}{{ adapter.dispatch('year_month', 'valuemarts')(expr) }}{%- endmacro %}

{% macro default__year_month(expr) -%}strftime({{ expr }}, '%Y-%m'){%- endmacro %}

{% macro spark__year_month(expr) -%}date_format({{ expr }}, 'yyyy-MM'){%- endmacro %}
