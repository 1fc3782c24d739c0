{#- The score state accounts for every labelled row of every model_ml_scores metric: per metric
    and property, its row counts equal the labelled rows and the rows with a score, and each state
    row's score counts add up to its scored rows. -#}
{%- set metrics = metrics_of_family(vm_config().metrics, 'model_ml_scores') -%}
{%- if metrics | length == 0 %}
select 1 as failure where false
{%- else %}
{#- Counted without joining every labelled row to its interaction (the largest join of a build,
    again): each metric's labelled rows, less those whose deciding row has no score for the
    property, which are few. A label always has its row (built_rows_reference). -#}
{%- set properties = adapter.dispatch('model_ml_scores_properties')() %}
with metric_labels as (

    select metric_name, _row_key
    from {{ ref('int_ih__labelled_keys') }}
    where metric_name in ({{ sql_string_list(metrics | map(attribute='name') | list) }})

),

rows_without_a_score as (

    select
        _row_key,
        {%- for property in properties %}
        {{ vm_ident(property) }} is null as {{ vm_ident('no_' ~ property) }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('int_ih__interactions') }}
    where {% for property in properties %}{{ vm_ident(property) }} is null{{ " or " if not loop.last }}{% endfor %}

),

label_counts as (

    select metric_name, count(*) as row_count
    from metric_labels
    group by metric_name

),

unscored_label_counts as (

    select
        metric_labels.metric_name,
        {%- for property in properties %}
        count(*) filter (where rows_without_a_score.{{ vm_ident('no_' ~ property) }}) as {{ vm_ident('unscored_' ~ property) }}{{ "," if not loop.last }}
        {%- endfor %}
    from metric_labels
    inner join rows_without_a_score on metric_labels._row_key = rows_without_a_score._row_key
    group by metric_labels.metric_name

),

labelled_totals as (
    {%- for property in properties %}

    select
        label_counts.metric_name,
        {{ vm_string(property) }} as property,
        label_counts.row_count,
        label_counts.row_count - coalesce(unscored_label_counts.{{ vm_ident('unscored_' ~ property) }}, 0) as scored_row_count
    from label_counts
    left join unscored_label_counts on label_counts.metric_name = unscored_label_counts.metric_name
    {{ "union all" if not loop.last }}
    {%- endfor %}

),

state_totals as (

    select
        metric_name,
        property,
        sum(row_count) as row_count,
        sum(scored_row_count) as scored_row_count
    from {{ ref('mart_model_ml_scores__state') }}
    group by metric_name, property

),

unbalanced_rows as (

    select metric_name, property, 'score counts do not add up to scored_row_count' as failure
    from {{ ref('mart_model_ml_scores__state') }}
    where coalesce({{ vm_list_sum('map_values(score_counts)') }}, 0) != scored_row_count

)

select
    coalesce(labelled_totals.metric_name, state_totals.metric_name) as metric_name,
    coalesce(labelled_totals.property, state_totals.property) as property,
    'state totals differ from the labelled rows' as failure
from labelled_totals
full outer join state_totals
    on labelled_totals.metric_name = state_totals.metric_name
    and labelled_totals.property = state_totals.property
where labelled_totals.row_count is distinct from state_totals.row_count
   or labelled_totals.scored_row_count is distinct from state_totals.scored_row_count

union all

select * from unbalanced_rows
{%- endif %}
