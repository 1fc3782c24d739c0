{#- Helpers shared by the metric families: one copy of each, used by every family's macro file.
    The scoring macros are also rendered by valuemarts.reports.templates outside dbt: there they
    may use only vm_ident, vm_string, adapter.dispatch and return, and a macro that returns a value
    is called through adapter.dispatch (a default__ implementation), the one way such a call works
    in both. Names and values from the config are data: vm_ident and vm_string quote them. -#}

{# ---- names and literals ------------------------------------------------------------------- #}

{#- Comma list of quoted column names (empty string for none). -#}
{% macro quoted_list(names) -%}
    {%- for name in names -%}{{ vm_ident(name) }}{{ ", " if not loop.last }}{%- endfor -%}
{%- endmacro %}

{#- `"a", "b", ` for a non-empty list of columns, nothing for none: a prefix for select and group
    by lists (optionally qualified by `relation`). -#}
{% macro key_prefix(columns, relation=none) -%}
    {%- for column in columns -%}{{ relation ~ "." if relation }}{{ vm_ident(column) }}, {% endfor -%}
{%- endmacro %}

{#- The values of `columns` as one STRUCT (`true` for none): nested values compare NULL as equal,
    so `{{ tuple }} in (select {{ tuple }} ...)` matches NULL group values as a group. -#}
{% macro null_safe_tuple(columns) -%}
    {%- if columns | length == 0 -%}true{%- else -%}
    {%- set fields = [] -%}
    {%- for column in columns -%}{%- do fields.append(('c' ~ loop.index, column)) -%}{%- endfor -%}
    {{ vm_struct(fields) }}
    {%- endif -%}
{%- endmacro %}

{#- The quoted names `names` (qualified by `relation` when given) as a list of SQL expressions, for
    null_safe_tuple and vm_in_batch (dbt only). -#}
{% macro quoted_names(names, relation=none) -%}
    {%- set quoted = [] -%}
    {%- for name in names -%}{%- do quoted.append((relation ~ "." if relation else "") ~ vm_ident(name)) -%}{%- endfor -%}
    {{ return(quoted) }}
{%- endmacro %}

{#- Null-safe equality of `columns` between two relations (a NULL group value is a group). -#}
{% macro same_keys(left, right, columns) -%}
    {%- for column in columns -%}
        {{ left }}.{{ vm_ident(column) }} is not distinct from {{ right }}.{{ vm_ident(column) }} and {% endfor -%}
    true
{%- endmacro %}

{# ---- metrics and their grouping columns (dbt only: they read the compiled config) ----------- #}

{#- The metrics of one family, from the compiled config. -#}
{% macro metrics_of_family(metrics, family) -%}
    {%- set found = [] -%}
    {%- for metric in metrics.values() -%}
        {%- if metric.family == family -%}{%- do found.append(metric) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#- The union of the typed grouping columns (group_by, global filters, the family's key columns)
    over the given metrics, first-seen order: the columns of a family's state, where a column
    outside a metric's grouping is NULL on its rows. -#}
{% macro union_group_columns(metrics) -%}
    {{ return(union_typed_columns(metrics, false)) }}
{%- endmacro %}

{#- The same union over the metrics' group_by only: the grouping columns of a family's mart. -#}
{% macro union_group_by_columns(metrics) -%}
    {{ return(union_typed_columns(metrics, true)) }}
{%- endmacro %}

{% macro union_typed_columns(metrics, group_by_only) -%}
    {%- set seen = [] -%}
    {%- set columns = [] -%}
    {%- for metric in metrics -%}
        {%- for column in metric.group_columns -%}
            {%- if (column.name in metric.group_by or not group_by_only) and column.name not in seen -%}
                {%- do seen.append(column.name) -%}
                {%- do columns.append(column) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- Select list placing one metric's grouping columns into the family's union of columns. -#}
{% macro group_columns_select(metric, union_columns) -%}
    {%- set own = metric.group_columns | map(attribute='name') | list -%}
    {%- for column in union_columns -%}
        {%- if column.name in own -%}
            cast({{ vm_ident(column.name) }} as {{ vm_type(column.type) }}) as {{ vm_ident(column.name) }}
        {%- else -%}
            cast(null as {{ vm_type(column.type) }}) as {{ vm_ident(column.name) }}
        {%- endif -%}
        {{- ",\n        " if not loop.last -}}
    {%- endfor -%}
{%- endmacro %}

{#- The metric's own grouping columns as group_columns_select casts them: the values of one of
    its cells, for vm_in_batch (dbt only). -#}
{% macro cell_keys(metric, union_columns) -%}
    {%- set own = metric.group_columns | map(attribute='name') | list -%}
    {%- set keys = [] -%}
    {%- for column in union_columns if column.name in own -%}
        {%- do keys.append('cast(' ~ vm_ident(column.name) ~ ' as ' ~ vm_type(column.type) ~ ')') -%}
    {%- endfor -%}
    {{ return(keys) }}
{%- endmacro %}

{#- A family without configured metrics still gets its state's and mart's columns from a metric
    with the family's defaults and no grouping, which the compiler writes from the family
    registry (valuemarts/config/families.py); none for a family whose columns come from the config. -#}
{% macro placeholder_metric(family) -%}
    {{ return(vm_config().get('placeholder_metrics', {}).get(family)) }}
{%- endmacro %}

{#- The grain of a family's state: metric_name, the family's union of grouping columns, then
    `extra_columns`; quoted, for the unique_combination_of_columns test. -#}
{% macro metric_state_grain(family, extra_columns=[]) -%}
    {%- set metrics = metrics_of_family(vm_config().metrics, family) -%}
    {%- set placeholder = placeholder_metric(family) -%}
    {%- set grouping = union_group_columns(metrics if metrics else ([placeholder] if placeholder else [])) -%}
    {%- set grain = ['metric_name'] -%}
    {%- for name in (grouping | map(attribute='name') | list) + extra_columns -%}
        {%- if vm_ident(name) not in grain -%}{%- do grain.append(vm_ident(name)) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(grain) }}
{%- endmacro %}

{#- The grain of a family's mart: metric_name, the family's union of group_by columns, the
    columns the metrics name in `settings` (experiment_name, experiment_group), then
    `extra_columns`; quoted, for the unique_combination_of_columns test. -#}
{% macro metric_mart_grain(family, extra_columns=[], settings=[]) -%}
    {%- set metrics = metrics_of_family(vm_config().metrics, family) -%}
    {%- set names = union_group_by_columns(metrics) | map(attribute='name') | list -%}
    {%- for metric in metrics -%}
        {%- for setting in settings -%}{%- do names.append(metric[setting]) -%}{%- endfor -%}
    {%- endfor -%}
    {%- set grain = ['metric_name'] -%}
    {%- for name in names + extra_columns -%}
        {%- if vm_ident(name) not in grain -%}{%- do grain.append(vm_ident(name)) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(grain) }}
{%- endmacro %}

{# ---- the two models every family has ----------------------------------------------------- #}

{#- A family's state: for each of its metrics, the metric's rows in `source_relation` (which has
    a metric_name column) summed per cell of the metric's grouping columns; `measures` are
    aggregate expressions. Cells with zero positives or zero negatives are kept (weakness 7).
    Without a metric of the family: the placeholder's columns, no rows. -#}
{% macro family_state(family, source_relation, measures) -%}
    {%- set metrics = metrics_of_family(vm_config().metrics, family) -%}
    {%- set placeholder = placeholder_metric(family) -%}
    {%- set columns = union_group_columns(metrics if metrics else [placeholder]) -%}
    {%- if metrics | length == 0 %}
select
    cast(null as {{ dbt.type_string() }}) as metric_name,
    {%- for column in columns %}
    cast(null as {{ vm_type(column.type) }}) as {{ vm_ident(column.name) }},
    {%- endfor %}
    {{ measures | join(',\n    ') }}
from {{ source_relation }}
where false
group by {% for i in range(1, columns | length + 2) %}{{ i }}{{ ", " if not loop.last }}{% endfor %}
    {%- else %}
        {%- for metric in metrics %}
select
    metric_name,
    {{ group_columns_select(metric, columns) }},
    {{ measures | join(',\n    ') }}
from {{ source_relation }}
where metric_name = {{ vm_string(metric.name) }}
group by {% for i in range(1, columns | length + 2) %}{{ i }}{{ ", " if not loop.last }}{% endfor %}
{{ "union all" if not loop.last }}
        {%- endfor %}
    {%- endif %}
{%- endmacro %}

{#- A family's mart: each metric scored at its configured grain by `scores_macro` (the family's
    `<family>_scores`, which `valuemarts report` renders too), its group_by columns placed in the
    family's union of group_by columns so metrics with different groupings share one table.
    Without a metric of the family: the placeholder's scores, no rows (only metric_name for a
    family without a placeholder). `where_by_metric` (metric name -> SQL on grouping columns)
    scores only the state rows it keeps (family_mart_model: the groups an append touched). -#}
{% macro family_mart(family, scores_macro, state_relation, helper_states={}, where_by_metric={}) -%}
    {%- set metrics = metrics_of_family(vm_config().metrics, family) -%}
    {%- set columns = union_group_by_columns(metrics) -%}
    {%- set placeholder = placeholder_metric(family) -%}
    {%- if metrics | length == 0 and placeholder is none %}
select cast(null as {{ dbt.type_string() }}) as metric_name
where false
    {%- elif metrics | length == 0 %}
select cast(null as {{ dbt.type_string() }}) as metric_name, scored.*
from (
{{ scores_macro(state_relation, placeholder, [], none, none, helper_states) }}
) as scored
where false
    {%- else %}
        {%- set scored_metrics = [] %}
        {%- for metric in metrics %}
            {%- set scored_metric %}
select
    {{ vm_string(metric.name) }} as metric_name,
    {%- for column in columns %}
    cast({{ "scored." ~ vm_ident(column.name) if column.name in metric.group_by else "null" }} as {{ vm_type(column.type) }}) as {{ vm_ident(column.name) }},
    {%- endfor %}
    {{ vm_star_except('scored', quoted_names(metric.group_by)) }}
from (
{{ scores_macro(state_relation, metric, metric.group_by, where_by_metric.get(metric.name), none, helper_states) }}
) as scored
            {%- endset %}
            {%- do scored_metrics.append(scored_metric) %}
        {%- endfor %}
{{ vm_union_all_by_name(scored_metrics) }}
    {%- endif %}
{%- endmacro %}

{# ---- state rows and arms ------------------------------------------------------------------- #}

{#- The metric's rows of a state relation, filtered by `where_sql` (grouping columns only). -#}
{% macro filtered_state(state_relation, metric, where_sql) -%}
    select * from {{ state_relation }}
    where metric_name = {{ vm_string(metric.name) }}
    {%- if where_sql %} and ({{ where_sql }}){% endif %}
{%- endmacro %}

{#- The CTEs engagement and conversion share: the metric's state rows, filtered, summed per group
    with the Test and Control arms (ModelControlGroup) apart; `extra_sums` add aggregates. -#}
{% macro summed_arms(state_relation, metric, by, where_sql, extra_sums) -%}
    {%- set arm = vm_ident('ModelControlGroup') -%}
with state as (
    {{ filtered_state(state_relation, metric, where_sql) }}
),

sums as (
    select
        {{ key_prefix(by) }}
        coalesce(sum(positives), 0) as positives,
        coalesce(sum(negatives), 0) as negatives,
        coalesce(sum(positives) filter (where {{ arm }} = 'Test'), 0) as positives_test,
        coalesce(sum(positives + negatives) filter (where {{ arm }} = 'Test'), 0) as count_test,
        coalesce(sum(positives) filter (where {{ arm }} = 'Control'), 0) as positives_control,
        coalesce(sum(positives + negatives) filter (where {{ arm }} = 'Control'), 0) as count_control
        {%- for expr in extra_sums %},
        {{ expr }}
        {%- endfor %}
    from state
    {%- if by %}
    group by {{ quoted_list(by) }}
    {%- endif %}
)
{%- endmacro %}

{#- The Test/Control columns of engagement and conversion, in the order of the CLI contract; the
    interval is the pooled rate's. -#}
{% macro lift_columns() -%}
    {{ rate('positives_test', 'count_test') }} as {{ vm_ident('CTR_Test') }},
    {{ rate('positives_control', 'count_control') }} as {{ vm_ident('CTR_Control') }},
    {{ wilson_bound('positives', '(positives + negatives)', -1) }} as {{ vm_ident('CTR_ci_low') }},
    {{ wilson_bound('positives', '(positives + negatives)', 1) }} as {{ vm_ident('CTR_ci_high') }},
    {{ relative_lift('positives_test', 'count_test', 'positives_control', 'count_control') }} as {{ vm_ident('Lift') }},
    {{ two_proportion_z('positives_test', 'count_test', 'positives_control', 'count_control') }} as {{ vm_ident('Lift_Z_Score') }},
    vm_norm_p_two_sided({{ two_proportion_z('positives_test', 'count_test', 'positives_control', 'count_control') }}) as {{ vm_ident('Lift_P_Val') }}
{%- endmacro %}

{#- `order by` the grouping columns `by`, then the SQL terms `then` (nothing without any). -#}
{% macro order_by_groups(by, then=[]) -%}
    {%- set terms = [] -%}
    {%- for name in by %}{% do terms.append(vm_ident(name)) %}{% endfor -%}
    {%- for term in then %}{% do terms.append(term) %}{% endfor -%}
    {%- if terms %}
order by {{ terms | join(', ') }}
    {%- endif -%}
{%- endmacro %}

{# ---- statistics of proportions (arguments are SQL expressions; NULL where undefined) ------ #}

{#- positives / count, NULL when count is 0. -#}
{% macro rate(positives, count) -%}
    cast({{ positives }} as double) / nullif({{ count }}, 0)
{%- endmacro %}

{#- Wilson score interval bound at 95% (side = -1 low, +1 high). -#}
{% macro wilson_bound(positives, count, side) -%}
    case when {{ count }} > 0 then
        (
            {{ rate(positives, count) }} + power(1.959963984540054, 2) / (2.0 * {{ count }})
            {{ '-' if side < 0 else '+' }} 1.959963984540054 * sqrt(
                {{ rate(positives, count) }} * (1 - {{ rate(positives, count) }}) / {{ count }}
                + power(1.959963984540054, 2) / (4.0 * power({{ count }}, 2))
            )
        ) / (1 + power(1.959963984540054, 2) / {{ count }})
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

{# ---- t-digests ----------------------------------------------------------------------------- #}

{#- The merge of the digests of the rows matching `condition` (all rows without one); a lone
    digest is its own merge (saves a Python call per group at the state's grain, where most
    groups hold one cell). -#}
{% macro merged_digest(digest, condition=none) -%}
    {%- set only = " filter (where " ~ condition ~ ")" if condition else "" -%}
    case
        when count({{ digest }}){{ only }} = 1 then any_value({{ digest }}){{ only }}
        else tdigest_merge({{ vm_list(digest) }}{{ only }})
    end
{%- endmacro %}

{#- The family's labelled rows (int_ih__labelled_interactions) with the interactions narrowed to
    the current batch's cells of any of its metrics before the join, for a batched state model:
    filtering the joined rows instead joined every row once per batch. The state's own per-metric
    vm_in_batch keeps each metric's cells exact. -#}
{% macro labelled_rows_in_batch(family) -%}
    {%- set metrics = metrics_of_family(vm_config().metrics, family) -%}
    {%- set columns = union_group_columns(metrics) -%}
    {%- set in_batch = [] -%}
    {%- for metric in metrics -%}{%- do in_batch.append(vm_in_batch(cell_keys(metric, columns))) -%}{%- endfor -%}
    {%- set interactions = ref('int_ih__interactions') -%}
(
{{ labelled_rows_of('(select * from ' ~ interactions ~ ' where ' ~ (in_batch | join(' or ') or 'true') ~ ')') }}
)
{%- endmacro %}

{# ---- appends: recomputing only the cells a run touches ------------------------------------ #}

{#- The models touched_cells_ctes reads. A model using it calls this first, unconditionally, so
    dbt sees them when it parses (the CTEs render only on an append). -#}
{% macro touched_cells_refs() -%}
    {{ return([ref('int_ih__changes'), ref('int_ih__interactions'), ref('int_ih__labelled_keys')]) }}
{%- endmacro %}

{#- The rows ('label': labelled rows, metric_name and y with the interaction's columns;
    'interaction': interactions) this run built, and those int_ih__changes retracted: an append's
    changes to every state. -#}
{% macro rows_built_now(rows) -%}
    {%- set changes, interactions, labelled_keys = touched_cells_refs() -%}
    {%- if rows == 'label' %}
    select labelled_keys.metric_name, labelled_keys.y, interactions.*
    from {{ labelled_keys }} as labelled_keys
    inner join {{ interactions }} as interactions on labelled_keys._row_key = interactions._row_key
    where labelled_keys.{{ vm_built_now() }}
    {%- else %}
    select * from {{ interactions }} where {{ vm_built_now() }}
    {%- endif %}
{%- endmacro %}

{% macro rows_retracted(rows) -%}
    select {{ vm_star_except(none, ['change_kind']) }} from {{ touched_cells_refs()[0] }} where change_kind = {{ vm_string(rows) }}
{%- endmacro %}

{#- The CTEs `changed_rows` and `touched_cells` (one row per touched metric and cell of the
    family's union of grouping columns) for a family whose state reads `rows` ('label':
    labelled rows; 'interaction': all interactions). A cell is touched when a row or label
    int_ih__changes retracts falls in it, or one built now does, or, given `linked_by` (columns;
    label rows only), a labelled row sharing their values with a touched positive row (a
    conversion's touchpoints count every positive row of its customer and event). Ends with a
    comma, ready for more CTEs. -#}
{% macro touched_cells_ctes(metrics, columns, rows, linked_by=[]) -%}
    {%- set changes, interactions, labelled_keys = touched_cells_refs() -%}
changed_rows as (
{{ vm_union_all_by_name([rows_retracted(rows), rows_built_now(rows)]) }}
),
{%- if linked_by %}

changed_links as (

    select distinct metric_name, {{ quoted_list(linked_by) }}
    from changed_rows
    where y = 1

),

{%- set linked_labels -%}
    select labelled_keys.metric_name, labelled_keys.y, linked_interactions.*
    from (
        select interactions.*
        from {{ interactions }} as interactions
        {{ vm_semi_join() }} changed_links on {{ same_keys('interactions', 'changed_links', linked_by) }}
    ) as linked_interactions
    inner join {{ labelled_keys }} as labelled_keys on labelled_keys._row_key = linked_interactions._row_key
    {{ vm_semi_join() }} changed_links
        on labelled_keys.metric_name = changed_links.metric_name
        and {{ same_keys('linked_interactions', 'changed_links', linked_by) }}
{%- endset %}

linked_rows as (
{{ vm_union_all_by_name(['select * from changed_rows', linked_labels]) }}
),
{%- endif %}

touched_cells as (
    {%- for metric in metrics %}

    select distinct
        {{ vm_string(metric.name) }} as metric_name,
        {{ group_columns_select(metric, columns) }}
    from {{ 'linked_rows' if linked_by else 'changed_rows' }}
    where {% if rows == 'label' %}metric_name = {{ vm_string(metric.name) }}{% else %}({{ metric.filter_sql or 'true' }}){% endif %}
    {{ "union" if not loop.last }}
    {%- endfor %}

),
{%- endmacro %}

{#- The previous copy of this model without the rows of `touched` (a CTE of metric_name and
    `columns`), then `recomputed`'s rows of `touched`: a model merged with what a run changed.
    Matched as one value per row (null_safe_tuple) with NOT IN / IN, which build their hash table
    on `touched`: an anti join may build it on the previous rows instead, and the model-quality
    state's rows (score histograms) then outgrew the memory limit. A model that appends in place
    (`appends_insert`) gives the recomputed rows only: its pre-hook delete_touched deleted the
    rows they replace. -#}
{% macro merged_with_previous(previous, recomputed, touched, columns) -%}
    {%- set names = ['metric_name'] + columns -%}
    {%- set touched_key = null_safe_tuple(quoted_names(names, touched)) -%}
{%- set kept -%}
select previous_rows.*
from {{ previous }} as previous_rows
where {{ null_safe_tuple(quoted_names(names, 'previous_rows')) }} not in (select {{ touched_key }} from {{ touched }})
{%- endset -%}
{%- set replacing -%}
select {{ recomputed }}.*
from {{ recomputed }}
where {{ null_safe_tuple(quoted_names(names, recomputed)) }} in (select {{ touched_key }} from {{ touched }})
{%- endset -%}
{%- if config.get('appends_insert') -%}
{{ replacing }}
{%- else -%}
{{ vm_union_all_by_name([kept, replacing]) }}
{%- endif -%}
{%- endmacro %}

{#- A family's state model. On a first build or a full refresh: `state_macro` over all of
    `source` (rows with the family's grouping columns and `_row_key`; labelled sources carry
    metric_name and y). Afterwards: the previous state, except the cells this run touches
    (touched_cells_ctes), which are recomputed from all their rows. Recomputing whole cells makes
    appends equal full rebuilds for every measure, digests and offer sets included, and running
    the model twice changes nothing. A state whose measures are all `counts` (bigint sums of
    rows) merges instead (state_plus_changes): the previous state plus the rows built now minus
    those retracted, which costs the new rows, not the cells' history. For a labelled source (`rows` 'label': the labelled rows,
    or rows `source_of`, a macro of (rows, all labelled rows), derives from them) an append joins
    the labels to the touched cells' interactions only, not every interaction to its labels and
    then filters (which, wide rows and all, outgrew the memory limit at 20M rows). -#}
{% macro family_state_model(family, state_macro, source, rows, linked_by=[], source_of=none, counts=[]) -%}
    {%- set interactions = touched_cells_refs()[1] -%}
    {%- set previous = vm_previous(this.identifier) -%}
    {%- set metrics = metrics_of_family(vm_config().metrics, family) -%}
    {%- if previous is none or metrics | length == 0 %}
{{ state_macro(source) }}
    {%- elif counts %}
{{ state_plus_changes(previous, state_macro, ['metric_name'] + quoted_names(union_group_columns(metrics) | map(attribute='name') | list),
                      rows, counts) }}
    {%- else -%}
    {%- set columns = union_group_columns(metrics) -%}
with {{ touched_cells_ctes(metrics, columns, rows, linked_by) }}

row_keys_in_touched_cells as (
    {%- for metric in metrics %}
    {%- set own = metric.group_columns | map(attribute='name') | list %}

    select interactions._row_key
    from {{ interactions }} as interactions
    {{ vm_semi_join() }} touched_cells
        on touched_cells.metric_name = {{ vm_string(metric.name) }}
        {%- for column in columns if column.name in own %}
        and cast(interactions.{{ vm_ident(column.name) }} as {{ vm_type(column.type) }}) is not distinct from touched_cells.{{ vm_ident(column.name) }}
        {%- endfor %}
    {{ "union" if not loop.last }}
    {%- endfor %}

),

rows_in_touched_cells as (
    {%- if rows == 'label' %}
    {%- set touched_rows = labelled_rows_of('(select * from ' ~ interactions ~ ' where _row_key in (select _row_key from row_keys_in_touched_cells))') %}
    {%- if source_of %}

    {{ source_of('(' ~ touched_rows ~ ')', ref('int_ih__labelled_interactions')) }}
    {%- else %}

    {{ touched_rows }}
    {%- endif %}
    {%- else %}

    select * from {{ source }}
    where _row_key in (select _row_key from row_keys_in_touched_cells)
    {%- endif %}

),

recomputed as (
{{ state_macro('rows_in_touched_cells') }}
)

{{ merged_with_previous(previous, 'recomputed', 'touched_cells', columns | map(attribute='name') | list) }}
    {%- endif %}
{%- endmacro %}

{#- Pre-hook of a state or mart model that appends in place (vm_batched_table with
    `appends_insert`): on an append, delete what the model then inserts recomputed, the cells
    this run touches (a state) or the groups holding one (a mart, `groups`), so the rest of a big
    table (score maps, digests) is not rewritten. `family`, `rows` and `linked_by` as for
    family_state_model. -#}
{% macro delete_touched(family, rows, linked_by=[], groups=false) -%}
    {%- set metrics = metrics_of_family(vm_config().metrics, family) -%}
    {%- if vm_previous(this.identifier) is none or metrics | length == 0 -%}
select 1
    {%- else -%}
    {%- set columns = union_group_columns(metrics) -%}
    {%- set key_columns = union_group_by_columns(metrics) if groups else columns -%}
    {%- set names = ['metric_name'] + key_columns | map(attribute='name') | list -%}
    {%- set touched = 'touched_groups' if groups else 'touched_cells' -%}
delete from {{ this }}
where {{ null_safe_tuple(quoted_names(names)) }} in (
    with {{ touched_cells_ctes(metrics, columns, rows, linked_by) }}
    {%- if groups %}

    {{ touched_groups_cte(metrics, key_columns) }},
    {%- endif %}

    touched_keys as (select {{ null_safe_tuple(quoted_names(names, touched)) }} as touched_key from {{ touched }})

    select touched_key from touched_keys
)
    {%- endif -%}
{%- endmacro %}

{#- The previous state plus `state_macro` over the rows this run built minus it over the rows it
    retracted, summed per cell (`names`, the state's key columns as SQL), for a state whose
    measures are all `counts` (bigint sums over rows): exact, as counts add and subtract, and a
    cell left with no rows is dropped, as a full build would not have it. -#}
{% macro state_plus_changes(previous, state_macro, names, rows, counts) -%}
with rows_built_now as (
{{ rows_built_now(rows) }}
),

rows_retracted as (
{{ rows_retracted(rows) }}
),

state_built_now as (
{{ state_macro('rows_built_now') }}
),

state_retracted as (
{{ state_macro('rows_retracted') }}
),

signed_counts as (
    select {{ names | join(', ') }}, {{ counts | join(', ') }} from {{ previous }}
    union all
    select {{ names | join(', ') }}, {{ counts | join(', ') }} from state_built_now
    union all
    select {{ names | join(', ') }}{% for count in counts %}, -{{ count }} as {{ count }}{% endfor %} from state_retracted
)

select
    {{ names | join(', ') }},
    {%- for count in counts %}
    cast(sum({{ count }}) as bigint) as {{ count }}{{ "," if not loop.last }}
    {%- endfor %}
from signed_counts
group by {{ names | join(', ') }}
having {% for count in counts %}sum({{ count }}) <> 0{{ " or " if not loop.last }}{% endfor %}
{%- endmacro %}

{#- A family's mart model: family_mart on a first build or a full refresh; afterwards the previous
    mart with the groups (each metric's group_by) holding a touched cell scored again from the
    state, so an append scores the groups it changed, not every group. For marts whose scores run
    Python UDFs per group; a mart scored in SQL from a small state costs less scored whole
    (family_mart). `rows` as for the family's state model; `batched` scores a full build's groups
    batch by batch (materialized vm_batched_table). With `appends_insert` an append gives the
    rescored groups only, for vm_batched_table to insert after the pre-hook delete_touched
    deleted them. -#}
{% macro family_mart_model(family, scores_macro, state_relation, rows, helper_states={}, batched=false) -%}
    {%- do touched_cells_refs() -%}
    {%- set previous = vm_previous(this.identifier) -%}
    {%- set metrics = metrics_of_family(vm_config().metrics, family) -%}
    {%- if previous is none or metrics | length == 0 %}
    {%- set batch_of = {} -%}
    {%- for metric in metrics if batched -%}
        {%- do batch_of.update({metric.name: vm_in_batch(quoted_names(metric.group_by))}) -%}
    {%- endfor %}
{{ family_mart(family, scores_macro, state_relation, helper_states, batch_of) }}
    {%- else -%}
    {%- set group_by_columns = union_group_by_columns(metrics) -%}
    {%- set only = {} -%}
    {%- for metric in metrics -%}
        {%- set key = null_safe_tuple(quoted_names(metric.group_by)) -%}
        {%- do only.update({metric.name: key ~ ' in (select ' ~ key ~ ' from touched_cells where metric_name = '
                                            ~ vm_string(metric.name) ~ ')'}) -%}
    {%- endfor %}
with {{ touched_cells_ctes(metrics, union_group_columns(metrics), rows) }}

{{ touched_groups_cte(metrics, group_by_columns) }},

rescored as (
{{ family_mart(family, scores_macro, state_relation, helper_states, only) }}
)

{{ merged_with_previous(previous, 'rescored', 'touched_groups', group_by_columns | map(attribute='name') | list) }}
    {%- endif %}
{%- endmacro %}

{#- The CTE `touched_groups`: per metric, the groups of its group_by (in the family's union of
    group_by columns) holding a cell of `touched_cells`. -#}
{% macro touched_groups_cte(metrics, group_by_columns) -%}
touched_groups as (
    {%- for metric in metrics %}

    select distinct
        metric_name,
        {%- for column in group_by_columns %}
        cast({{ vm_ident(column.name) if column.name in metric.group_by else 'null' }} as {{ vm_type(column.type) }}) as {{ vm_ident(column.name) }},
        {%- endfor %}
        true as touched
    from touched_cells
    where metric_name = {{ vm_string(metric.name) }}
    {{ "union" if not loop.last }}
    {%- endfor %}

)
{%- endmacro %}
