{#- The score state accounts for every labelled row of every model_ml_scores metric: per metric
    and property, its row counts equal the labelled rows and the rows with a score, and each state
    row's score counts add up to its scored rows. -#}
{%- set metrics = metrics_of_family(vm_config().metrics, 'model_ml_scores') -%}
{%- if metrics | length == 0 %}
select 1 as failure where false
{%- else %}
with labelled_totals as (

    {%- for property in adapter.dispatch('model_ml_scores_properties')() %}
    select
        metric_name,
        {{ vm_string(property) }} as property,
        count(*) as row_count,
        count({{ vm_ident(property) }}) as scored_row_count
    from {{ ref('int_ih__labelled_interactions') }}
    where metric_name in ({{ sql_string_list(metrics | map(attribute='name') | list) }})
    group by metric_name
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
