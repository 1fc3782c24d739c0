{#- What differs between the engines, one dispatched macro each: `default__` is DuckDB, `spark__`
    Spark SQL (dbt-spark session). Everything else in the project is SQL both engines run. They sit
    with the metric macros because valuemarts.reports.templates renders those outside dbt too,
    dispatching to the implementation of the warehouse's engine; there dbt's own cross-database
    macros (dbt.type_string, dbt.datediff, ...) are unknown, so the scoring macros use these, and
    the models use dbt's where it has one. -#}

{#- A column type of the compiled config or the models (VARCHAR, TIMESTAMPTZ, BLOB, ...) in the
    engine's spelling. -#}
{% macro vm_type(data_type) -%}{{ adapter.dispatch('vm_type', 'valuemarts')(data_type) }}{%- endmacro %}

{% macro default__vm_type(data_type) -%}{{ data_type }}{%- endmacro %}

{#- Spark has no VARCHAR without a length, no time zone in its TIMESTAMP (the session is UTC), no
    128-bit integers (the row keys are md5 text, null_safe_number_key) and spells maps and blobs
    its own way. -#}
{% macro spark__vm_type(data_type) -%}
    {%- set spark_types = {'varchar': 'string', 'text': 'string', 'timestamptz': 'timestamp',
                           'timestamp with time zone': 'timestamp', 'blob': 'binary', 'uhugeint': 'string',
                           'hugeint': 'decimal(38, 0)', 'map(double, bigint)': 'map<double, bigint>'} -%}
    {{ spark_types.get(data_type | lower, data_type) }}
{%- endmacro %}

{#- The values of `expr` in a group as a list (NULLs kept on DuckDB, dropped on Spark: every use
    filters them or ignores them), for the Python UDFs that take a group's values. -#}
{% macro vm_list(expr) -%}{{ adapter.dispatch('vm_list', 'valuemarts')(expr) }}{%- endmacro %}

{% macro default__vm_list(expr) -%}list({{ expr }}){%- endmacro %}

{% macro spark__vm_list(expr) -%}collect_list({{ expr }}){%- endmacro %}

{#- A struct of named values; `fields` is a list of (name, SQL expression) pairs. -#}
{% macro vm_struct(fields) -%}{{ adapter.dispatch('vm_struct', 'valuemarts')(fields) }}{%- endmacro %}

{% macro default__vm_struct(fields) -%}
    {{ '{' }}{% for name, expr in fields %}{{ vm_string(name) }}: {{ expr }}{{ ", " if not loop.last }}{% endfor %}{{ '}' }}
{%- endmacro %}

{% macro spark__vm_struct(fields) -%}
    named_struct({% for name, expr in fields %}{{ vm_string(name) }}, {{ expr }}{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}

{#- A list literal of SQL values. -#}
{% macro vm_array(values) -%}{{ adapter.dispatch('vm_array', 'valuemarts')(values) }}{%- endmacro %}

{% macro default__vm_array(values) -%}[{{ values | join(', ') }}]{%- endmacro %}

{% macro spark__vm_array(values) -%}array({{ values | join(', ') }}){%- endmacro %}

{#- Element `index` (1-based, an SQL expression) of a list. -#}
{% macro vm_element(list_expr, index) -%}{{ adapter.dispatch('vm_element', 'valuemarts')(list_expr, index) }}{%- endmacro %}

{% macro default__vm_element(list_expr, index) -%}{{ list_expr }}[{{ index }}]{%- endmacro %}

{% macro spark__vm_element(list_expr, index) -%}element_at({{ list_expr }}, cast({{ index }} as int)){%- endmacro %}

{#- Aggregate: each distinct non-NULL value of `expr` in the group with its count, as a
    MAP(DOUBLE, BIGINT); NULL for a group without one. Spark has no such aggregate: the Python
    UDF vm_value_counts counts the group's list. -#}
{% macro vm_value_counts(expr) -%}{{ adapter.dispatch('vm_value_counts', 'valuemarts')(expr) }}{%- endmacro %}

{% macro default__vm_value_counts(expr) -%}
    cast(histogram({{ expr }}) filter (where {{ expr }} is not null) as map(double, bigint))
{%- endmacro %}

{% macro spark__vm_value_counts(expr) -%}vm_value_counts(collect_list({{ expr }})){%- endmacro %}

{#- Aggregate (or window) sum of doubles; DuckDB's is error-compensated, so the order rows arrive
    in moves the result by an ulp at most. Spark's plain sum differs from it in the last digits. -#}
{% macro vm_exact_sum(expr) -%}{{ adapter.dispatch('vm_exact_sum', 'valuemarts')(expr) }}{%- endmacro %}

{% macro default__vm_exact_sum(expr) -%}fsum({{ expr }}){%- endmacro %}

{% macro spark__vm_exact_sum(expr) -%}sum({{ expr }}){%- endmacro %}

{#- Select-list items unnesting a map column into one row per entry, named `key_name` and
    `value_name`. -#}
{% macro vm_map_entries(map_expr, key_name, value_name) -%}
    {{ adapter.dispatch('vm_map_entries', 'valuemarts')(map_expr, key_name, value_name) }}
{%- endmacro %}

{% macro default__vm_map_entries(map_expr, key_name, value_name) -%}
    unnest(map_keys({{ map_expr }})) as {{ key_name }},
    unnest(map_values({{ map_expr }})) as {{ value_name }}
{%- endmacro %}

{% macro spark__vm_map_entries(map_expr, key_name, value_name) -%}
    explode({{ map_expr }}) as ({{ key_name }}, {{ value_name }})
{%- endmacro %}

{#- The sum of a list of numbers (NULL for NULL). -#}
{% macro vm_list_sum(list_expr) -%}{{ adapter.dispatch('vm_list_sum', 'valuemarts')(list_expr) }}{%- endmacro %}

{% macro default__vm_list_sum(list_expr) -%}list_sum({{ list_expr }}){%- endmacro %}

{% macro spark__vm_list_sum(list_expr) -%}aggregate({{ list_expr }}, cast(0 as bigint), (total, x) -> total + x){%- endmacro %}

{#- Whether a double is neither infinite nor NaN. -#}
{% macro vm_is_finite(expr) -%}{{ adapter.dispatch('vm_is_finite', 'valuemarts')(expr) }}{%- endmacro %}

{% macro default__vm_is_finite(expr) -%}isfinite({{ expr }}){%- endmacro %}

{% macro spark__vm_is_finite(expr) -%}
    (not isnan({{ expr }}) and abs({{ expr }}) < double('infinity'))
{%- endmacro %}

{#- A double rounded to `digits` (an SQL integer expression) decimal places, negative for tens,
    hundreds, ... DuckDB computes round(x * 10^d) / 10^d (or round(x / 10^-d) * 10^-d); Spark's
    round needs a constant scale, so it spells out the same arithmetic. -#}
{% macro vm_round_to(expr, digits) -%}{{ adapter.dispatch('vm_round_to', 'valuemarts')(expr, digits) }}{%- endmacro %}

{% macro default__vm_round_to(expr, digits) -%}round({{ expr }}, {{ digits }}){%- endmacro %}

{% macro spark__vm_round_to(expr, digits) -%}
    case
        when {{ digits }} >= 0 then round({{ expr }} * power(10, {{ digits }})) / power(10, {{ digits }})
        else round({{ expr }} / power(10, -({{ digits }}))) * power(10, -({{ digits }}))
    end
{%- endmacro %}

{#- `relation.*` without the quoted columns `names`. -#}
{% macro vm_star_except(relation, names) -%}{{ adapter.dispatch('vm_star_except', 'valuemarts')(relation, names) }}{%- endmacro %}

{% macro default__vm_star_except(relation, names) -%}
    {{ relation ~ '.' if relation }}*{% if names %} exclude ({{ names | join(', ') }}){% endif %}
{%- endmacro %}

{% macro spark__vm_star_except(relation, names) -%}
    {{ relation ~ '.' if relation }}*{% if names %} except ({{ names | join(', ') }}){% endif %}
{%- endmacro %}

{#- A CTE's `as`: DuckDB inlines a CTE marked not materialized into each use (cheaper than
    materializing wide rows read twice); Spark inlines every CTE. -#}
{% macro vm_cte_as() -%}{{ adapter.dispatch('vm_cte_as', 'valuemarts')() }}{%- endmacro %}

{% macro default__vm_cte_as() -%}as not materialized{%- endmacro %}

{% macro spark__vm_cte_as() -%}as{%- endmacro %}

{#- Whole days from date `start` to date `end`. -#}
{% macro vm_days_between(start, end) -%}{{ adapter.dispatch('vm_days_between', 'valuemarts')(start, end) }}{%- endmacro %}

{% macro default__vm_days_between(start, end) -%}({{ end }} - {{ start }}){%- endmacro %}

{% macro spark__vm_days_between(start, end) -%}datediff({{ end }}, {{ start }}){%- endmacro %}

{#- The semi join and anti join keywords. -#}
{% macro vm_semi_join() -%}{{ adapter.dispatch('vm_semi_join', 'valuemarts')() }}{%- endmacro %}

{% macro default__vm_semi_join() -%}semi join{%- endmacro %}

{% macro spark__vm_semi_join() -%}left semi join{%- endmacro %}

{% macro vm_anti_join() -%}{{ adapter.dispatch('vm_anti_join', 'valuemarts')() }}{%- endmacro %}

{% macro default__vm_anti_join() -%}anti join{%- endmacro %}

{% macro spark__vm_anti_join() -%}left anti join{%- endmacro %}

{#- The date `months` (an SQL integer expression) months after date `date_expr`, a date on both
    engines (DuckDB's date + interval is a timestamp). dbt.dateadd does this in models, but the
    CLV scoring macros are also rendered outside dbt (reports), where `dbt` is unknown. -#}
{% macro vm_add_months(date_expr, months) -%}{{ adapter.dispatch('vm_add_months', 'valuemarts')(date_expr, months) }}{%- endmacro %}

{% macro default__vm_add_months(date_expr, months) -%}cast({{ date_expr }} + to_months({{ months }}) as date){%- endmacro %}

{% macro spark__vm_add_months(date_expr, months) -%}add_months({{ date_expr }}, {{ months }}){%- endmacro %}

{#- The date `months` months before `date_expr`. -#}
{% macro vm_months_before(date_expr, months) -%}{{ vm_add_months(date_expr, '-(' ~ months ~ ')') }}{%- endmacro %}

{#- Select-list items unnesting a JSON array of records (text) into one row per record and one
    column per field; `fields` is a list of (name, type) pairs, types in DuckDB's spelling. -#}
{% macro vm_json_records(json_expr, fields) -%}
    {{ adapter.dispatch('vm_json_records', 'valuemarts')(json_expr, fields) }}
{%- endmacro %}

{% macro default__vm_json_records(json_expr, fields) -%}
    unnest(from_json({{ json_expr }}, '[{
        {%- for name, type in fields %}"{{ name }}": "{{ type }}"{{ ", " if not loop.last }}{% endfor -%}
    }]'), recursive := true)
{%- endmacro %}

{% macro spark__vm_json_records(json_expr, fields) -%}
    inline(from_json({{ json_expr }}, 'array<struct<
        {%- for name, type in fields %}`{{ name }}`: {{ vm_type(type) }}{{ ", " if not loop.last }}{% endfor -%}
    >>'))
{%- endmacro %}
