{#- Model quality (model_ml_scores metrics): the state models and the scores the mart and
    `valuemarts report` share. ROC AUC and average precision are exact at every grain, the
    reference system's t-digest versions sit beside them for comparison, and personalization and
    novelty merge exactly. -#}

{#- The score columns a model is judged on: the choices of `--property` (the same for every
    metric). -#}
{% macro default__model_ml_scores_properties(metric=none) -%}
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
        when {{ expr }} = 0 or not {{ vm_is_finite(expr) }} then {{ expr }}
        else {{ vm_round_to(expr, '4 - cast(floor(log10(abs(' ~ expr ~ '))) as integer)') }}
    end
{%- endmacro %}

{#- The labelled rows of every metric of the family with that metric's grouping columns placed
    in the family's union of grouping columns (NULL where a column is not the metric's), plus
    `columns`; `batched`: only the cells of the current batch (vm_in_batch). -#}
{% macro model_ml_scores_cell_rows(metrics, group_columns, relation, columns, batched=false) -%}
    {%- for metric in metrics %}
    select
        metric_name,
        {%- if group_columns %}
        {{ group_columns_select(metric, group_columns) }},
        {%- endif %}
        {{ quoted_list(columns) }}
    from {{ relation }}
    where metric_name = {{ vm_string(metric.name) }}
      {%- if batched %}
      and {{ vm_in_batch(cell_keys(metric, group_columns)) }}
      {%- endif %}
    {{ "union all" if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Mergeable score state of every model_ml_scores metric: per lowest-grain cell (the metric's
    group_by and the global filters), property and class, the labelled rows, the count of each
    score rounded to 5 significant digits (exact AUC/AP at any grain by summing counts), and a
    t-digest of the exact scores where the metric asks for the reference's t-digest scores. -#}
{% macro model_ml_scores_state(labelled_relation) -%}
{%- set metrics = metrics_of_family(vm_config().metrics, 'model_ml_scores') -%}
{%- set group_columns = union_group_columns(metrics) -%}
{%- set group_names = group_columns | map(attribute='name') | list -%}
{%- set properties = adapter.dispatch('model_ml_scores_properties')() -%}
{%- set digest_metrics = metrics | selectattr('use_t_digest') | map(attribute='name') | list -%}

{%- if metrics | length == 0 %}
select
    cast(null as {{ dbt.type_string() }}) as metric_name,
    cast(null as {{ dbt.type_string() }}) as property,
    cast(null as integer) as y,
    cast(null as bigint) as row_count,
    cast(null as bigint) as scored_row_count,
    cast(null as {{ vm_type('map(double, bigint)') }}) as score_counts,
    cast(null as {{ vm_type('blob') }}) as score_digest
where false
{%- else %}
with labelled_rows as (
    {{ model_ml_scores_cell_rows(metrics, group_columns, labelled_relation, ['y'] + properties, batched=true) }}

),

property_scores as (
    {%- for property in properties %}

    select
        metric_name,
        {{ key_prefix(group_names) }}{{ vm_string(property) }} as property,
        y,
        cast({{ vm_ident(property) }} as double) as score
    from labelled_rows
    {{ "union all" if not loop.last }}
    {%- endfor %}

),

binned_scores as (

    select
        *,
        {{ model_ml_scores_score_bin('score') }} as score_bin
    from property_scores

)

select
    metric_name,
    {{ key_prefix(group_names) }}property,
    y,
    count(*) as row_count,
    count(score) as scored_row_count,
    {{ vm_value_counts('score_bin') }} as score_counts,
    {%- if digest_metrics %}
    tdigest_build(
        {{ vm_list('score') }} filter (where score is not null and metric_name in ({{ sql_string_list(digest_metrics) }}))
    ) as score_digest
    {%- else %}
    cast(null as {{ vm_type('blob') }}) as score_digest
    {%- endif %}
from binned_scores
group by all
{%- endif %}
{%- endmacro %}

{#- Offer-set state of every model_ml_scores metric, for personalization and novelty. An offer
    set is the set of distinct actions (Name) shown to one customer (SubjectID) within one
    lowest-grain cell; per cell, action and set size, the number of offer sets of that size
    containing the action. Coarser grains sum these counts, so both scores merge exactly and
    never depend on row order. -#}
{% macro model_ml_scores_action_state(labelled_relation) -%}
{%- set metrics = metrics_of_family(vm_config().metrics, 'model_ml_scores') -%}
{%- set group_columns = union_group_columns(metrics) -%}
{%- set group_names = group_columns | map(attribute='name') | list -%}
{%- set offer_columns = ['SubjectID', 'Name'] | reject('in', group_names) | list -%}

{%- if metrics | length == 0 %}
select
    cast(null as {{ dbt.type_string() }}) as metric_name,
    cast(null as {{ dbt.type_string() }}) as {{ vm_ident('Name') }},
    cast(null as bigint) as offer_set_size,
    cast(null as bigint) as offer_sets
where false
{%- else %}
with labelled_rows as (
    {{ model_ml_scores_cell_rows(metrics, group_columns, labelled_relation, offer_columns) }}

),

{#- Each cell numbered once, so the offer sets are found on narrow keys (cell, customer, action):
    keyed by the cells' nine or so grouping values, the distinct offers and their sets cost 2.5x
    as much at 5M rows (wide hash keys, spilled). -#}
{%- set cell_keys = (['metric_name'] + quoted_names(group_names)) | join(', ') %}
cells as (

    select {{ cell_keys }}, row_number() over (order by {{ cell_keys }}) as cell_id
    from (select distinct {{ cell_keys }} from labelled_rows) as distinct_cells

),

offers as (

    select distinct cells.cell_id, {{ quoted_list(offer_columns) if offer_columns else "true as any_offer" }}
    from labelled_rows
    inner join cells
        on labelled_rows.metric_name = cells.metric_name
        and {{ same_keys('labelled_rows', 'cells', group_names) }}
    where labelled_rows.{{ vm_ident('SubjectID') }} is not null
      and labelled_rows.{{ vm_ident('Name') }} is not null

),

{#- The offer-set size of each customer per cell, joined back to the customer's offers: a GROUP BY
    and a hash join, which spill, where a window over every offer ran out of memory at 20M rows. -#}
{%- set set_columns = ([] if 'SubjectID' in group_names else ['SubjectID']) %}
offer_set_sizes as (

    select cell_id, {{ key_prefix(set_columns) }}count(*) as offer_set_size
    from offers
    group by all

),

{%- set action_columns = [] if 'Name' in group_names else ['Name'] %}
action_offer_sets as (

    select offers.cell_id, {{ key_prefix(action_columns, 'offers') }}offer_set_sizes.offer_set_size, count(*) as offer_sets
    from offers
    inner join offer_set_sizes
        on offers.cell_id = offer_set_sizes.cell_id
        and {{ same_keys('offers', 'offer_set_sizes', set_columns) }}
    group by all

)

select
    cells.metric_name,
    {{ key_prefix(group_names, 'cells') }}{{ key_prefix(action_columns, 'action_offer_sets') }}action_offer_sets.offer_set_size,
    action_offer_sets.offer_sets
from action_offer_sets
inner join cells on action_offer_sets.cell_id = cells.cell_id
{%- endif %}
{%- endmacro %}

{#- Scores of one metric per group of `by` and property (only `property` when given, one of
    model_ml_scores_properties, and then without a property column). `state` is the score state,
    `helper_states.action_state` the offer-set state; `where_sql` filters their grouping columns
    before anything is merged. -#}
{% macro model_ml_scores_scores(state, metric, by, where_sql=none, property=none, helper_states={}) -%}
{%- set properties = [property] if property else adapter.dispatch('model_ml_scores_properties')(metric) -%}
{%- set keys = key_prefix(by) -%}
{%- set action_keys = key_prefix(by + ([] if 'Name' in by else ['Name'])) -%}
{%- set metric_literal = vm_string(metric.name) -%}
with state_rows as (

    select *
    from {{ state }}
    where metric_name = {{ metric_literal }}
      and property in ({% for p in properties %}{{ vm_string(p) }}{{ ', ' if not loop.last }}{% endfor %})
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
        {{ merged_digest('score_digest', 'y = 1') }} as positive_digest,
        {{ merged_digest('score_digest', 'y = 0') }} as negative_digest
        {%- endif %}
    from state_rows
    group by {{ keys }}property

),

{#- The metric's rows of the state have its own grouping columns only (the others NULL). -#}
{%- set cell_columns = metric.group_columns | map(attribute='name') -%}
{{ adapter.dispatch('model_ml_scores_ranking_ctes', 'valuemarts')(by, cell_columns | reject('in', by) | list | length == 0) }}

{%- if metric.use_t_digest %}

{{ model_ml_scores_tdigest_ctes(keys) }}
{%- endif %}

action_rows as (

    select *
    from {{ helper_states.action_state }}
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
    Floating-point sums are error-compensated (fsum): the order rows arrive in moves a score by
    an ulp at most, and no group is buffered to be sorted (an ordered sum can't spill). -#}
offered_actions as (

    select
        {{ action_keys }}sum(offer_sets) as offer_sets,
        {{ vm_exact_sum('offer_sets / sqrt(offer_set_size)') }} as normalised_weight,
        {{ vm_exact_sum('offer_sets / offer_set_size') }} as offer_set_share
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
        {{ vm_exact_sum('normalised_weight * normalised_weight') }} as normalised_weight_squares,
        {{ vm_exact_sum('offer_sets * log2(offer_set_count / offer_sets)') }} as self_information
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
    {{ key_prefix(by, "class_totals") }}
    {%- if not property %}
    class_totals.property,
    {%- endif %}
    cast(class_totals.positives as bigint) as {{ vm_ident('Positives') }},
    cast(class_totals.negatives as bigint) as {{ vm_ident('Negatives') }},
    cast(class_totals.positives + class_totals.negatives as bigint) as {{ vm_ident('Count') }},
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
    on {{ same_keys("class_totals", "ranking_scores", by) }}
    and class_totals.property = ranking_scores.property
{%- if metric.use_t_digest %}
left join tdigest_scores
    on {{ same_keys("class_totals", "tdigest_scores", by) }}
    and class_totals.property = tdigest_scores.property
{%- endif %}
left join offer_scores
    on {{ same_keys("class_totals", "offer_scores", by) }}
{%- set order_terms = [] %}
{%- for column in by %}{% do order_terms.append('class_totals.' ~ vm_ident(column)) %}{% endfor %}
{{- order_by_groups([], order_terms + ([] if property else ['class_totals.property'])) }}
{%- endmacro %}

{#- The reference system's t-digest ROC AUC and AP (docs/metrics.md#model-quality), for comparison only:
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
        tdigest_quantiles(positive_digest, {{ vm_array(['0.0', '1.0']) }}) as positive_range,
        tdigest_quantiles(negative_digest, {{ vm_array(['0.0', '1.0']) }}) as negative_range
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
        lead(tpr) over (partition by {{ keys }}property order by threshold_index) as next_tpr,
        lead(fpr) over (partition by {{ keys }}property order by threshold_index) as next_fpr,
        max(positive_weight * tpr / (positive_weight * tpr + negative_weight * fpr + 1e-10)) over (
            partition by {{ keys }}property order by threshold_index
            rows between unbounded preceding and current row) as interpolated_precision
    from tdigest_curve

),

tdigest_scores as (

    select
        {{ keys }}property,
        {{ vm_exact_sum('(fpr - next_fpr) * (tpr + next_tpr) / 2') }} as roc_auc_tdigest,
        {{ vm_exact_sum('(tpr - next_tpr) * interpolated_precision') }} as average_precision_tdigest
    from tdigest_steps
    where threshold_index < 101
    group by {{ keys }}property

),
{%- endmacro %}

{#- The reference's 101 thresholds 0.00, 0.01, ..., 1.00, as a list literal. -#}
{% macro model_ml_scores_tdigest_thresholds() -%}
    {%- set thresholds = [] -%}
    {%- for i in range(101) %}{% do thresholds.append(i ~ ' / 100') %}{% endfor -%}
    {{ vm_array(thresholds) }}
{%- endmacro %}

{#- The CDF at threshold `index` from the class's list of CDFs at all thresholds. -#}
{% macro model_ml_scores_tdigest_cdf(cdfs, range, index) -%}
    case
        when {{ index }} = 101 then 1.0
        when {{ index }} / 100 < {{ vm_element(range, 1) }} then 0.0
        when {{ index }} / 100 > {{ vm_element(range, 2) }} then 1.0
        else {{ vm_element(cdfs, index ~ ' + 1') }}
    end
{%- endmacro %}

{#- The CTE `ranking_scores` (the `by` columns, property, roc_auc, average_precision) from
    `state_rows`, ending with a comma: Mann-Whitney AUC with ties 1/2 and scikit-learn's average
    precision per group from its rows' score counts. `per_cell`: `by` holds every grouping column
    of the metric, so a group is one cell of its state, with one state row per class. Then
    DuckDB's vm_ranking_scores_of_counts reads those rows' maps as they are (summing equal scores
    in its one sort), where unnesting them into millions of entries, joining those to their group
    and summing them per score first cost most of the model-quality mart. Coarser groups sum
    their cells' entries per score in SQL first: that shrinks what the UDF gets (5M rows by
    Channel: 0.9 GB peak against 1.35 GB for the maps as they are). -#}
{% macro default__model_ml_scores_ranking_ctes(by, per_cell) -%}
{%- if not per_cell -%}
{{ model_ml_scores_ranking_from_entries(by) }}
{%- else -%}
ranking_scores as (

    select
        {{ key_prefix(by, "group_scores") }}group_scores.property,
        group_scores.scores.roc_auc,
        group_scores.scores.average_precision
    from (
        select
            {{ key_prefix(by) }}property,
            vm_ranking_scores_of_counts({{ vm_list(vm_struct([('y', 'cast(y as integer)'), ('score_counts', 'score_counts')])) }}) as scores
        from state_rows
        group by {{ key_prefix(by) }}property
    ) as group_scores

),
{%- endif -%}
{%- endmacro %}

{#- Spark scores every group from entries summed in SQL (its ranking UDF is vm_ranking_scores). -#}
{% macro spark__model_ml_scores_ranking_ctes(by, per_cell) -%}
{{ model_ml_scores_ranking_from_entries(by) }}
{%- endmacro %}

{#- `ranking_scores` from the score entries of each group, summed per score in SQL. -#}
{% macro model_ml_scores_ranking_from_entries(by) -%}
{%- set keys = key_prefix(by) -%}
{#- One number per group and property: millions of score entries are summed and scored by it
    rather than by all the grouping columns. -#}
score_groups as (

    select
        {{ keys }}property,
        row_number() over (order by {{ keys }}property) as score_group
    from class_totals

),

score_entries as (

    select
        score_groups.score_group,
        state_rows.y,
        {{ vm_map_entries('state_rows.score_counts', 'score', 'score_rows') }}
    from state_rows
    inner join score_groups
        on {{ same_keys("state_rows", "score_groups", by) }}
        and state_rows.property = score_groups.property

),

score_counts as (

    select
        score_group,
        score,
        coalesce(sum(score_rows) filter (where y = 1), 0) as positives,
        coalesce(sum(score_rows) filter (where y = 0), 0) as negatives
    from score_entries
    group by score_group, score

),

{#- Mann-Whitney AUC with ties 1/2 and scikit-learn's average precision per group, from its
    distinct scores' counts (vm_ranking_scores: running sums in one vectorised pass, where a
    window over millions of score entries cost most of the build). -#}
ranking_scores as (

    select
        {{ key_prefix(by, "score_groups") }}score_groups.property,
        group_scores.scores.roc_auc,
        group_scores.scores.average_precision
    from (
        select
            score_group,
            vm_ranking_scores({{ vm_list(vm_struct([('score', 'score'), ('positives', 'cast(positives as bigint)'),
                                                    ('negatives', 'cast(negatives as bigint)')])) }}) as scores
        from score_counts
        group by score_group
    ) as group_scores
    inner join score_groups on group_scores.score_group = score_groups.score_group

),
{%- endmacro %}
