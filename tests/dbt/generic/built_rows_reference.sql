{#- dbt's relationships test for the rows this run (re)computed (`_built_by`): every non-null
    `column_name` of them is a `field` of `to`. Rows built earlier keep their references: the
    incremental models relabel every offer whose rows change (int_ih__changes). An append looks
    up only the parents its few built rows name; a full refresh, where every row is built now,
    anti joins all of them against `to` (which spills, where the lookup's hash tables did not at
    20M rows). -#}
{% test built_rows_reference(model, column_name, to, field) %}
{%- if flags.FULL_REFRESH %}
select built_rows.{{ column_name }} as reference
from {{ model }} as built_rows
{{ vm_anti_join() }} {{ to }} as parent on built_rows.{{ column_name }} = parent.{{ field }}
where built_rows.{{ column_name }} is not null
{%- else %}
with built_rows as (
    select {{ column_name }} as reference
    from {{ model }}
    where {{ vm_built_now() }} and {{ column_name }} is not null
),

referenced as (
    select distinct parent.{{ field }} as reference
    from {{ to }} as parent
    {{ vm_semi_join() }} built_rows on parent.{{ field }} = built_rows.reference
)

select reference from built_rows
{{ vm_anti_join() }} referenced using (reference)
{%- endif %}
{% endtest %}
