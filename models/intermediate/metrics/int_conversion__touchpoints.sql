{#- Labelled rows of the conversion metrics with their touchpoints (conversion_touchpoints): what
    a full build of the conversion state aggregates. A view: an append computes the touchpoints of
    only the events of the cells it recomputes. -#}
{{ config(materialized='view') }}
{%- set labelled = ref('int_ih__labelled_interactions') -%}
{{ conversion_touchpoints(labelled, labelled) }}
