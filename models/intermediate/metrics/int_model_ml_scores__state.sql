{#- Mergeable score state of every model_ml_scores metric: per lowest-grain cell (the metric's
    group_by and the global filters), property and class, the labelled rows, the count of each
    score rounded to 5 significant digits (exact AUC/AP at any grain by summing counts), and a
    t-digest of the exact scores where the metric asks for the reference's t-digest scores. -#}
{%- set metrics = metrics_of_family(vm_config().metrics, 'model_ml_scores') -%}
{%- set group_columns = union_group_columns(metrics) -%}
{%- set digest_metrics = metrics | selectattr('use_t_digest') | map(attribute='name') | list -%}

{%- if metrics | length == 0 %}
select
    cast(null as varchar) as metric_name,
    cast(null as varchar) as property,
    cast(null as integer) as y,
    cast(null as bigint) as row_count,
    cast(null as bigint) as scored_row_count,
    cast(null as map(double, bigint)) as score_counts,
    cast(null as blob) as score_digest
where false
{%- else %}
with labelled_rows as (
    {{ model_ml_scores_cell_rows(metrics, group_columns, ref('int_ih__labelled_interactions'),
                                 ['y'] + model_ml_scores_properties()) }}

),

property_scores as (
    {%- for property in model_ml_scores_properties() %}

    select
        metric_name,
        {{ model_ml_scores_key_prefix(group_columns | map(attribute='name')) }}'{{ property }}' as property,
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
    {{ model_ml_scores_key_prefix(group_columns | map(attribute='name')) }}property,
    y,
    count(*) as row_count,
    count(score) as scored_row_count,
    cast(histogram(score_bin) filter (where score_bin is not null) as map(double, bigint)) as score_counts,
    {%- if digest_metrics %}
    tdigest_build(
        list(score) filter (where score is not null and metric_name in ({{ sql_string_list(digest_metrics) }}))
    ) as score_digest
    {%- else %}
    cast(null as blob) as score_digest
    {%- endif %}
from binned_scores
group by all
{%- endif %}
