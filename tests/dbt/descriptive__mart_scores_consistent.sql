{#- mart_descriptive's scores agree with each other wherever both are reported: Min <= p25 <=
    Median <= p75 <= p90 <= p95 <= Max, Min <= Mean <= Max, Var >= 0 and Std^2 = Var (to 1e-9
    relative). -#}
{%- set metrics = metrics_of_family(vm_config().metrics, 'descriptive') -%}
{%- set chain = ['Min', 'p25', 'Median', 'p75', 'p90', 'p95', 'Max'] -%}

{%- set above = '{} > {} + 1e-9 * (1 + abs({}))' -%}

{%- if metrics | length == 0 %}
select 1 as failure where false
{%- else %}
{%- for metric in metrics %}
{%- set scores = metric.output_scores %}
{%- set ordered = chain | select('in', scores) | list %}
{%- set conditions = [] %}
{%- for column in adapter.dispatch('descriptive_described_columns')(metric) %}
    {%- set s = {} %}
    {%- for score in chain + ['Mean', 'Var', 'Std'] %}{%- do s.update({score: vm_ident(column ~ '_' ~ score)}) %}{%- endfor %}
    {%- for i in range(ordered | length - 1) %}
        {%- do conditions.append(above.format(s[ordered[i]], s[ordered[i + 1]], s[ordered[i + 1]])) %}
    {%- endfor %}
    {%- if 'Mean' in scores and 'Min' in scores and 'Max' in scores %}
        {%- do conditions.append(above.format(s['Min'], s['Mean'], s['Mean'])) %}
        {%- do conditions.append(above.format(s['Mean'], s['Max'], s['Max'])) %}
    {%- endif %}
    {%- if 'Var' in scores %}
        {%- do conditions.append(s['Var'] ~ ' < 0') %}
    {%- endif %}
    {%- if 'Var' in scores and 'Std' in scores %}
        {%- do conditions.append('abs(' ~ s['Std'] ~ ' * ' ~ s['Std'] ~ ' - ' ~ s['Var'] ~ ') > 1e-9 * (1 + ' ~ s['Var'] ~ ')') %}
    {%- endif %}
{%- endfor %}
select metric_name, 'inconsistent scores' as failure
from {{ ref('mart_descriptive') }}
where metric_name = {{ vm_string(metric.name) }}
  and ({{ conditions | join('\n    or ') if conditions else 'false' }})
{{ "union all" if not loop.last }}
{%- endfor %}
{%- endif %}
