{#- Descriptive statistics (descriptive metrics): the state model and the scores the mart and
    `valuemarts report` share. Counts, sums, means and variances merge with Chan's formula, min
    and max exactly, percentiles and Bowley skew come from merged t-digests. -#}

{#- The columns a metric describes: its configured columns, and Outcome when Outcome is one of its
    grouping columns (the funnel reads Outcome_Count per Outcome). The choices of `--property`. -#}
{% macro default__descriptive_described_columns(metric) -%}
    {%- set columns = metric.columns | unique | list -%}
    {%- if 'Outcome' in metric.group_columns | map(attribute='name') and 'Outcome' not in columns -%}
        {%- do columns.append('Outcome') -%}
    {%- endif -%}
    {{ return(columns) }}
{%- endmacro %}

{#- Mergeable state of every descriptive metric, long by described column: per lowest-grain cell
    (the metric's group_by and the global filters) and column, over the interactions after the
    metric's filter (all outcomes), the non-null count, and for numeric columns the sum, mean, M2
    (sum of squared deviations from the mean), min, max and a t-digest. -#}
{% macro descriptive_state(interactions) -%}
{%- set metrics = metrics_of_family(vm_config().metrics, 'descriptive') -%}
{%- set group_columns = union_group_columns(metrics) -%}
{%- set group_names = group_columns | map(attribute='name') | list -%}
{%- set numeric_columns = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(ref('int_ih__interactions')) -%}
        {%- if column.is_number() -%}{%- do numeric_columns.append(column.name) -%}{%- endif -%}
    {%- endfor -%}
{%- endif -%}

{%- if metrics | length == 0 %}
select
    cast(null as {{ dbt.type_string() }}) as metric_name,
    cast(null as {{ dbt.type_string() }}) as column_name,
    cast(null as bigint) as value_count,
    cast(null as double) as value_sum,
    cast(null as double) as value_mean,
    cast(null as double) as value_m2,
    cast(null as double) as value_min,
    cast(null as double) as value_max,
    cast(null as {{ vm_type('blob') }}) as value_digest
where false
{%- else %}
with
{%- for metric in metrics %}
{%- set metric_loop = loop %}

metric_{{ metric_loop.index }}_cells as (

    select
        {{ vm_string(metric.name) }} as metric_name,
        {%- if group_columns %}
        {{ group_columns_select(metric, group_columns) }},
        {%- endif %}
        {%- for column in adapter.dispatch('descriptive_described_columns')(metric) %}
        {%- set value = vm_ident(column) %}
        {%- set suffix = metric_loop.index ~ '_' ~ loop.index %}
        count({{ value }}) as value_count_{{ suffix }}
        {%- if column in numeric_columns %},
        sum(cast({{ value }} as double)) as value_sum_{{ suffix }},
        avg(cast({{ value }} as double)) as value_mean_{{ suffix }},
        var_pop(cast({{ value }} as double)) * count({{ value }}) as value_m2_{{ suffix }},
        min(cast({{ value }} as double)) as value_min_{{ suffix }},
        max(cast({{ value }} as double)) as value_max_{{ suffix }},
        tdigest_build({{ vm_list('cast(' ~ value ~ ' as double)') }} filter (where {{ value }} is not null)) as value_digest_{{ suffix }}
        {%- endif %}
        {{- "," if not loop.last }}
        {%- endfor %}
    from {{ interactions }}
    where ({{ metric.filter_sql or 'true' }})
      and {{ vm_in_batch(cell_keys(metric, group_columns)) }}
    group by all

){{ "," if not loop.last }}
{%- endfor %}

{%- for metric in metrics %}
{%- set metric_loop = loop %}
{%- for column in adapter.dispatch('descriptive_described_columns')(metric) %}
{%- set suffix = metric_loop.index ~ '_' ~ loop.index %}

select
    metric_name,
    {{ key_prefix(group_names) }}{{ vm_string(column) }} as column_name,
    value_count_{{ suffix }} as value_count,
    {%- if column in numeric_columns %}
    value_sum_{{ suffix }} as value_sum,
    value_mean_{{ suffix }} as value_mean,
    value_m2_{{ suffix }} as value_m2,
    value_min_{{ suffix }} as value_min,
    value_max_{{ suffix }} as value_max,
    value_digest_{{ suffix }} as value_digest
    {%- else %}
    cast(null as double) as value_sum,
    cast(null as double) as value_mean,
    cast(null as double) as value_m2,
    cast(null as double) as value_min,
    cast(null as double) as value_max,
    cast(null as {{ vm_type('blob') }}) as value_digest
    {%- endif %}
from metric_{{ metric_loop.index }}_cells
{{ "union all" if not (metric_loop.last and loop.last) }}
{%- endfor %}
{%- endfor %}
{%- endif %}
{%- endmacro %}

{#- Scores of one metric per group of `by`, one column `<Column>_<Score>` per described column (or
    only `property`, one of them) and score: Count always (funnels and box-plot notches need it),
    then the metric's configured scores (output_scores, from the compiler). A text column's numeric
    scores are NULL. `where_sql` filters the state's grouping columns first; `helper_states` is
    unused. -#}
{% macro descriptive_scores(state, metric, by, where_sql=none, property=none, helper_states={}) -%}
{%- set columns = [property] if property else adapter.dispatch('descriptive_described_columns')(metric) -%}
{%- set keys = key_prefix(by) -%}
with state_rows as (

    select *
    from {{ state }}
    where metric_name = {{ vm_string(metric.name) }}
      and column_name in ({% for column in columns %}{{ vm_string(column) }}{{ ', ' if not loop.last }}{% endfor %})
      {%- if where_sql %}
      and ({{ where_sql }})
      {%- endif %}

),

cells_with_group_mean as (

    select
        *,
        {{ vm_exact_sum('value_count * value_mean') }} over column_group / sum(value_count) over column_group as group_mean
    from state_rows
    window column_group as (partition by {{ keys }}column_name)

),

{#- Chan et al.: M2 of a union = sum of the parts' M2 + sum of n_i (mean_i - mean)^2; every term
    is non-negative, so nothing cancels the way sum(x^2) - n mean^2 does. -#}
column_groups as (

    select
        {{ keys }}column_name,
        sum(value_count) as value_count,
        {{ vm_exact_sum('value_sum') }} as value_sum,
        any_value(group_mean) as value_mean,
        {{ vm_exact_sum('value_m2') }} + {{ vm_exact_sum('value_count * (value_mean - group_mean) * (value_mean - group_mean)') }} as value_m2,
        min(value_min) as value_min,
        max(value_max) as value_max,
        tdigest_quantiles({{ merged_digest('value_digest') }}, {{ vm_array(['0.5', '0.25', '0.75', '0.9', '0.95']) }}) as quantiles
    from cells_with_group_mean
    group by {{ keys }}column_name

),

column_scores as (

    select
        {{ keys }}column_name,
        cast(value_count as bigint) as {{ vm_ident('Count') }},
        value_sum as {{ vm_ident('Sum') }},
        value_mean as {{ vm_ident('Mean') }},
        {{ vm_element('quantiles', 1) }} as {{ vm_ident('Median') }},
        {{ vm_element('quantiles', 2) }} as {{ vm_ident('p25') }},
        {{ vm_element('quantiles', 3) }} as {{ vm_ident('p75') }},
        {{ vm_element('quantiles', 4) }} as {{ vm_ident('p90') }},
        {{ vm_element('quantiles', 5) }} as {{ vm_ident('p95') }},
        case when value_count > 1 then sqrt(value_m2 / (value_count - 1)) end as {{ vm_ident('Std') }},
        case when value_count > 1 then value_m2 / (value_count - 1) end as {{ vm_ident('Var') }},
        ({{ vm_element('quantiles', 3) }} + {{ vm_element('quantiles', 2) }} - 2 * {{ vm_element('quantiles', 1) }})
            / nullif({{ vm_element('quantiles', 3) }} - {{ vm_element('quantiles', 2) }}, 0) as {{ vm_ident('Skew') }},
        value_min as {{ vm_ident('Min') }},
        value_max as {{ vm_ident('Max') }}
    from column_groups

)

select
    {{ keys }}
    {%- for column in columns %}
    {%- set outer_loop = loop %}
    {%- for score in metric.output_scores %}
    any_value({{ vm_ident(score) }}) filter (where column_name = {{ vm_string(column) }})
        as {{ vm_ident(column ~ '_' ~ score) }}{{ "," if not (outer_loop.last and loop.last) }}
    {%- endfor %}
    {%- endfor %}
from column_scores
{%- if by %}
group by {{ quoted_list(by) }}
{%- endif %}
{{- order_by_groups(by) }}
{%- endmacro %}
