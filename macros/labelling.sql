{#- The labelled rows of one metric (metric-rules "Labelled rows"): rows whose Outcome is in
    the metric's positive or negative list, after the metric's filter, collapsed to one row per
    (InteractionID, ActionID, Rank) with y = 1 if any is positive (a true dedup, weakness 4).
    The deciding row (earliest positive if y = 1, else earliest negative; by OutcomeTime, then
    Outcome) supplies every other column. -#}
{% macro labelled_rows(metric, relation) -%}
    {%- set positives = metric.positive_model_response -%}
    {%- set outcomes = positives + metric.negative_model_response -%}
    select
        '{{ metric.name }}' as metric_name,
        *
    from (
        select
            case when "Outcome" in ({{ sql_string_list(positives) }}) then 1 else 0 end as y,
            *
        from {{ relation }}
        where "Outcome" in ({{ sql_string_list(outcomes) }})
        {%- if metric.filter_sql %}
          and ({{ metric.filter_sql }})
        {%- endif %}
    ) as outcome_rows
    qualify row_number() over (
        partition by _interaction_key
        order by y desc, "OutcomeTime" asc nulls last, "Outcome" asc
    ) = 1
{%- endmacro %}

{% macro sql_string_list(values) -%}
    {%- for v in values -%}'{{ v | replace("'", "''") }}'{{ ", " if not loop.last }}{%- endfor -%}
{%- endmacro %}
