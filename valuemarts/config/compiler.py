"""Compile a reference-format TOML config into dbt vars and report specs, validating first.

Every problem found is collected with its TOML key path, so users fix them in one pass;
nothing is built from a config that has errors. Expressions are translated, never `eval`ed; their
SQL is type-checked by an in-memory DuckDB (`typecheck`). Unknown keys and score names are
warnings: the reference ignores them, but they are usually typos.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from valuemarts.config import schema
from valuemarts.config.expressions import DerivedColumn, translate_columns, translate_filter
from valuemarts.config.families import FAMILIES, family_of, placeholder_metrics
from valuemarts.config.known_keys import closest, unknown_key_warnings
from valuemarts.config.toml_values import bool_like, read_toml, string, string_list, table
from valuemarts.config.typecheck import Relation, TypeChecker, describe_type, typed_relation, with_derived
from valuemarts.errors import ConfigError, ConfigErrors
from valuemarts.sql_names import quote_string

# The layout of the tables a build keeps between runs (2: IH row keys as 128-bit numbers; 3: one
# label per labelling rule, not per metric). It is part of the config hash, so a warehouse built
# with another layout is rebuilt in full rather than appended to.
WAREHOUSE_LAYOUT = 3

IH_FILE_TYPES = {"pega_ds_export", "parquet", "json", "csv", "xlsx"}
HOLDINGS_FILE_TYPES = {"pega_ds_export", "parquet", "json", "csv", "xlsx"}
# Column names found in the data, or names with their DuckDB types (then expressions are
# type-checked against the data's own types for the columns staging doesn't type).
DataColumns = Collection[str] | Mapping[str, str]
# Report keys that name a column or a score of the report's metric.
_REPORT_FIELD_KEYS = ("x", "y", "color", "size", "r", "theta", "value", "facet_row", "facet_column",
                      "animation_frame", "animation_group")


@dataclass
class CompiledConfig:
    """What dbt reads (`dbt_vars`) and what the viewer and `report` read (`report_specs`), and
    `warnings` (`key.path: message`) for keys and score names the compiler doesn't know."""

    dbt_vars: dict[str, Any]
    report_specs: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


class ConfigWarning(ConfigError):
    """A warning listed with the errors of a config that fails: a misspelt key is often their cause."""

    def __str__(self) -> str:
        return f"warning: {self.key}: {self.message}"


@dataclass(frozen=True)
class _Source:
    """What differs between [ih] and [holdings]."""

    section: str
    group_key: str                   # the reference names the grouping regex differently per source
    file_types: set[str]
    column_types: dict[str, str]     # the types staging casts known columns to
    derived_types: dict[str, str]    # fields staging derives before the config's filter


_IH = _Source("ih", "ih_group_pattern", IH_FILE_TYPES, schema.IH_COLUMN_TYPES, schema.IH_DERIVED_TYPES)
_HOLDINGS = _Source("holdings", "file_group_pattern", HOLDINGS_FILE_TYPES, schema.HOLDINGS_COLUMN_TYPES, {})


@dataclass
class _Errors:
    items: list[ConfigError] = field(default_factory=list)
    warnings: list[ConfigWarning] = field(default_factory=list)

    def guard(self, fn: Callable[[], Any], default: Any = None) -> Any:
        """Run one validation step; record its ConfigError and carry on with `default`."""
        try:
            return fn()
        except ConfigError as exc:
            self.items.append(exc)
            return default

    def add(self, key: str, message: str) -> None:
        self.items.append(ConfigError(key, message))

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(ConfigWarning(key, message))


def compile_file(path: Path, *, ih_columns: DataColumns | None = None,
                 holdings_columns: DataColumns | None = None, check_columns: bool = True) -> CompiledConfig:
    raw, text = read_toml(path)
    return compile_config(raw, text, ih_columns=ih_columns, holdings_columns=holdings_columns,
                          check_columns=check_columns)


def compile_config(raw: dict[str, Any], text: str = "", *, ih_columns: DataColumns | None = None,
                   holdings_columns: DataColumns | None = None, check_columns: bool = True) -> CompiledConfig:
    """Validate and compile. `*_columns` are the staged (renamed) column names found in the data,
    optionally with their types; without them, columns are checked against the standard Pega
    columns. `check_columns=False` skips column checks: the build's first pass, which only needs
    the file rules to load data. [ih] and [holdings] are each required only by the metrics that
    read them; a side without its section has `configured: False` and loads no files."""
    errors = _Errors()
    for key, message in unknown_key_warnings(raw):
        errors.warn(key, message)
    metrics_table = errors.guard(lambda: table(raw.get("metrics"), "metrics"), {})
    needed_by = _metrics_by_source(metrics_table)
    with TypeChecker() as checker:
        ih = _compile_source(raw, _IH, ih_columns, needed_by["ih"], check_columns, checker, errors)
        holdings = _compile_source(raw, _HOLDINGS, holdings_columns, needed_by["holdings"], check_columns,
                                   checker, errors)
        ih["drop_columns"] = list(schema.DROP_IH_COLUMNS) + list(schema.IH_DERIVED_COLUMNS)
        ih["required_columns"] = [c for c in schema.IH_REQUIRED_COLUMNS if c not in ih["default_values"]]
        global_filters = errors.guard(
            lambda: string_list(metrics_table.get("global_filters"), "metrics.global_filters"), [])
        for i, column in enumerate(global_filters):
            _require(column, ih["available_columns"], f"metrics.global_filters[{i}]", ih, errors)
        metrics = {
            name: _compile_metric(name, value, global_filters, ih, holdings, checker, errors)
            for name, value in metrics_table.items()
            if name != "global_filters"
        }
    metrics = {k: v for k, v in metrics.items() if v is not None}
    holdings["dedup_key"] = _holdings_dedup_key(metrics, holdings)
    reports = _compile_reports(raw, metrics, errors)
    if errors.items:
        raise ConfigErrors(errors.items + errors.warnings)

    variants = raw.get("variants", {}) if isinstance(raw.get("variants"), dict) else {}
    config_hash = hashlib.sha256(f"{WAREHOUSE_LAYOUT}\n{text}".encode()).hexdigest() if text else ""
    for side in (ih, holdings):
        for internal in ("available_columns", "check_columns", "column_origin", "typed_relation"):
            side.pop(internal)
    dbt_vars = {
        "config_name": str(variants.get("name", "default")),
        "config_hash": config_hash,
        "ih": ih,
        "holdings": holdings,
        "global_filters": global_filters,
        "metrics": metrics,
        "labelled_metrics": _with_label_rules([m for m in metrics.values() if FAMILIES[m["family"]].labelled]),
        "placeholder_metrics": placeholder_metrics(),
    }
    report_specs = {
        "config_name": dbt_vars["config_name"],
        "config_hash": config_hash,
        "global_filters": global_filters,
        "metrics": metrics,
        "reports": reports,
        "copyright": raw.get("copyright", {}),
        "ux": raw.get("ux", {}),
        "variants": variants,
    }
    # dbt records the specs with every build (macros/warehouse_guard.sql), so a warehouse always
    # carries the config its marts were built with, whoever ran dbt.
    dbt_vars["report_specs"] = report_specs
    return CompiledConfig(dbt_vars=dbt_vars, report_specs=report_specs,
                          warnings=[f"{w.key}: {w.message}" for w in errors.warnings])


def _with_label_rules(labelled: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The labelled metrics, each with `label_rule`: the first of them that labels rows the same way.

    Metrics with the same positive and negative outcomes (as sets: only membership decides) and
    the same filter share their labelled rows, so int_ih__labelled_keys_by_rule stores them once
    per rule; in the demo config engagement, model_ml_scores and experiment share one.

    Examples
    --------
    >>> rules = _with_label_rules([
    ...     {"name": "a", "positive_model_response": ["C"], "negative_model_response": ["I", "P"], "filter_sql": None},
    ...     {"name": "b", "positive_model_response": ["C"], "negative_model_response": ["P", "I"], "filter_sql": None},
    ...     {"name": "c", "positive_model_response": ["C"], "negative_model_response": ["I"], "filter_sql": None}])
    >>> [m["label_rule"] for m in rules]
    ['a', 'a', 'c']
    """
    first_of_rule: dict[tuple[frozenset[str], frozenset[str], str | None], str] = {}
    ruled = []
    for metric in labelled:
        rule = (frozenset(metric["positive_model_response"]), frozenset(metric["negative_model_response"]),
                metric["filter_sql"])
        ruled.append({**metric, "label_rule": first_of_rule.setdefault(rule, metric["name"])})
    return ruled


def _metrics_by_source(metrics_table: dict[str, Any]) -> dict[str, list[str]]:
    """The names of the metrics reading each source: a section is required only where one does."""
    needed: dict[str, list[str]] = {"ih": [], "holdings": []}
    for name in metrics_table:
        family = family_of(name)
        if family is not None:
            needed[family.source].append(name)
    return needed


def _compile_source(raw: dict[str, Any], source: _Source, data_columns: DataColumns | None,
                    needed_by: list[str], check_columns: bool, checker: TypeChecker,
                    errors: _Errors) -> dict[str, Any]:
    """[ih] or [holdings]: file discovery keys, default values, filter and derived columns."""
    section = source.section
    if section not in raw:
        if needed_by:
            errors.add(section, f"required by metric{'s' if len(needed_by) > 1 else ''} {', '.join(needed_by)}")
        # Those metrics' columns can't be checked without the section: one error says what to fix.
        return _unconfigured_side(source, check_columns and not needed_by)
    cfg = errors.guard(lambda: table(raw.get(section), section), {})
    extensions = errors.guard(lambda: table(cfg.get("extensions"), f"{section}.extensions"), {})
    default_sql, default_types = _default_values(extensions, source, checker, errors)
    data_types = _data_types(data_columns)
    available = set(data_types) if data_types is not None else set(source.column_types)
    available |= set(default_sql) | set(source.derived_types)
    result: dict[str, Any] = {
        "configured": True,
        **_file_keys(cfg, source, errors),
        "column_types": dict(source.column_types),
        "default_values": default_sql,
        "column_origin": "in the data" if data_types is not None
                         else "among the standard Pega columns (no data loaded yet to check against)",
        "check_columns": check_columns,
        "available_columns": available,
    }
    filter_key = f"{section}.extensions.filter"
    filter_expr = errors.guard(lambda: translate_filter(extensions.get("filter") or "", filter_key))
    derived = errors.guard(lambda: translate_columns(extensions.get("columns") or "", f"{section}.extensions.columns"), [])
    # The filter may read derived columns on holdings (applied after them) but not on IH.
    filter_after_derived = section == "holdings"
    if filter_expr is not None:
        readable = (available | {d.name for d in derived}) if filter_after_derived else available
        _check_columns(filter_expr.columns, readable, filter_key, result, errors)
    # Side by side, as Polars' with_columns: each derived column reads the input columns only.
    for d in derived:
        _check_columns(d.columns, available, f"{section}.extensions.columns", result, errors)
    available |= {d.name for d in derived}

    staged = typed_relation(_staged_types(source, data_types, default_types))
    derived_sql = _typed_derived(derived, staged, f"{section}.extensions.columns", checker, errors)
    with_columns = with_derived(staged, derived_sql)
    if filter_expr is not None:
        problem = checker.filter_problem(with_columns if filter_after_derived else staged, filter_expr.sql,
                                         filter_expr.columns)
        if problem:
            errors.add(filter_key, problem)
    result["typed_relation"] = with_columns
    result["filter_sql"] = filter_expr.sql if filter_expr else None
    result["derived_columns"] = [{"name": d.name, "sql": d.sql} for d in derived]
    return result


def _unconfigured_side(source: _Source, check_columns: bool) -> dict[str, Any]:
    """A source without its section: no files and no expressions, but the keys of a configured
    side, so staging still turns the empty landing table into typed, empty models; metric keys
    such as `metrics.global_filters` are checked against the standard Pega columns."""
    types = {**source.column_types, **source.derived_types}
    return {
        "configured": False,
        "file_type": None,
        "file_pattern": "**/*",
        "group_pattern": "(.*)",
        "hive_partitioning": False,
        "column_types": dict(source.column_types),
        "default_values": {},
        "column_origin": f"among the standard Pega columns (the config has no [{source.section}] section)",
        "check_columns": check_columns,
        "available_columns": set(types),
        "typed_relation": typed_relation(types),
        "filter_sql": None,
        "derived_columns": [],
    }


def _file_keys(cfg: dict[str, Any], source: _Source, errors: _Errors) -> dict[str, Any]:
    """How the source's files are found, grouped and read."""
    section, group_key = source.section, source.group_key
    file_type = errors.guard(lambda: string(cfg.get("file_type"), f"{section}.file_type"))
    file_pattern = errors.guard(lambda: string(cfg.get("file_pattern"), f"{section}.file_pattern", "**/*"), "**/*")
    hive = errors.guard(lambda: bool_like(cfg.get("hive_partitioning"), f"{section}.hive_partitioning"), False)
    if file_type is None:
        errors.add(f"{section}.file_type", f"required; one of {sorted(source.file_types)}")
    elif file_type not in source.file_types:
        errors.add(f"{section}.file_type",
                   f"unknown file type {file_type!r}; expected one of {sorted(source.file_types)}")
    group_pattern = errors.guard(lambda: string(cfg.get(group_key), f"{section}.{group_key}", "(.*)"), "(.*)")
    try:
        re.compile(group_pattern)
    except re.error as exc:
        errors.add(f"{section}.{group_key}", f"invalid regular expression {group_pattern!r}: {exc}")
    return {"file_type": file_type, "file_pattern": file_pattern, "group_pattern": group_pattern,
            "hive_partitioning": hive}


def _default_values(extensions: dict[str, Any], source: _Source, checker: TypeChecker,
                    errors: _Errors) -> tuple[dict[str, str], dict[str, str]]:
    """Each default's SQL literal and DuckDB type. A literal that doesn't cast to its column's
    staged type is an error now, not a Conversion Error when dbt fills the first NULL."""
    section = source.section
    defaults = errors.guard(lambda: table(extensions.get("default_values"), f"{section}.extensions.default_values"), {})
    literals: dict[str, str] = {}
    types: dict[str, str] = {}
    for column, value in defaults.items():
        key = f"{section}.extensions.default_values.{column}"
        data_type = source.column_types.get(column)
        sql = errors.guard(lambda: _default_literal(value, data_type, section == "ih", key))
        if sql is None:
            continue
        # Staging casts TIMESTAMPTZ defaults where it uses them; other typed literals carry their cast.
        literal_type = checker.literal_type(f"cast({sql} as TIMESTAMPTZ)" if data_type == "TIMESTAMPTZ" else sql)
        if literal_type is None:
            errors.add(key, f"expected {describe_type(data_type)}, got {value!r}")
            continue
        literals[column] = sql
        types[column] = literal_type
    return literals, types


def _data_types(data_columns: DataColumns | None) -> dict[str, str | None] | None:
    """Data column -> its type, None where only the name is known; None without data."""
    if data_columns is None:
        return None
    if isinstance(data_columns, Mapping):
        return dict(data_columns)
    return dict.fromkeys(data_columns)


def _staged_types(source: _Source, data_types: dict[str, str | None] | None,
                  default_types: dict[str, str]) -> dict[str, str | None]:
    """Each staged column's type, as staging makes it: derived fields and known columns have
    staging's types, other data columns their own (None when unknown), defaulted absent columns
    their literal's type."""
    types: dict[str, str | None] = dict.fromkeys(data_types or ())
    types.update(default_types)
    types.update({c: t for c, t in (data_types or {}).items() if t})
    types.update(source.column_types)
    types.update(source.derived_types)
    return types


def _typed_derived(derived: list[DerivedColumn], staged: Relation, key: str, checker: TypeChecker,
                   errors: _Errors) -> list[tuple[str, str]]:
    """(name, SQL) of the derived columns, each type-checked on the staged columns; one that fails
    is an untyped NULL, so expressions reading it aren't reported again."""
    typed = []
    for d in derived:
        problem = checker.expression_problem(staged, d.sql, d.columns)
        if problem:
            errors.add(key, f"column {d.name!r}: {problem}")
        typed.append((d.name, "null" if problem else d.sql))
    return typed


def _default_literal(value: Any, data_type: str | None, floats_from_strings: bool, key: str) -> str:
    """A typed SQL literal; like the reference, an IH default that parses as a float is a float."""
    if isinstance(value, bool):
        literal = "true" if value else "false"
    elif isinstance(value, (int, float)):
        literal = repr(float(value)) if isinstance(value, float) else str(value)
    elif isinstance(value, str):
        literal = quote_string(value)
        if data_type is None and floats_from_strings:
            try:
                literal = repr(float(value))
            except ValueError:
                pass
    else:
        raise ConfigError(key, f"expected a string, number or boolean, got {value!r}")
    if data_type is not None and data_type != "TIMESTAMPTZ":
        return f"cast({literal} as {data_type})"
    return literal


def _check_columns(columns: frozenset[str] | set[str] | list[str], available: set[str], key: str,
                   side: dict[str, Any], errors: _Errors) -> None:
    for column in sorted(set(columns)):
        _require(column, available, key, side, errors)


def _require(column: str, available: set[str], key: str, side: dict[str, Any], errors: _Errors) -> None:
    """Record an unknown column, unless columns aren't checked yet (the build's first pass)."""
    if column in available or not side["check_columns"]:
        return
    errors.add(key, f"unknown column {column!r}: not {side['column_origin']}, the default values or the derived "
                    f"columns; available: {', '.join(sorted(available))}")


def _compile_metric(name: str, value: Any, global_filters: list[str], ih: dict[str, Any],
                    holdings: dict[str, Any], checker: TypeChecker, errors: _Errors) -> dict[str, Any] | None:
    key = f"metrics.{name}"
    family = family_of(name)
    if family is None:
        errors.add(key, f"unknown metric family; a metric name must start with one of {sorted(FAMILIES)}")
        return None
    cfg = errors.guard(lambda: table(value, key))
    if cfg is None:
        return None
    side = ih if family.source == "ih" else holdings
    available = set(side["available_columns"]) | {d["name"] for d in side["derived_columns"]}
    group_by = errors.guard(lambda: string_list(cfg.get("group_by"), f"{key}.group_by"), [])
    if "group_by" not in cfg:
        errors.add(f"{key}.group_by", "required (a list of columns; [] for none)")
    for i, column in enumerate(group_by):
        _require(column, available, f"{key}.group_by[{i}]", side, errors)
    filter_expr = errors.guard(lambda: translate_filter(cfg.get("filter") or "", f"{key}.filter"))
    if filter_expr is not None:
        _check_columns(filter_expr.columns, available, f"{key}.filter", side, errors)
        problem = checker.filter_problem(side["typed_relation"], filter_expr.sql, filter_expr.columns)
        if problem:
            errors.add(f"{key}.filter", problem)
    metric: dict[str, Any] = {
        "name": name,
        "family": family.name,
        "group_by": group_by,
        "filter_sql": filter_expr.sql if filter_expr else None,
        "scores": errors.guard(lambda: string_list(cfg.get("scores"), f"{key}.scores"), []),
    }
    _warn_unknown_scores(cfg.get("scores"), family.scores, f"{key}.scores", errors)
    if family.source == "ih":
        metric["global_filters"] = list(global_filters)
    if family.labelled:
        for list_key in ("positive_model_response", "negative_model_response"):
            outcomes = errors.guard(lambda: string_list(cfg.get(list_key), f"{key}.{list_key}"), [])
            if not outcomes:
                errors.add(f"{key}.{list_key}", "required: a non-empty list of Outcome values")
            metric[list_key] = outcomes
        overlap = set(metric["positive_model_response"]) & set(metric["negative_model_response"])
        if overlap:
            errors.add(f"{key}.negative_model_response", f"outcomes {sorted(overlap)} are also positive")
    _FAMILY_KEYS.get(family.name, lambda *a: None)(metric, cfg, key, available, side, errors)
    metric["group_columns"] = [
        {"name": c, "type": schema.group_column_type(c, family.source)}
        for c in dict.fromkeys(group_by + metric.get("global_filters", []) + family.key_columns_of(metric))
    ]
    return metric


def _warn_unknown_scores(scores: Any, known: frozenset[str], key: str, errors: _Errors) -> None:
    """A score name the family doesn't compute is ignored, as in the reference: warn, it's a typo."""
    for i, score in enumerate(scores if isinstance(scores, list) else []):
        if isinstance(score, str) and score not in known:
            meant = closest(score, known)
            hint = f"did you mean {meant}?" if meant else f"known: {', '.join(sorted(known))}"
            errors.warn(f"{key}[{i}]", f"unknown score {score!r} ({hint})")


def _experiment_keys(metric, cfg, key, available, side, errors) -> None:
    for col_key, default in ((k.setting, k.default) for k in FAMILIES["experiment"].key_columns):
        column = errors.guard(lambda: string(cfg.get(col_key), f"{key}.{col_key}", default), default)
        _require(column, available, f"{key}.{col_key}", side, errors)
        metric[col_key] = column
    metric["control_group"] = errors.guard(lambda: string(cfg.get("control_group"), f"{key}.control_group"))
    split = errors.guard(lambda: table(cfg.get("expected_split"), f"{key}.expected_split"), {})
    for arm, weight in split.items():
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight <= 0:
            errors.add(f"{key}.expected_split.{arm}", f"expected a positive number (the arm's share), got {weight!r}")
    metric["expected_split"] = split or None
    metric["no_experiment_value"] = errors.guard(
        lambda: string(cfg.get("no_experiment_value"), f"{key}.no_experiment_value", "N/A"), "N/A")
    unit = errors.guard(lambda: string(cfg.get("randomization_unit"), f"{key}.randomization_unit", "SubjectID"),
                        "SubjectID")
    _require(unit, available, f"{key}.randomization_unit", side, errors)
    metric["randomization_unit"] = unit


def _t_digest_keys(metric, cfg, key, available, side, errors) -> None:
    metric["use_t_digest"] = errors.guard(lambda: bool_like(cfg.get("use_t_digest"), f"{key}.use_t_digest", True), True)
    if metric["family"] == "descriptive":
        columns = errors.guard(lambda: string_list(cfg.get("columns"), f"{key}.columns"), [])
        for i, column in enumerate(columns):
            _require(column, available, f"{key}.columns[{i}]", side, errors)
        metric["columns"] = columns
        # Count always (funnels and box-plot notches need it), then the configured known scores.
        known = FAMILIES["descriptive"].scores
        metric["output_scores"] = list(dict.fromkeys(["Count"] + [s for s in metric["scores"] if s in known]))


def _clv_keys(metric, cfg, key, available, side, errors) -> None:
    """CLV keys: the reference's column and model keys plus valuemarts' model, engine and drift keys.

    Every added key has a default, so reference configs compile unchanged. Dates are ISO
    `YYYY-MM-DD`; months and shares are numbers. Why each key exists: models/marts/clv/_clv.yml.
    """
    def number(name: str, default: float, low: float, high: float | None = None, whole: bool = False) -> float:
        value = cfg.get(name, default)
        bad = not isinstance(value, (int, float)) or isinstance(value, bool) or value < low \
            or (high is not None and value > high) or (whole and value != int(value))
        if bad:
            span = f">= {low}" if high is None else f"in [{low}, {high}]"
            errors.add(f"{key}.{name}", f"expected a {'whole ' if whole else ''}number {span}, got {value!r}")
            return default
        return int(value) if whole else float(value)

    def iso_date(name: str) -> str | None:
        value = errors.guard(lambda: string(cfg.get(name), f"{key}.{name}"))
        if value is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            errors.add(f"{key}.{name}", f"expected a date as 'YYYY-MM-DD', got {value!r}")
            return None
        return value

    def months_list(name: str, default: list[int]) -> list[int]:
        value = cfg.get(name, default)
        if not isinstance(value, list) or not value or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
            errors.add(f"{key}.{name}", f"expected a non-empty list of whole months >= 1, got {value!r}")
            return default
        return sorted(set(value))

    for col_key, default in (("order_id_col", "HoldingID"), ("customer_id_col", "SubjectID"),
                             ("monetary_value_col", "OneTimeCost"), ("purchase_date_col", "PurchasedDate"),
                             ("recurring_period", "RecurringPeriod"), ("recurring_cost", "RecurringCost")):
        column = errors.guard(lambda: string(cfg.get(col_key), f"{key}.{col_key}", default), default)
        required = col_key not in ("recurring_period", "recurring_cost") or cfg.get("model") == "contractual"
        if required:
            _require(column, available, f"{key}.{col_key}", side, errors)
        metric[col_key] = column
    model = errors.guard(lambda: string(cfg.get("model"), f"{key}.model", "non-contractual"), "non-contractual")
    if model not in ("non-contractual", "contractual"):
        errors.add(f"{key}.model", f"expected 'non-contractual' or 'contractual', got {model!r}")
    metric["model"] = model
    lifespan = cfg.get("lifespan", 2000)
    if not isinstance(lifespan, (int, float)) or isinstance(lifespan, bool) or lifespan <= 0:
        errors.add(f"{key}.lifespan", f"expected a positive number of years, got {lifespan!r}")
    metric["lifespan"] = lifespan
    # Missing means the reference's legacy map; an unknown name is an error, not a silent fallback.
    presets = ("retail_banking", "telco", "e-commerce", "legacy")
    preset = errors.guard(lambda: string(cfg.get("rfm_segment_config"), f"{key}.rfm_segment_config", "legacy"),
                          "legacy")
    if preset not in presets:
        errors.add(f"{key}.rfm_segment_config", f"unknown preset {preset!r}; expected one of {', '.join(presets)}")
    metric["rfm_segment_config"] = preset
    metric["observation_end"] = iso_date("observation_end")
    time_unit = errors.guard(lambda: string(cfg.get("time_unit"), f"{key}.time_unit", "weeks"), "weeks")
    if time_unit not in ("days", "weeks"):
        errors.add(f"{key}.time_unit", f"expected 'days' or 'weeks', got {time_unit!r}")
    metric["time_unit"] = time_unit
    metric["horizon_months"] = number("horizon_months", 12, 1, whole=True)
    metric["discount_rate"] = number("discount_rate", 0.0, 0.0, 1.0)
    metric["history_months"] = number("history_months", 12, 1, whole=True)
    metric["pred_months"] = number("pred_months", 6, 1, whole=True)
    metric["train_cutoff"] = iso_date("train_cutoff")
    metric["holdout_folds"] = number("holdout_folds", 3, 2, 10, whole=True)
    metric["grid_history_months"] = months_list("grid_history_months", [6, 12])
    metric["grid_pred_months"] = months_list("grid_pred_months", [6])
    shares = cfg.get("tier_shares", [0.01, 0.05, 0.10, 0.20])
    if not isinstance(shares, list) or not shares or any(
            not isinstance(s, (int, float)) or isinstance(s, bool) or not 0 < s < 1 for s in shares) \
            or sorted(set(shares)) != list(shares):
        errors.add(f"{key}.tier_shares", f"expected increasing cumulative shares in (0, 1), got {shares!r}")
        shares = [0.01, 0.05, 0.10, 0.20]
    metric["tier_shares"] = [float(s) for s in shares]
    labels = cfg.get("tier_labels", [f"Top {100 * s:g}%" for s in shares] + ["Others"])
    if not isinstance(labels, list) or len(labels) != len(shares) + 1 or not all(isinstance(v, str) for v in labels):
        errors.add(f"{key}.tier_labels", f"expected {len(shares) + 1} labels (one per share, then the rest), "
                                         f"got {labels!r}")
        labels = [f"Top {100 * s:g}%" for s in shares] + ["Others"]
    metric["tier_labels"] = labels
    metric["n_clusters"] = number("n_clusters", 4, 2, 20, whole=True)
    metric["seed"] = number("seed", 42, 0, whole=True)
    metric["drift_rmse_increase"] = number("drift_rmse_increase", 0.20, 0.0)
    metric["drift_r2_decrease"] = number("drift_r2_decrease", 0.15, 0.0)
    for dir_key, default in (("alert_dir", "clv_alerts"), ("model_card_dir", "clv_model_cards")):
        metric[dir_key] = errors.guard(lambda: string(cfg.get(dir_key), f"{key}.{dir_key}", default), default)


_FAMILY_KEYS: dict[str, Callable[..., None]] = {
    "experiment": _experiment_keys,
    "model_ml_scores": _t_digest_keys,
    "descriptive": _t_digest_keys,
    "clv": _clv_keys,
}


def _holdings_dedup_key(metrics: dict[str, Any], holdings: dict[str, Any]) -> list[str]:
    """One row per (customer, holding): the first CLV metric's id columns, when the data has them."""
    for metric in metrics.values():
        if metric["family"] == "clv":
            key = [metric["customer_id_col"], metric["order_id_col"]]
            available = holdings["available_columns"] | {d["name"] for d in holdings["derived_columns"]}
            return key if all(c in available for c in key) else []
    return []


def _compile_reports(raw: dict[str, Any], metrics: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    reports_table = errors.guard(lambda: table(raw.get("reports"), "reports"), {})
    reports = {}
    for name, value in reports_table.items():
        key = f"reports.{name}"
        cfg = errors.guard(lambda: table(value, key))
        if cfg is None:
            continue
        metric_name = cfg.get("metric")
        if metric_name not in metrics:
            errors.add(f"{key}.metric", f"names metric {metric_name!r}, which is not configured; "
                                        f"configured: {', '.join(sorted(metrics)) or 'none'}")
            continue
        metric = metrics[metric_name]
        allowed = {c["name"] for c in metric["group_columns"]}
        group_by = errors.guard(lambda: string_list(cfg.get("group_by"), f"{key}.group_by"), [])
        for i, column in enumerate(group_by):
            if column not in allowed:
                errors.add(f"{key}.group_by[{i}]", f"{column!r} is not in metric {metric_name!r}'s grouping "
                                                   f"columns: {', '.join(sorted(allowed))}")
        _check_report_fields(cfg, key, metric, allowed, errors)
        reports[name] = {**cfg, "group_by": group_by, "description": cfg.get("description", name),
                         "type": cfg.get("type", "generic")}
    return reports


def _check_report_fields(cfg: dict[str, Any], key: str, metric: dict[str, Any], allowed: set[str],
                         errors: _Errors) -> None:
    """Fields that name a column must be groupable; fields that name a score must exist."""
    family = FAMILIES[metric["family"]]
    names = allowed | family.scores | set(metric.get("columns", []))
    if family.name == "descriptive":
        names |= {f"{c}_{s}" for c in metric.get("columns", []) for s in family.scores}
    for field_key in _REPORT_FIELD_KEYS:
        field_value = cfg.get(field_key)
        if field_value is None or field_value == "---":
            continue
        if not isinstance(field_value, str):
            errors.add(f"{key}.{field_key}", f"expected a column or score name, got {field_value!r}")
        elif field_value not in names:
            errors.add(f"{key}.{field_key}", f"{field_value!r} is neither a groupable column nor a score of "
                                             f"{family.name} metric {metric['name']!r}")
    score = cfg.get("score")
    if score is not None and score not in family.scores:
        errors.add(f"{key}.score", f"unknown score {score!r}; expected one of {', '.join(sorted(family.scores))}")
