{#- The compiled config of each CLV metric as JSON, so the Python models (which cannot call
    vm_config()) read the same settings as the SQL models. -#}
{%- set metrics = metrics_of_family(vm_config().metrics, 'clv') -%}

{%- if metrics %}
    {%- for metric in metrics %}
select
    {{ vm_string(metric.name) }} as metric_name,
    {{ vm_string(tojson(metric)) }} as config_json
{{ "union all" if not loop.last }}
    {%- endfor %}
{%- else %}
select
    cast(null as {{ dbt.type_string() }}) as metric_name,
    cast(null as {{ dbt.type_string() }}) as config_json
where false
{%- endif %}
