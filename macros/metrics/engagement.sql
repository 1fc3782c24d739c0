{#- Engagement and conversion scores from summed state (metric-rules "Rates, lift and tests").
    `group_by` is any subset of the metric's grouping; `where_sql` filters state rows first;
    `output_columns` (typed group columns), when given, pads the select to a union of columns so
    several metrics can share one mart. -#}

{% macro arm_sums(extra_sums) -%}
        coalesce(sum(positives), 0) as positives,
        coalesce(sum(negatives), 0) as negatives,
        coalesce(sum(positives) filter (where "ModelControlGroup" = 'Test'), 0) as positives_test,
        coalesce(sum(positives + negatives) filter (where "ModelControlGroup" = 'Test'), 0) as count_test,
        coalesce(sum(positives) filter (where "ModelControlGroup" = 'Control'), 0) as positives_control,
        coalesce(sum(positives + negatives) filter (where "ModelControlGroup" = 'Control'), 0) as count_control
        {%- for expr in extra_sums %},
        {{ expr }}
        {%- endfor %}
{%- endmacro %}

{% macro group_output(group_by, output_columns) -%}
    {%- if output_columns is none -%}
        {%- for name in group_by %}{{ vm_ident(name) }}, {% endfor -%}
    {%- else -%}
        {%- for column in output_columns -%}
            {%- if column.name in group_by -%}
                cast({{ vm_ident(column.name) }} as {{ column.type }}) as {{ vm_ident(column.name) }},
            {%- else -%}
                cast(null as {{ column.type }}) as {{ vm_ident(column.name) }},
            {%- endif %}
        {% endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- The Test/Control columns, in the order of the CLI contract; the interval is the pooled rate's. -#}
{% macro lift_columns() -%}
    {{ rate('positives_test', 'count_test') }} as "CTR_Test",
    {{ rate('positives_control', 'count_control') }} as "CTR_Control",
    {{ wilson_bound('positives', '(positives + negatives)', -1) }} as "CTR_ci_low",
    {{ wilson_bound('positives', '(positives + negatives)', 1) }} as "CTR_ci_high",
    {{ relative_lift('positives_test', 'count_test', 'positives_control', 'count_control') }} as "Lift",
    {{ two_proportion_z('positives_test', 'count_test', 'positives_control', 'count_control') }} as "Lift_Z_Score",
    vm_norm_p_two_sided({{ two_proportion_z('positives_test', 'count_test', 'positives_control', 'count_control') }}) as "Lift_P_Val"
{%- endmacro %}

{% macro filtered_state(state_relation, metric, where_sql) -%}
    select * from {{ state_relation }}
    where metric_name = '{{ metric.name | replace("'", "''") }}'
    {%- if where_sql %} and ({{ where_sql }}){% endif %}
{%- endmacro %}

{#- The CTEs both scorers share: the metric's state rows, filtered, summed per group with the
    Test and Control arms apart. -#}
{% macro summed_arms(state_relation, metric, group_by, where_sql, extra_sums) -%}
with state as (
    {{ filtered_state(state_relation, metric, where_sql) }}
),

sums as (
    select
        {% for name in group_by %}{{ vm_ident(name) }}, {% endfor %}
        {{ arm_sums(extra_sums) }}
    from state
    {%- if group_by %}
    group by {{ quoted_list(group_by) }}
    {%- endif %}
)
{%- endmacro %}

{% macro engagement_scores(state_relation, metric, group_by, where_sql=none, output_columns=none) -%}
{{ summed_arms(state_relation, metric, group_by, where_sql, []) }}

select
    {{ group_output(group_by, output_columns) }}
    positives as "Positives",
    negatives as "Negatives",
    positives + negatives as "Count",
    {{ rate('positives', 'positives + negatives') }} as "CTR",
    {{ lift_columns() }}
from sums
{%- if group_by %}
order by {{ quoted_list(group_by) }}
{%- endif %}
{%- endmacro %}

{% macro conversion_scores(state_relation, metric, group_by, where_sql=none, output_columns=none) -%}
{{ summed_arms(state_relation, metric, group_by, where_sql,
               ['sum(revenue) as revenue', 'coalesce(sum(touchpoints), 0) as touchpoints']) }}

select
    {{ group_output(group_by, output_columns) }}
    positives as "Positives",
    negatives as "Negatives",
    positives + negatives as "Count",
    {{ rate('positives', 'positives + negatives') }} as "ConversionRate",
    revenue as "Revenue",
    revenue / nullif(positives, 0) as "RevenuePerConversion",
    touchpoints as "Touchpoints",
    {{ lift_columns() }},
    cast(touchpoints as double) / nullif(positives, 0) as "AvgTouchpoints"
from sums
{%- if group_by %}
order by {{ quoted_list(group_by) }}
{%- endif %}
{%- endmacro %}
