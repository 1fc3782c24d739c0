{#- Positives and negatives of the labelled rows per metric and cell (group_by, global filters,
    experiment name and arm). -#}
{% macro experiment_state(labelled_relation) -%}
{{ family_state('experiment', labelled_relation, [
    'cast(sum(y) as bigint) as positives',
    'cast(count(*) - sum(y) as bigint) as negatives',
]) }}
{%- endmacro %}

{#- Experiment statistics from summed state (docs/metrics.md#experiment), for any number of arms.
    Always grouped by experiment name (weakness 12); `group_by` may add slicing columns. Per
    experiment: chi-square and G-test of homogeneity (no continuity correction) and a sample-ratio
    check; per arm against the control arm: two-proportion z-test, odds ratio and relative lift
    with 95% CIs, and Holm / Benjamini-Hochberg adjusted p-values over all arm comparisons of the
    same slice. Undefined statistics are NULL with a reason, never 0. The sample-ratio check
    counts randomization units (`helper_states.unit_state`, mart_experiment__unit_state): arms are
    assigned per unit, and an arm that changes what is shown legitimately changes its impressions;
    the units are the experiment's over all its rows (distinct counts do not add up across slices
    or filters), the impression-based check stays beside it. `property` is unused (every family's
    scores take the same arguments). -#}
{% macro experiment_scores(state, metric, by, where_sql=none, property=none, helper_states={}) -%}
    {%- set name_col = vm_ident(metric.experiment_name) -%}
    {%- set arm_col = vm_ident(metric.experiment_group) -%}
    {%- set slice = [] -%}
    {%- for column in by -%}
        {%- if column not in [metric.experiment_name, metric.experiment_group] -%}{%- do slice.append(column) -%}{%- endif -%}
    {%- endfor -%}
    {%- set slice_sql = quoted_list(slice) -%}
    {%- set experiment_key = (slice_sql ~ ', ' if slice else '') ~ name_col -%}
    {%- set control = metric.control_group -%}
    {%- set split = metric.expected_split or {} -%}
    {%- set split_weight -%}
        case arm {% for arm_name, weight in split.items() %}when {{ vm_string(arm_name) }} then {{ weight }} {% endfor %}end
    {%- endset -%}
with state as (
    {{ filtered_state(state, metric, where_sql) }}
      and {{ name_col }} is not null
      and {{ name_col }} <> {{ vm_string(metric.no_experiment_value) }}
),

arms as (
    select
        {{ experiment_key }},
        {{ arm_col }} as arm,
        sum(positives) as positives,
        sum(negatives) as negatives,
        sum(positives + negatives) as n
    from state
    group by {{ experiment_key }}, {{ arm_col }}
),

arms_in_experiment as (
    select
        *,
        count(*) over experiment as arm_count,
        sum(positives) over experiment as experiment_positives,
        sum(negatives) over experiment as experiment_negatives,
        sum(n) over experiment as experiment_n,
        {%- if split %}
        {{ split_weight }} / sum({{ split_weight }}) over experiment as expected_share,
        {%- else %}
        1.0 / count(*) over experiment as expected_share,
        {%- endif %}
        first_value(arm) over (
            partition by {{ experiment_key }}
            order by
                case
                    {%- if control %}
                    when arm = {{ vm_string(control) }} then 0
                    {%- endif %}
                    when lower(arm) like '%control%' then 1
                    else 2
                end,
                arm
            rows between unbounded preceding and unbounded following
        ) as control_arm
    from arms
    {#- In arm order: a sum of doubles depends on its order, and a report must give the same
        figures every time it is asked (the experiment ledger compares them). #}
    window experiment as (partition by {{ experiment_key }} order by arm rows between unbounded preceding and unbounded following)
),

arm_units as (
    select experiment, arm, count(*) as units
    from {{ helper_states.unit_state }}
    where metric_name = {{ vm_string(metric.name) }}
    group by experiment, arm
),

unit_ratio as (
    select
        experiment,
        arm,
        units,
        sum(units) over experiment
            * {% if split %}{{ split_weight }} / sum({{ split_weight }}) over experiment{% else %}1.0 / count(*) over experiment{% endif %}
            as expected_units,
        count(*) over experiment as unit_arm_count
    from arm_units
    window experiment as (partition by experiment order by arm rows between unbounded preceding and unbounded following)
),

unit_srm as (
    select
        experiment,
        arm,
        units,
        case when unit_arm_count >= 2 then sum(power(units - expected_units, 2) / expected_units) over (
            partition by experiment order by arm rows between unbounded preceding and unbounded following) end
            as srm_stat,
        unit_arm_count - 1 as srm_dof
    from unit_ratio
),

arms_with_units as (
    select arms_in_experiment.*, unit_srm.units, unit_srm.srm_stat, unit_srm.srm_dof
    from arms_in_experiment
    left join unit_srm
        on unit_srm.experiment = cast(arms_in_experiment.{{ name_col }} as {{ vm_type('varchar') }})
        and unit_srm.arm = cast(arms_in_experiment.arm as {{ vm_type('varchar') }})
),

with_control as (
    select
        *,
        arm = control_arm as is_control,
        max(case when arm = control_arm then positives end) over (partition by {{ experiment_key }}) as control_positives,
        max(case when arm = control_arm then negatives end) over (partition by {{ experiment_key }}) as control_negatives,
        max(case when arm = control_arm then n end) over (partition by {{ experiment_key }}) as control_n,
        n * experiment_positives / experiment_n as expected_positives,
        n * experiment_negatives / experiment_n as expected_negatives,
        experiment_n * expected_share as expected_n
    from arms_with_units
),

contributions as (
    select
        *,
        power(positives - expected_positives, 2) / expected_positives
            + power(negatives - expected_negatives, 2) / expected_negatives as chi2_term,
        2 * (
            case when positives > 0 then positives * ln(positives / expected_positives) else 0 end
            + case when negatives > 0 then negatives * ln(negatives / expected_negatives) else 0 end
        ) as g_term,
        power(n - expected_n, 2) / expected_n as srm_term,
        case when not is_control and positives > 0 and negatives > 0 and control_positives > 0 and control_negatives > 0
            then ln((positives * control_negatives) / (negatives * control_positives)) end as log_odds_ratio,
        case when not is_control and positives > 0 and negatives > 0 and control_positives > 0 and control_negatives > 0
            then sqrt(1.0 / positives + 1.0 / negatives + 1.0 / control_positives + 1.0 / control_negatives) end
            as log_odds_ratio_se,
        case when not is_control and positives > 0 and control_positives > 0
            then ln(({{ rate('positives', 'n') }}) / ({{ rate('control_positives', 'control_n') }})) end as log_rate_ratio,
        case when not is_control and positives > 0 and control_positives > 0
            then sqrt(1.0 / positives - 1.0 / n + 1.0 / control_positives - 1.0 / control_n) end as log_rate_ratio_se,
        case when not is_control
            then {{ two_proportion_z('positives', 'n', 'control_positives', 'control_n') }} end as z_score
    from with_control
),

per_experiment as (
    select
        *,
        case when arm_count >= 2 and experiment_positives > 0 and experiment_negatives > 0
            then sum(chi2_term) over experiment end as chi2_stat,
        case when arm_count >= 2 and experiment_positives > 0 and experiment_negatives > 0
            then sum(g_term) over experiment end as g_stat,
        case when arm_count >= 2 then sum(srm_term) over experiment end as srm_impressions_stat,
        vm_norm_p_two_sided(z_score) as z_p_val
    from contributions
    window experiment as (partition by {{ experiment_key }} order by arm rows between unbounded preceding and unbounded following)
),

ranked_comparisons as (
    select
        *,
        count(z_p_val) over comparisons as comparison_count,
        case when z_p_val is not null
            then row_number() over (partition by {{ slice_sql if slice else '1' }}, z_p_val is null order by z_p_val, {{ name_col }}, arm) end
            as p_rank
    from per_experiment
    window comparisons as ({% if slice %}partition by {{ slice_sql }}{% endif %})
),

adjusted as (
    select
        *,
        case when z_p_val is not null then max(least(1.0, (comparison_count - p_rank + 1) * z_p_val)) over (
            partition by {{ slice_sql if slice else '1' }}, z_p_val is null order by p_rank
            rows between unbounded preceding and current row) end as p_holm,
        case when z_p_val is not null then min(least(1.0, comparison_count * z_p_val / p_rank)) over (
            partition by {{ slice_sql if slice else '1' }}, z_p_val is null order by p_rank
            rows between current row and unbounded following) end as p_bh
    from ranked_comparisons
)

select
    {{ key_prefix(slice) }}
    {{ name_col }},
    arm as {{ arm_col }},
    cast(positives as bigint) as {{ vm_ident('Positives') }},
    cast(negatives as bigint) as {{ vm_ident('Negatives') }},
    cast(n as bigint) as {{ vm_ident('Count') }},
    {{ rate('positives', 'n') }} as {{ vm_ident('CTR') }},
    is_control,
    z_score,
    z_p_val,
    exp(log_odds_ratio) as odds_ratio_stat,
    exp(log_odds_ratio - 1.959963984540054 * log_odds_ratio_se) as odds_ratio_ci_low,
    exp(log_odds_ratio + 1.959963984540054 * log_odds_ratio_se) as odds_ratio_ci_high,
    case when not is_control then {{ relative_lift('positives', 'n', 'control_positives', 'control_n') }} end as lift,
    p_holm,
    p_bh,
    chi2_stat,
    vm_chi2_sf(chi2_stat, arm_count - 1) as chi2_p_val,
    g_stat,
    vm_chi2_sf(g_stat, arm_count - 1) as g_p_val,
    units,
    vm_chi2_sf(srm_stat, srm_dof) as srm_p_val,
    vm_chi2_sf(srm_impressions_stat, arm_count - 1) as srm_impressions_p_val,
    nullif(concat_ws('; ',
        case when arm_count < 2 then 'fewer than two arms' end,
        case when experiment_positives = 0 then 'no positives in experiment' end,
        case when experiment_negatives = 0 then 'no negatives in experiment' end,
        case when is_control then 'control arm' end,
        case when not is_control and log_odds_ratio is null then 'odds ratio undefined: a zero cell' end,
        case when not is_control and z_score is null then 'z-test undefined: pooled rate 0 or 1' end
    ), '') as reason,
    exp(log_rate_ratio - 1.959963984540054 * log_rate_ratio_se) - 1 as lift_ci_low,
    exp(log_rate_ratio + 1.959963984540054 * log_rate_ratio_se) - 1 as lift_ci_high,
    control_arm,
    arm_count - 1 as dof,
    srm_stat,
    srm_impressions_stat
from adjusted
{{- order_by_groups(slice, [name_col, 'arm']) }}
{%- endmacro %}

{#- Labelled rows per experiment metric, experiment, arm and randomization unit (the metric's
    `randomization_unit`, SubjectID by default), from `labelled_relation` (labelled rows with
    metric_name): counts, so an append adds the labels built now and takes away those it
    retracted (state_plus_changes). Rows outside an experiment are left out. -#}
{% macro experiment_unit_rows(labelled_relation) -%}
    {%- set metrics = metrics_of_family(vm_config().metrics, 'experiment') -%}
    {%- for metric in metrics %}
select
    {{ vm_string(metric.name) }} as metric_name,
    cast({{ vm_ident(metric.experiment_name) }} as {{ dbt.type_string() }}) as experiment,
    cast({{ vm_ident(metric.experiment_group) }} as {{ dbt.type_string() }}) as arm,
    cast({{ vm_ident(metric.randomization_unit) }} as {{ dbt.type_string() }}) as unit,
    count(*) as labelled_rows
from {{ labelled_relation }}
where metric_name = {{ vm_string(metric.name) }}
  and {{ vm_ident(metric.experiment_name) }} is not null
  and {{ vm_ident(metric.experiment_name) }} <> {{ vm_string(metric.no_experiment_value) }}
group by 1, 2, 3, 4
{{ "union all" if not loop.last }}
    {%- else %}
    {%- set text = dbt.type_string() %}
select
    cast(null as {{ text }}) as metric_name, cast(null as {{ text }}) as experiment, cast(null as {{ text }}) as arm,
    cast(null as {{ text }}) as unit, cast(null as bigint) as labelled_rows
where false
    {%- endfor %}
{%- endmacro %}
