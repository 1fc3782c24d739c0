{#- Unique combination of columns (what dbt_utils offers; `dbt deps` can't reach the hub here).
    `built_now_only`: check only the combinations of rows this run (re)computed (`_built_by`), all
    an incremental model's append can duplicate: a semi join and a GROUP BY. A full refresh, which
    builds every row, groups all rows (a GROUP BY spills; the semi join's hash tables ran out of
    memory at 20M rows). -#}
{% test unique_combination_of_columns(model, columns, built_now_only=false) %}
{%- if built_now_only and not flags.FULL_REFRESH %}
with built_now as (
    select distinct {{ columns | join(', ') }} from {{ model }} where {{ vm_built_now() }}
)

select {% for column in columns %}checked.{{ column }}, {% endfor %}count(*) as n
from {{ model }} as checked
{{ vm_semi_join() }} built_now
    on {% for column in columns %}checked.{{ column }} is not distinct from built_now.{{ column }}{{ " and " if not loop.last }}{% endfor %}
group by all
having count(*) > 1
{%- else %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{%- endif %}
{% endtest %}
