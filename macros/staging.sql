{#- Staging helpers: the reference system's column renaming rule, typing and default values. -#}

{#- Lineage columns the loader adds to every landing row; never renamed or typed. -#}
{% macro lineage_columns() -%}
    {{ return(['_file_path', '_file_group', '_file_seq', '_load_id', '_row_in_file']) }}
{%- endmacro %}

{#- Strip a leading px/py/pz unless the stripped name is itself a column, then upper-case the
    first letter (docs/metrics.md#staging-rules; the reference's suffix step is a no-op, weakness 14). -#}
{% macro pega_column_name(raw_name, raw_names) -%}
    {%- set stripped = modules.re.sub('^p[xyz]', '', raw_name) -%}
    {%- set kept = raw_name if (stripped != raw_name and stripped in raw_names) else stripped -%}
    {{ return(kept[:1] | upper ~ kept[1:]) }}
{%- endmacro %}

{#- Cast one landing column to the type staging promises. -#}
{% macro stage_cast(expr, data_type) -%}
    {%- if data_type | lower == 'timestamptz' -%}
        {{ parse_pega_timestamp(expr) }}
    {%- else -%}
        cast({{ expr }} as {{ vm_type(data_type) }})
    {%- endif -%}
{%- endmacro %}

{#- The select list of a staging model: every landing column renamed, known columns typed,
    default values filling nulls, and absent known or defaulted columns added, so downstream
    models can rely on them. `side` is the compiled config's ih or holdings section. -#}
{% macro staged_select_list(relation, side) -%}
    {%- set lineage = lineage_columns() -%}
    {%- set raw_names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- if column.name not in lineage and column.name not in side.drop_columns -%}
            {%- do raw_names.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set defaults = side.default_values -%}
    {%- set types = side.column_types -%}
    {%- set emitted = [] -%}
    {%- set items = [] -%}
    {%- for raw in raw_names -%}
        {%- set name = pega_column_name(raw, raw_names) -%}
        {%- if name not in emitted -%}
            {%- set expr = vm_ident(raw) -%}
            {%- if name in types -%}{%- set expr = stage_cast(expr, types[name]) -%}{%- endif -%}
            {%- if name in defaults -%}{%- set expr = 'coalesce(' ~ expr ~ ', ' ~ defaults[name] ~ ')' -%}{%- endif -%}
            {%- do items.append(expr ~ ' as ' ~ vm_ident(name)) -%}
            {%- do emitted.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name, data_type in types.items() -%}
        {%- if name not in emitted -%}
            {%- set expr = defaults[name] if name in defaults else 'null' -%}
            {%- do items.append('cast(' ~ expr ~ ' as ' ~ vm_type(data_type) ~ ') as ' ~ vm_ident(name)) -%}
            {%- do emitted.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name, value in defaults.items() -%}
        {%- if name not in emitted -%}
            {%- do items.append(value ~ ' as ' ~ vm_ident(name)) -%}
            {%- do emitted.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in lineage -%}
        {%- do items.append(vm_ident(name)) -%}
    {%- endfor -%}
    {{ return(items | join(',\n    ')) }}
{%- endmacro %}

{#- Apply the config's derived columns as Polars' with_columns does: side by side, each reading
    the input (not each other), a column of an existing name replaced in place. -#}
{% macro derived_column_ctes(input_cte, derived_columns, existing_names) -%}
    {%- set names = existing_names | list -%}
    {%- set replaced = [] -%}
    {%- set added = [] -%}
    {%- for column in derived_columns -%}
        {%- if column.name in names -%}
            {%- do replaced.append(column) -%}
        {%- else -%}
            {%- do added.append('(' ~ column.sql ~ ') as ' ~ vm_ident(column.name)) -%}
        {%- endif -%}
    {%- endfor %}
with_derived_columns as (
    select {{ star_replace(replaced, added) }}
    from {{ input_cte }}
)
{%- endmacro %}

{#- `*` with some columns replaced (`replaced`: derived columns, each a name and its SQL) and some
    added (`added`: select items). -#}
{% macro star_replace(replaced, added) -%}
    {{ return(adapter.dispatch('star_replace', 'valuemarts')(replaced, added)) }}
{%- endmacro %}

{% macro default__star_replace(replaced, added) -%}
    {%- set replacing = [] -%}
    {%- for column in replaced %}{% do replacing.append('(' ~ column.sql ~ ') as ' ~ vm_ident(column.name)) %}{% endfor -%}
    *{% if replaced %} replace ({{ replacing | join(', ') }}){% endif %}{% for item in added %}, {{ item }}{% endfor %}
{%- endmacro %}

{#- Spark has no `* replace`: the replaced columns move to the end of the row. -#}
{% macro spark__star_replace(replaced, added) -%}
    {%- set names = [] -%}
    {%- set replacing = [] -%}
    {%- for column in replaced -%}
        {%- do names.append(vm_ident(column.name)) -%}
        {%- do replacing.append('(' ~ column.sql ~ ') as ' ~ vm_ident(column.name)) -%}
    {%- endfor -%}
    {{ vm_star_except(none, names) }}{% for item in replacing + added %}, {{ item }}{% endfor %}
{%- endmacro %}

{#- Column names of a relation, at run time (empty at parse time). -#}
{% macro staged_column_names(relation) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {{ return(adapter.get_columns_in_relation(relation) | map(attribute='name') | list) }}
{%- endmacro %}
