{#- Unique combination of columns (what dbt_utils offers; `dbt deps` can't reach the hub here).
    `built_now_only`: check only the combinations of rows this run (re)computed (`_built_by`), all
    an incremental model's append can duplicate; a full build computes every row. -#}
{% test unique_combination_of_columns(model, columns, built_now_only=false) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
{%- if built_now_only %}
where {{ null_safe_tuple(columns) }} in (
    select {{ null_safe_tuple(columns) }} from {{ model }} where {{ vm_built_now() }}
)
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
