{#- dbt checks an enforced contract by casting NULL to each column's declared `data_type`
    (get_empty_schema_sql) and comparing the result with the model's columns. The contracts
    declare DuckDB's types (timestamp with time zone, blob, ...): on Spark the cast takes the
    same type in Spark's spelling (vm_type), so one contract serves both engines. -#}
{% macro spark__cast(field, type) -%}cast({{ field }} as {{ vm_type(type) }}){%- endmacro %}
