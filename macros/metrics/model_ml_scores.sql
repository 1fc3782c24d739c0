{#- Model quality (model_ml_scores metrics): ROC AUC and average precision that are exact at every
    grain, the reference system's t-digest versions beside them for comparison, and personalization
    and novelty that merge exactly. The mart and `valuemarts report` render the same scoring macro;
    everything here uses only vm_ident and return (macros/metrics/common.sql explains why). -#}

{#- The score columns a model is judged on (`--property`). -#}
{% macro model_ml_scores_properties() -%}
    {{ return(['Propensity', 'FinalPropensity']) }}
{%- endmacro %}

{#- Scores are counted per value rounded to 5 significant digits. The rounding is monotone, so
    only positive/negative pairs whose scores share a bin but differ can change the AUC, each by
    exactly 1/2 pair: |AUC_binned - AUC| <= 1/2 * (sum over bins of n_pos*n_neg minus the same sum
    over exact values) / (N_pos*N_neg). Relative bins (not a fixed 0.01 or 1e-4 grid) keep
    propensities far below 0.05 as finely resolved as large ones; tests/test_model_quality.py
    computes the bound on the demo data. -#}
{% macro model_ml_scores_score_bin(expr) -%}
    case
        when {{ expr }} = 0 or not isfinite({{ expr }}) then {{ expr }}
        else round({{ expr }}, 4 - cast(floor(log10(abs({{ expr }}))) as integer))
    end
{%- endmacro %}

{#- The labelled rows of every metric of the family with that metric's grouping columns placed
    in the family's union of grouping columns (NULL where a column is not the metric's), plus
    `columns`. -#}
{% macro model_ml_scores_cell_rows(metrics, group_columns, relation, columns) -%}
    {%- for metric in metrics %}
    select
        metric_name,
        {%- if group_columns %}
        {{ group_columns_select(metric, group_columns) }},
        {%- endif %}
        {{ quoted_list(columns) }}
    from {{ relation }}
    where metric_name = {{ model_ml_scores_literal(metric.name) }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro model_ml_scores_literal(value) -%}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}

{#- `"a", "b", ` for a non-empty list of columns, nothing for none: a prefix for select lists. -#}
{% macro model_ml_scores_key_prefix(columns, relation=none) -%}
    {%- for column in columns -%}
        {{ relation ~ "." if relation }}{{ vm_ident(column) }}, {% endfor -%}
{%- endmacro %}

{#- Null-safe equality of `columns` between two relations (a NULL group value is a group). -#}
{% macro model_ml_scores_same_keys(left, right, columns) -%}
    {%- for column in columns -%}
        {{ left }}.{{ vm_ident(column) }} is not distinct from {{ right }}.{{ vm_ident(column) }} and {% endfor -%}
    true
{%- endmacro %}

{#- Scores of one metric at grouping `by`, one row per group and property in `properties`.
    `state` and `action_state` are int_model_ml_scores__state and __action_state; `where_sql`
    filters their grouping columns before anything is merged. -#}
{% macro model_ml_scores_scores(metric, by, where_sql, properties, state, action_state) -%}
{%- set keys = model_ml_scores_key_prefix(by) -%}
{%- set action_keys = model_ml_scores_key_prefix(by + ([] if 'Name' in by else ['Name'])) -%}
{%- set metric_literal = model_ml_scores_literal(metric.name) -%}
with state_rows as (

    select *
    from {{ state }}
    where metric_name = {{ metric_literal }}
      and property in ({% for p in properties %}{{ model_ml_scores_literal(p) }}{{ ", " if not loop.last }}{% endfor %})
      {%- if where_sql %}
      and ({{ where_sql }})
      {%- endif %}

),

class_totals as (

    select
        {{ keys }}property,
        coalesce(sum(row_count) filter (where y = 1), 0) as positives,
        coalesce(sum(row_count) filter (where y = 0), 0) as negatives
        {%- if metric.use_t_digest %},
        {{ model_ml_scores_merged_digest('score_digest', 'y = 1') }} as positive_digest,
        {{ model_ml_scores_merged_digest('score_digest', 'y = 0') }} as negative_digest
        {%- endif %}
    from state_rows
    group by {{ keys }}property

),

score_entries as (

    select
        {{ keys }}property,
        y,
        unnest(map_keys(score_counts)) as score,
        unnest(map_values(score_counts)) as score_rows
    from state_rows

),

score_counts as (

    select
        {{ keys }}property,
        score,
        coalesce(sum(score_rows) filter (where y = 1), 0) as positives,
        coalesce(sum(score_rows) filter (where y = 0), 0) as negatives
    from score_entries
    group by {{ keys }}property, score

),

ranked_scores as (

    select
        {{ keys }}property,
        score,
        positives,
        negatives,
        coalesce(sum(negatives) over (
            ascending rows between unbounded preceding and 1 preceding), 0) as negatives_below,
        sum(positives) over (
            descending rows between unbounded preceding and current row) as positives_at_or_above,
        sum(negatives) over (
            descending rows between unbounded preceding and current row) as negatives_at_or_above,
        sum(positives) over group_scores as scored_positives,
        sum(negatives) over group_scores as scored_negatives
    from score_counts
    window
        group_scores as (partition by {{ keys }}property),
        ascending as (partition by {{ keys }}property order by score asc),
        descending as (partition by {{ keys }}property order by score desc)

),

{#- Mann-Whitney with ties 1/2, in integers until the final division; AP as scikit-learn:
    sum over descending distinct scores of (recall step) * precision. -#}
ranking_scores as (

    select
        {{ keys }}property,
        sum(positives * (2 * negatives_below + negatives))
            / (2 * any_value(scored_positives) * any_value(scored_negatives)) as roc_auc,
        sum(positives * positives_at_or_above / (positives_at_or_above + negatives_at_or_above) order by score)
            / any_value(scored_positives) as average_precision
    from ranked_scores
    group by {{ keys }}property
    having any_value(scored_positives) > 0 and any_value(scored_negatives) > 0

),
{%- if metric.use_t_digest %}

{{ model_ml_scores_tdigest_ctes(keys) }}
{%- endif %}

action_rows as (

    select *
    from {{ action_state }}
    where metric_name = {{ metric_literal }}
      {%- if where_sql %}
      and ({{ where_sql }})
      {%- endif %}

),

action_set_sizes as (

    select
        {{ action_keys }}offer_set_size,
        sum(offer_sets) as offer_sets
    from action_rows
    group by {{ action_keys }}offer_set_size

),

{#- Per action a: c_a = offer sets containing a; w_a = sum over those sets of 1/sqrt(set size)
    (the action's coordinate in the sum of L2-normalised set vectors); each set of size k adds
    1/k to every one of its k actions, so the shares of a group add up to its number of sets.
    Floating-point sums run in a fixed order, so equal state gives bit-equal scores. -#}
offered_actions as (

    select
        {{ action_keys }}sum(offer_sets) as offer_sets,
        sum(offer_sets / sqrt(offer_set_size) order by offer_set_size) as normalised_weight,
        sum(offer_sets / offer_set_size order by offer_set_size) as offer_set_share
    from action_set_sizes
    group by all

),

action_shares as (

    select
        *,
        round(sum(offer_set_share) over same_group) as offer_set_count
    from offered_actions
    window same_group as (partition by {{ keys }}true)

),

offer_set_totals as (

    select
        {{ keys }}any_value(offer_set_count) as offer_set_count,
        sum(offer_sets) as offered_actions,
        sum(normalised_weight * normalised_weight order by "Name") as normalised_weight_squares,
        sum(offer_sets * log2(offer_set_count / offer_sets) order by "Name") as self_information
    from action_shares
    {%- if by %}
    group by {{ quoted_list(by) }}
    {%- endif %}

),

{#- personalization = 1 - mean cosine similarity over pairs of distinct offer sets
    = 1 - (||sum of normalised set vectors||^2 - m) / (m (m - 1));
    novelty = mean over shown actions of -log2(c_a / m). -#}
offer_scores as (

    select
        {{ keys }}case
            when offer_set_count >= 2
                then 1 - (normalised_weight_squares - offer_set_count) / (offer_set_count * (offer_set_count - 1))
        end as personalization,
        case
            when offer_set_count >= 1 then self_information / offered_actions
        end as novelty
    from offer_set_totals

)

select
    {{ model_ml_scores_key_prefix(by, "class_totals") }}class_totals.property,
    cast(class_totals.positives as bigint) as "Positives",
    cast(class_totals.negatives as bigint) as "Negatives",
    cast(class_totals.positives + class_totals.negatives as bigint) as "Count",
    ranking_scores.roc_auc,
    ranking_scores.average_precision,
    offer_scores.personalization,
    offer_scores.novelty
    {%- if metric.use_t_digest %},
    tdigest_scores.roc_auc_tdigest,
    tdigest_scores.average_precision_tdigest
    {%- endif %}
from class_totals
left join ranking_scores
    on {{ model_ml_scores_same_keys("class_totals", "ranking_scores", by) }}
    and class_totals.property = ranking_scores.property
{%- if metric.use_t_digest %}
left join tdigest_scores
    on {{ model_ml_scores_same_keys("class_totals", "tdigest_scores", by) }}
    and class_totals.property = tdigest_scores.property
{%- endif %}
left join offer_scores
    on {{ model_ml_scores_same_keys("class_totals", "offer_scores", by) }}
{%- endmacro %}

{#- The reference system's t-digest ROC AUC and AP (metrics-spec 5.3), for comparison only:
    per group the class digests' mid-rank CDFs at thresholds 0.00, 0.01, ..., 1.00 plus the
    1.0 DataSketches appends, TPR = 1 - CDF_pos, FPR = 1 - CDF_neg; AUC = trapezoids along the
    thresholds (the ROC polyline; the reference's unstable argsort leaves ties in FPR unordered),
    AP = sum of recall steps times the precision interpolated from the high-recall end. A
    threshold outside a digest's [min, max] has CDF 0 or 1 without reading the digest. -#}
{% macro model_ml_scores_tdigest_ctes(keys) -%}
tdigest_classes as (

    select
        {{ keys }}property,
        positive_digest,
        negative_digest,
        tdigest_count(positive_digest) as positive_weight,
        tdigest_count(negative_digest) as negative_weight,
        tdigest_quantiles(positive_digest, [0.0, 1.0]) as positive_range,
        tdigest_quantiles(negative_digest, [0.0, 1.0]) as negative_range
    from class_totals
    where positive_digest is not null
      and negative_digest is not null

),

tdigest_class_cdfs as (

    select
        *,
        tdigest_cdfs(positive_digest, {{ model_ml_scores_tdigest_thresholds() }}) as positive_cdfs,
        tdigest_cdfs(negative_digest, {{ model_ml_scores_tdigest_thresholds() }}) as negative_cdfs
    from tdigest_classes

),

tdigest_curve as (

    select
        {{ keys }}property,
        threshold_index,
        positive_weight,
        negative_weight,
        1 - {{ model_ml_scores_tdigest_cdf("positive_cdfs", "positive_range", "threshold_index") }} as tpr,
        1 - {{ model_ml_scores_tdigest_cdf("negative_cdfs", "negative_range", "threshold_index") }} as fpr
    from tdigest_class_cdfs
    cross join range(0, 102) as thresholds (threshold_index)

),

tdigest_steps as (

    select
        {{ keys }}property,
        threshold_index,
        tpr,
        fpr,
        lead(tpr) over thresholds_in_order as next_tpr,
        lead(fpr) over thresholds_in_order as next_fpr,
        max(positive_weight * tpr / (positive_weight * tpr + negative_weight * fpr + 1e-10)) over (
            thresholds_in_order rows between unbounded preceding and current row) as interpolated_precision
    from tdigest_curve
    window thresholds_in_order as (partition by {{ keys }}property order by threshold_index)

),

tdigest_scores as (

    select
        {{ keys }}property,
        sum((fpr - next_fpr) * (tpr + next_tpr) / 2 order by threshold_index) as roc_auc_tdigest,
        sum((tpr - next_tpr) * interpolated_precision order by threshold_index) as average_precision_tdigest
    from tdigest_steps
    where threshold_index < 101
    group by {{ keys }}property

),
{%- endmacro %}

{#- The merge of the digests of rows matching `condition`; a lone digest is its own merge (saves
    a Python call per group at the state's grain, where most groups hold one cell). -#}
{% macro model_ml_scores_merged_digest(digest, condition) -%}
    case
        when count({{ digest }}) filter (where {{ condition }}) = 1
            then any_value({{ digest }}) filter (where {{ condition }} and {{ digest }} is not null)
        else tdigest_merge(list({{ digest }}) filter (where {{ condition }}))
    end
{%- endmacro %}

{#- The reference's 101 thresholds 0.00, 0.01, ..., 1.00, as a list literal. -#}
{% macro model_ml_scores_tdigest_thresholds() -%}
    [{% for i in range(101) %}{{ i }} / 100{{ ", " if not loop.last }}{% endfor %}]
{%- endmacro %}

{#- The CDF at threshold `index` from the class's list of CDFs at all thresholds. -#}
{% macro model_ml_scores_tdigest_cdf(cdfs, range, index) -%}
    case
        when {{ index }} = 101 then 1.0
        when {{ index }} / 100 < {{ range }}[1] then 0.0
        when {{ index }} / 100 > {{ range }}[2] then 1.0
        else {{ cdfs }}[{{ index }} + 1]
    end
{%- endmacro %}
