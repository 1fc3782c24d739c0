{#- Closed-form statistics of proportions, shared by the engagement, conversion and experiment
    scorers. Arguments are SQL expressions; every result is NULL where it is undefined. -#}

{#- positives / count, NULL when count is 0. -#}
{% macro rate(positives, count) -%}
    cast({{ positives }} as double) / nullif({{ count }}, 0)
{%- endmacro %}

{#- Wilson score interval bound at 95% (side = -1 low, +1 high). -#}
{% macro wilson_bound(positives, count, side) -%}
    case when {{ count }} > 0 then
        (
            {{ rate(positives, count) }} + 1.959963984540054 ^ 2 / (2.0 * {{ count }})
            {{ '-' if side < 0 else '+' }} 1.959963984540054 * sqrt(
                {{ rate(positives, count) }} * (1 - {{ rate(positives, count) }}) / {{ count }}
                + 1.959963984540054 ^ 2 / (4.0 * {{ count }} ^ 2)
            )
        ) / (1 + 1.959963984540054 ^ 2 / {{ count }})
    end
{%- endmacro %}

{#- Pooled two-proportion z statistic, positive when arm a beats arm b; n = count of each arm.
    NULL when an arm is empty or the pooled rate is 0 or 1 (zero variance). -#}
{% macro two_proportion_z(positives_a, count_a, positives_b, count_b) -%}
    case when {{ count_a }} > 0 and {{ count_b }} > 0
              and ({{ positives_a }} + {{ positives_b }}) > 0
              and ({{ positives_a }} + {{ positives_b }}) < ({{ count_a }} + {{ count_b }}) then
        ({{ rate(positives_a, count_a) }} - {{ rate(positives_b, count_b) }})
        / sqrt(
            {{ rate(positives_a ~ ' + ' ~ positives_b, '(' ~ count_a ~ ' + ' ~ count_b ~ ')') }}
            * (1 - {{ rate(positives_a ~ ' + ' ~ positives_b, '(' ~ count_a ~ ' + ' ~ count_b ~ ')') }})
            * (1.0 / {{ count_a }} + 1.0 / {{ count_b }})
        )
    end
{%- endmacro %}

{#- rate_a / rate_b - 1, NULL when rate_b is 0 or undefined. -#}
{% macro relative_lift(positives_a, count_a, positives_b, count_b) -%}
    {{ rate(positives_a, count_a) }} / nullif({{ rate(positives_b, count_b) }}, 0) - 1
{%- endmacro %}
