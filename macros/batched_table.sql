{#- Bounded memory for models whose aggregates hold their inputs: list() feeding a Python UDF (the
    t-digests, the ranking scores) and histogram() keep every value of a group in memory until
    the group is done, and DuckDB cannot spill them, so one statement over all of a big history
    outgrows any memory limit. Such a model filters its groups with vm_in_batch(keys), and this
    materialization runs it once per batch of groups (by hash of the group keys) into one new
    table, so a statement holds one batch. Every group falls in exactly one batch: the table is
    the same as from one statement. Batches: one per `rows_per_batch` (config) rows of
    int_ih__interactions, on a first build or a full refresh; a model that merges its previous
    copy (an append) runs as one statement, since the previous rows it keeps belong to no batch.
    With `appends_insert` an append inserts the model's rows into the table as it is (its pre-hook
    deletes the rows they replace) instead of rewriting it whole. -#}

{#- True for the rows of the current batch's groups; `keys` are SQL expressions of a group's
    values (as grouped). True for every row outside a batched run (reports, plain selects). -#}
{% macro vm_in_batch(keys) -%}{{ adapter.dispatch('vm_in_batch', 'valuemarts')(keys) }}{%- endmacro %}

{% macro default__vm_in_batch(keys) -%}
    (getvariable('vm_batches') is null
     or hash({{ keys | join(', ') if keys else "''" }}) % getvariable('vm_batches') = getvariable('vm_batch'))
{%- endmacro %}

{#- Interactions per batch: VALUEMARTS_ROWS_PER_BATCH, default 1.5M, where one statement's lists
    stay inside the default 512 MB memory limit. -#}
{#- Spark spills a group's collected values and spreads groups over its executors: every model
    runs as one statement. -#}
{% macro spark__vm_in_batch(keys) -%}true{%- endmacro %}

{% macro vm_rows_per_batch() -%}
    {{ return(env_var('VALUEMARTS_ROWS_PER_BATCH', '1500000') | int) }}
{%- endmacro %}

{% macro vm_batch_count(appending) -%}
    {%- set rows_per_batch = config.get('rows_per_batch') -%}
    {%- if not execute or not rows_per_batch or appending -%}
        {{ return(1) }}
    {%- endif -%}
    {%- set counted = run_query('select count(*) from ' ~ ref('int_ih__interactions')) -%}
    {%- set rows = counted.columns[0].values()[0] -%}
    {{ return([1, ((rows + rows_per_batch - 1) // rows_per_batch) | int] | max) }}
{%- endmacro %}

{% macro vm_reset_batch() -%}
    {%- do run_query('reset variable vm_batches') -%}
    {%- do run_query('reset variable vm_batch') -%}
{%- endmacro %}

{% materialization vm_batched_table, adapter='duckdb' %}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
  {%- set backup_relation = make_backup_relation(target_relation, 'table') -%}
  {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
  {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}
  {%- set appending = existing_relation is not none and not flags.FULL_REFRESH -%}
  {#- The model's pre-hook deleted what this run recomputes; its rows go into the table as it is. #}
  {%- set in_place = appending and config.get('appends_insert') -%}
  {%- set batches = vm_batch_count(appending) -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {#- An append merges a few touched cells into a big previous copy: its IN / semi joins must
      build on the touched cells, but DuckDB's build-side optimizer may flip them to build on the
      previous rows (whole score histograms and digests), which ran a 20M-row append out of memory.
      Set afresh by every batched model, as is the batch: a failed one may have left them behind. -#}
  {% do run_query("set disabled_optimizers = '" ~ ("build_side_probe_side" if appending else "") ~ "'") %}
  {%- if batches > 1 %}
    {% do run_query('set variable vm_batches = ' ~ batches) %}
    {% do run_query('set variable vm_batch = 0') %}
  {%- else %}
    {% do vm_reset_batch() %}
  {%- endif %}
  {% call statement('main') -%}
    {%- if in_place %}
    insert into {{ target_relation }} by name
    {{ compiled_code }}
    {%- else %}
    {{ create_table_as(False, intermediate_relation, compiled_code) }}
    {%- endif %}
  {%- endcall %}
  {%- for batch in range(1, batches) %}
    {% call statement('batch_' ~ batch) -%}
      set variable vm_batch = {{ batch }};
      insert into {{ intermediate_relation }} by name
      {{ compiled_code }}
    {%- endcall %}
  {%- endfor %}
  {% do vm_reset_batch() %}
  {% do run_query("set disabled_optimizers = ''") %}

  {% if existing_relation is not none and not in_place %}
    {{ adapter.rename_relation(existing_relation, backup_relation) }}
  {% endif %}
  {%- if not in_place %}
  {{ adapter.rename_relation(intermediate_relation, target_relation) }}
  {%- endif %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do persist_docs(target_relation, model) %}
  {{ adapter.commit() }}
  {{ drop_relation_if_exists(backup_relation) }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{#- On Spark a batched model is a plain table (spark__vm_in_batch keeps every row). -#}
{% materialization vm_batched_table, adapter='spark' %}
  {{ return(materialization_table_spark()) }}
{% endmaterialization %}
