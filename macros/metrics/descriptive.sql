{#- Descriptive statistics (descriptive metrics) from mergeable per-cell state: counts, sums,
    means and variances merged with Chan's formula, exact min/max, percentiles and Bowley skew from
    merged t-digests. The mart and `valuemarts report` render the same scoring macro; everything
    here uses only vm_ident, adapter.dispatch and return (macros/metrics/common.sql explains
    why). Macros that return a value are default__ implementations called through
    adapter.dispatch, the one way such a call works both in dbt and in the plain rendering. -#}

{#- Every score the descriptive family computes per column. -#}
{% macro default__descriptive_known_scores() -%}
    {{ return(['Count', 'Sum', 'Mean', 'Median', 'p25', 'p75', 'p90', 'p95', 'Std', 'Var', 'Skew', 'Min', 'Max']) }}
{%- endmacro %}

{#- The columns a metric describes: its configured columns, and Outcome when Outcome is one of its
    grouping columns (the funnel reads Outcome_Count per Outcome). -#}
{% macro default__descriptive_described_columns(metric) -%}
    {%- set columns = metric.columns | unique | list -%}
    {%- if 'Outcome' in metric.group_columns | map(attribute='name') and 'Outcome' not in columns -%}
        {%- do columns.append('Outcome') -%}
    {%- endif -%}
    {{ return(columns) }}
{%- endmacro %}

{#- The same as JSON, for valuemarts.reports.descriptive (rendering returns text). -#}
{% macro descriptive_described_columns_json(metric) -%}
    {{ adapter.dispatch('descriptive_described_columns')(metric) | tojson }}
{%- endmacro %}

{#- The scores a metric reports per column: Count always (funnels and box-plot notches need it),
    then its configured scores that descriptive_known_scores() names, in configured order. -#}
{% macro default__descriptive_output_scores(metric) -%}
    {%- set scores = ['Count'] -%}
    {%- for score in metric.scores -%}
        {%- if score in adapter.dispatch('descriptive_known_scores')() and score not in scores -%}
            {%- do scores.append(score) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(scores) }}
{%- endmacro %}

{#- The merge of a group's digests; a lone digest is its own merge (saves a Python call per
    group at the state's grain, where most groups hold one cell). -#}
{% macro descriptive_merged_digest(digest) -%}
    case
        when count({{ digest }}) = 1 then any_value({{ digest }})
        else tdigest_merge(list({{ digest }}))
    end
{%- endmacro %}

{% macro descriptive_literal(value) -%}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}

{#- Scores of one metric at grouping `by`, one row per group, one column `<Column>_<Score>` per
    column in `columns` and output score (NULL for scores a text column has no value for).
    `state` is int_descriptive__state; `where_sql` filters its grouping columns first. -#}
{% macro descriptive_scores(metric, by, where_sql, columns, state) -%}
{%- set keys -%}{%- for column in by -%}{{ vm_ident(column) }}, {% endfor -%}{%- endset -%}
with state_rows as (

    select *
    from {{ state }}
    where metric_name = {{ descriptive_literal(metric.name) }}
      and column_name in ({% for c in columns %}{{ descriptive_literal(c) }}{{ ", " if not loop.last }}{% endfor %})
      {%- if where_sql %}
      and ({{ where_sql }})
      {%- endif %}

),

cells_with_group_mean as (

    select
        *,
        fsum(value_count * value_mean) over column_group / sum(value_count) over column_group as group_mean
    from state_rows
    window column_group as (partition by {{ keys }}column_name)

),

{#- Chan et al.: M2 of a union = sum of the parts' M2 + sum of n_i (mean_i - mean)^2; every term
    is non-negative, so nothing cancels the way sum(x^2) - n mean^2 does. -#}
column_groups as (

    select
        {{ keys }}column_name,
        sum(value_count) as value_count,
        fsum(value_sum) as value_sum,
        any_value(group_mean) as value_mean,
        fsum(value_m2) + fsum(value_count * (value_mean - group_mean) * (value_mean - group_mean)) as value_m2,
        min(value_min) as value_min,
        max(value_max) as value_max,
        tdigest_quantiles({{ descriptive_merged_digest('value_digest') }}, [0.5, 0.25, 0.75, 0.9, 0.95]) as quantiles
    from cells_with_group_mean
    group by {{ keys }}column_name

),

column_scores as (

    select
        {{ keys }}column_name,
        cast(value_count as bigint) as "Count",
        value_sum as "Sum",
        value_mean as "Mean",
        quantiles[1] as "Median",
        quantiles[2] as "p25",
        quantiles[3] as "p75",
        quantiles[4] as "p90",
        quantiles[5] as "p95",
        case when value_count > 1 then sqrt(value_m2 / (value_count - 1)) end as "Std",
        case when value_count > 1 then value_m2 / (value_count - 1) end as "Var",
        (quantiles[3] + quantiles[2] - 2 * quantiles[1]) / nullif(quantiles[3] - quantiles[2], 0) as "Skew",
        value_min as "Min",
        value_max as "Max"
    from column_groups

)

select
    {{ keys }}
    {%- for column in columns %}
    {%- set outer_loop = loop %}
    {%- for score in adapter.dispatch('descriptive_output_scores')(metric) %}
    any_value({{ vm_ident(score) }}) filter (where column_name = {{ descriptive_literal(column) }})
        as {{ vm_ident(column ~ '_' ~ score) }}{{ "," if not (outer_loop.last and loop.last) }}
    {%- endfor %}
    {%- endfor %}
from column_scores
{%- if by %}
group by {{ quoted_list(by) }}
{%- endif %}
{%- endmacro %}
