{#- Rows where a numeric column lies outside [min_value, max_value] (either bound optional), with
    `tolerance` for floating-point rounding. NULLs pass: undefined statistics are NULL by design. -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, tolerance=1e-9) %}
select *
from {{ model }}
where false
    {%- if min_value is not none %}
    or {{ column_name }} < {{ min_value }} - {{ tolerance }}
    {%- endif %}
    {%- if max_value is not none %}
    or {{ column_name }} > {{ max_value }} + {{ tolerance }}
    {%- endif %}
{% endtest %}
