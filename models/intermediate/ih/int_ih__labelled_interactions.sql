{#- The labelled rows with every column of their deciding row: what the metric state models
    aggregate. A view: the narrow keys are stored once, the wide rows only joined when read. -#}
{{ config(materialized='view') }}
{{ labelled_rows_of(ref('int_ih__interactions')) }}
