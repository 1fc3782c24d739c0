{#- Offer-set state of every model_ml_scores metric, for personalization and novelty. An offer
    set is the set of distinct actions (Name) shown to one customer (SubjectID) within one
    lowest-grain cell; per cell, action and set size, the number of offer sets of that size
    containing the action. Coarser grains sum these counts, so both scores merge exactly and
    never depend on row order. -#}
{%- set metrics = metrics_of_family(vm_config().metrics, 'model_ml_scores') -%}
{%- set group_columns = union_group_columns(metrics) -%}
{%- set group_names = group_columns | map(attribute='name') | list -%}
{%- set offer_columns = ['SubjectID', 'Name'] | reject('in', group_names) | list -%}

{%- if metrics | length == 0 %}
select
    cast(null as varchar) as metric_name,
    cast(null as varchar) as "Name",
    cast(null as bigint) as offer_set_size,
    cast(null as bigint) as offer_sets
where false
{%- else %}
with labelled_rows as (
    {{ model_ml_scores_cell_rows(metrics, group_columns, ref('int_ih__labelled_interactions'), offer_columns) }}

),

offers as (

    select distinct *
    from labelled_rows
    where "SubjectID" is not null
      and "Name" is not null

),

sized_offers as (

    select
        *,
        count(*) over (partition by metric_name, {{ model_ml_scores_key_prefix(group_names) }}"SubjectID") as offer_set_size
    from offers

)

select
    metric_name,
    {{ model_ml_scores_key_prefix(group_names + offer_columns | reject('equalto', 'SubjectID') | list) }}offer_set_size,
    count(*) as offer_sets
from sized_offers
group by all
{%- endif %}
