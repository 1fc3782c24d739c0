{#- The labelled rows with every column of their deciding row: what the metric state models
    aggregate. A view: the narrow keys are stored once, the wide rows only joined when read. -#}
{{ config(materialized='view') }}

with labelled_keys as (

    select * from {{ ref('int_ih__labelled_keys') }}

),

interactions as (

    select * from {{ ref('int_ih__interactions') }}

)

select
    labelled_keys.metric_name,
    labelled_keys.y,
    interactions.*
from labelled_keys
inner join interactions on labelled_keys._row_key = interactions._row_key
