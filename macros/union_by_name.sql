{#- `union all by name` of `queries` (SQL selects): columns matched by name, in first-seen order,
    a column missing from a query NULL on its rows. DuckDB has it; Spark SQL unions by position,
    so its implementation asks Spark for each query's columns (at run time; empty when parsing)
    and writes the padded select lists. -#}
{% macro vm_union_all_by_name(queries) -%}{{ adapter.dispatch('vm_union_all_by_name', 'valuemarts')(queries) }}{%- endmacro %}

{% macro default__vm_union_all_by_name(queries) -%}
    {%- for query in queries %}
{{ query }}
{{ "union all by name" if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro spark__vm_union_all_by_name(queries) -%}
    {%- if not execute or queries | length == 1 -%}
        {{ queries | join('\nunion all\n') }}
    {%- else -%}
        {%- set columns_of = [] -%}
        {%- set names = [] -%}
        {%- for query in queries -%}
            {%- set columns = get_columns_in_query(query) -%}
            {%- do columns_of.append(columns) -%}
            {%- for column in columns if column not in names -%}{%- do names.append(column) -%}{%- endfor -%}
        {%- endfor -%}
        {%- for query in queries %}
select {% for name in names %}{{ vm_ident(name) if name in columns_of[loop.index0] else 'null' }} as {{ vm_ident(name) }}{{ ", " if not loop.last }}{% endfor %}
from (
{{ query }}
) as by_name_{{ loop.index }}
{{ "union all" if not loop.last }}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
