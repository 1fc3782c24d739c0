"""Translate Polars expression source into sqlglot expressions by reading its Python syntax tree.

The reference system `eval`s these strings; we never run them. The walker accepts only the node
types, names, methods and keyword arguments in the allow-lists below and maps each to DuckDB SQL
with Polars' semantics (null handling, which string arguments mean column names, output names).
A payload such as `__import__('os').system(...)` is therefore just an unsupported call.
"""

from __future__ import annotations

import ast
import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import reduce

from sqlglot import exp

from valuemarts.config.chrono_format import to_duckdb_format
from valuemarts.config.sql_guard import TranslationError

# ---------------------------------------------------------------------------------------------
# Values produced while walking the tree.


@dataclass(frozen=True)
class Expr:
    """A Polars expression as SQL, with its Polars output name and dtype kind when known.

    `name` is None where Polars would call the output "literal"; `kind` is one of str, int,
    float, bool, date, datetime, or None for a column of unknown type. `open_case` marks a
    `when/then` chain that may still take `.when` or `.otherwise`.
    """

    node: exp.Expression
    name: str | None = None
    kind: str | None = None
    open_case: bool = False


@dataclass(frozen=True)
class Const:
    """A plain Python literal: str, int, float, bool or None."""

    value: object


@dataclass(frozen=True)
class Seq:
    """A Python list or tuple literal."""

    items: tuple[Value, ...]


@dataclass(frozen=True)
class Namespace:
    """`expr.str` or `expr.dt`."""

    expr: Expr
    kind: str


@dataclass(frozen=True)
class DType:
    """A Polars data type such as `pl.Utf8`: DuckDB type name and dtype kind."""

    sql: str
    kind: str


@dataclass(frozen=True)
class PendingWhen:
    """`pl.when(c)` or `chain.when(c)`, waiting for `.then`."""

    case: exp.Case | None
    cond: exp.Expression
    name: str | None
    kind: str | None


class _Pl:
    """The `pl` module name."""


PL = _Pl()
Value = Expr | Const | Seq | Namespace | DType | PendingWhen | _Pl

# ---------------------------------------------------------------------------------------------
# Conversions between values and SQL nodes.


def _arg(e: Expr) -> exp.Expression:
    """The node as a function argument: a copy, since sqlglot nodes are mutable trees."""
    return e.node.copy()


def _operand(e: Expr) -> exp.Expression:
    """The node as an operator operand, parenthesised unless atomic: sqlglot does not add
    parentheses for precedence."""
    node = _arg(e)
    atomic = (exp.Column, exp.Boolean, exp.Null, exp.Func, exp.Paren)
    if isinstance(node, atomic) or (isinstance(node, exp.Literal) and not node.this.startswith("-")):
        return node
    return exp.Paren(this=node)


def _type(name: str) -> exp.DataType:
    return exp.DataType.build(name, dialect="duckdb")


def _literal(value: object) -> Expr:
    if value is None:
        return Expr(exp.Null())
    if isinstance(value, bool):
        return Expr(exp.Boolean(this=value), kind="bool")
    if isinstance(value, int):
        return Expr(exp.Literal.number(value), kind="int")
    if isinstance(value, float):
        # A bare 0.1 is DECIMAL in DuckDB; Polars literals are Float64.
        text = repr(value) if math.isfinite(value) else str(value)
        token = exp.Literal.number(text) if math.isfinite(value) else exp.Literal.string(text)
        return Expr(exp.Cast(this=token, to=_type("DOUBLE")), kind="float")
    if isinstance(value, str):
        return Expr(exp.Literal.string(value), kind="str")
    raise TranslationError(f"unsupported literal {value!r}")


def _expr(v: Value, what: str, *, str_as: str = "lit") -> Expr:
    """An expression argument. Polars reads a plain string as a column name in some places
    (`then`, `otherwise`, `is_between`, `*_horizontal`) and as a literal elsewhere."""
    if isinstance(v, Expr):
        return v
    if isinstance(v, Const):
        if str_as == "col" and isinstance(v.value, str):
            return _column(v.value)
        return _literal(v.value)
    raise TranslationError(f"{what} must be an expression or a literal value")


def _const(v: Value, types: type | tuple[type, ...], what: str) -> object:
    if isinstance(v, Const) and isinstance(v.value, types):
        return v.value
    raise TranslationError(f"{what} must be a literal {_type_names(types)}")


def _type_names(types: type | tuple[type, ...]) -> str:
    return " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))


def _require(v: Value, expected: object, what: str) -> None:
    """Keyword arguments we accept only at the value that needs no translation."""
    if not (isinstance(v, Const) and v.value == expected and type(v.value) is type(expected)):
        raise TranslationError(f"{what} is only supported as {expected!r}")


def _column(name: str) -> Expr:
    if name == "*" or (name.startswith("^") and name.endswith("$")):
        raise TranslationError(f"pl.col({name!r}) selects several columns; name one column")
    return Expr(exp.column(name, quoted=True), name=name)


def _flatten(args: tuple[Value, ...]) -> list[Value]:
    return [item for a in args for item in (a.items if isinstance(a, Seq) else (a,))]


def _conjunction(args: tuple[Value, ...], what: str, op: type[exp.Connector] = exp.And) -> Expr:
    parts = [_expr(a, what, str_as="col") for a in _flatten(args)]
    if not parts:
        raise TranslationError(f"{what} needs at least one expression")
    return Expr(_combine(parts, op), name=parts[0].name, kind="bool")


def _combine(parts: list[Expr], op: type[exp.Connector]) -> exp.Expression:
    """Parts joined by AND or OR: Kleene logic, like Polars' & and |."""
    if len(parts) == 1:
        return _arg(parts[0])
    return reduce(lambda a, b: op(this=a, expression=b), (_operand(p) for p in parts))


def _bool(e: Expr, node: exp.Expression) -> Expr:
    return Expr(node, name=e.name, kind="bool")


# ---------------------------------------------------------------------------------------------
# Functions and methods: name -> (signature, handler). Handlers get the receiver and the bound
# arguments (defaults as Const); anything not listed is rejected.


@dataclass(frozen=True)
class Op:
    fn: Callable[..., Value]
    params: tuple[str, ...] = ()
    defaults: Mapping[str, object] = field(default_factory=dict)
    varargs: bool = False  # all positional arguments arrive as `args`


def _op(fn: Callable[..., Value], *params: str, varargs: bool = False, **defaults: object) -> Op:
    return Op(fn, params + tuple(defaults), defaults, varargs)


def _pl_col(_: _Pl, name: Value) -> Expr:
    return _column(_const(name, str, "pl.col() column name"))


def _pl_lit(_: _Pl, value: Value) -> Expr:
    return _literal(_const(value, (str, int, float, bool, type(None)), "pl.lit() value"))


def _pl_when(_: _Pl, args: tuple[Value, ...]) -> PendingWhen:
    return PendingWhen(None, _conjunction(args, "pl.when()").node, None, None)


def _pl_datetime(_: _Pl, year: Value, month: Value, day: Value, hour: Value, minute: Value,
                 second: Value, microsecond: Value) -> Expr:
    parts = [_const(v, int, "pl.datetime() argument") for v in (year, month, day, hour, minute, second, microsecond)]
    try:
        value = dt.datetime(*parts)  # type: ignore[arg-type]
    except ValueError as e:
        raise TranslationError(f"invalid pl.datetime(): {e}") from None
    text = exp.Literal.string(value.isoformat(sep=" "))
    return Expr(exp.Cast(this=text, to=_type("TIMESTAMP")), kind="datetime")


def _pl_date(_: _Pl, year: Value, month: Value, day: Value) -> Expr:
    try:
        value = dt.date(*(_const(v, int, "pl.date() argument") for v in (year, month, day)))  # type: ignore[arg-type]
    except ValueError as e:
        raise TranslationError(f"invalid pl.date(): {e}") from None
    return Expr(exp.Cast(this=exp.Literal.string(value.isoformat()), to=_type("DATE")), kind="date")


_PL_FUNCTIONS: dict[str, Op] = {
    "col": _op(_pl_col, "name"),
    "lit": _op(_pl_lit, "value"),
    "when": _op(_pl_when, varargs=True),
    "datetime": _op(_pl_datetime, "year", "month", "day", hour=0, minute=0, second=0, microsecond=0),
    "date": _op(_pl_date, "year", "month", "day"),
    "all_horizontal": _op(lambda _, args: _conjunction(args, "pl.all_horizontal()"), varargs=True),
    "any_horizontal": _op(lambda _, args: _conjunction(args, "pl.any_horizontal()", exp.Or), varargs=True),
}

# Polars dtype attribute -> DuckDB type and dtype kind.
_DTYPES: dict[str, DType] = {
    "Utf8": DType("VARCHAR", "str"),
    "String": DType("VARCHAR", "str"),
    "Float64": DType("DOUBLE", "float"),
    "Float32": DType("FLOAT", "float"),
    "Int64": DType("BIGINT", "int"),
    "Int32": DType("INTEGER", "int"),
    "Int16": DType("SMALLINT", "int"),
    "Int8": DType("TINYINT", "int"),
    "Boolean": DType("BOOLEAN", "bool"),
    "Date": DType("DATE", "date"),
    "Datetime": DType("TIMESTAMP", "datetime"),
}


def _alias(e: Expr, name: Value) -> Expr:
    return Expr(e.node, _const(name, str, ".alias() name"), e.kind)


def _is_in(e: Expr, other: Value, nulls_equal: Value) -> Expr:
    _require(nulls_equal, False, ".is_in(nulls_equal=)")
    if not isinstance(other, Seq) or not all(isinstance(i, Const) for i in other.items):
        raise TranslationError(".is_in() takes a list of literal values")
    # Polars ignores None in the list (a non-matching value is false, not null as in SQL).
    values = [_literal(i.value).node for i in other.items if isinstance(i, Const) and i.value is not None]
    if not values:  # Polars: false, or null for a null input; `IN ()` is not SQL.
        not_null = exp.Not(this=exp.Is(this=_operand(e), expression=exp.Null()))
        return _bool(e, exp.Case(ifs=[exp.If(this=not_null, true=exp.Boolean(this=False))]))
    return _bool(e, exp.In(this=_operand(e), expressions=values))


def _is_between(e: Expr, lower_bound: Value, upper_bound: Value, closed: Value) -> Expr:
    low = _operand(_expr(lower_bound, ".is_between() bound", str_as="col"))
    high = _operand(_expr(upper_bound, ".is_between() bound", str_as="col"))
    mode = _const(closed, str, ".is_between(closed=)")
    if mode == "both":
        return _bool(e, exp.Between(this=_operand(e), low=low, high=high))
    ops = {"left": (exp.GTE, exp.LT), "right": (exp.GT, exp.LTE), "none": (exp.GT, exp.LT)}
    if mode not in ops:
        raise TranslationError(f".is_between(closed={mode!r}) is not a Polars option")
    lower, upper = ops[mode]
    node = exp.And(this=lower(this=_operand(e), expression=low), expression=upper(this=_operand(e), expression=high))
    return _bool(e, node)


def _fill_null(e: Expr, value: Value, strategy: Value, limit: Value) -> Expr:
    _require(strategy, None, ".fill_null(strategy=)")
    _require(limit, None, ".fill_null(limit=)")
    if isinstance(value, Const) and value.value is None:
        raise TranslationError(".fill_null() needs a fill value")
    filler = _expr(value, ".fill_null() value")
    return Expr(exp.Coalesce(this=_arg(e), expressions=[_arg(filler)]), e.name, e.kind or filler.kind)


def _cast(e: Expr, dtype: Value, strict: Value, wrap_numerical: Value) -> Expr:
    if not isinstance(dtype, DType):
        raise TranslationError(f".cast() takes one of pl.{', pl.'.join(_DTYPES)}")
    _require(wrap_numerical, False, ".cast(wrap_numerical=)")
    source = _arg(e)
    if dtype.kind == "int" and e.kind == "float":  # Polars truncates, DuckDB would round.
        source = exp.Trunc(this=source)
    cast = exp.Cast if _const(strict, bool, ".cast(strict=)") else exp.TryCast
    return Expr(cast(this=source, to=_type(dtype.sql)), e.name, dtype.kind)


def _unary(node_type: type[exp.Expression]) -> Callable[[Expr], Expr]:
    return lambda e: Expr(node_type(this=_arg(e)), e.name, e.kind)


def _then(w: PendingWhen, statement: Value) -> Expr:
    value = _expr(statement, ".then() value", str_as="col")
    branch = exp.If(this=w.cond.copy(), true=_arg(value))
    if w.case is None:
        return Expr(exp.Case(ifs=[branch]), value.name, value.kind, open_case=True)
    case = w.case.copy()
    case.append("ifs", branch)
    return Expr(case, w.name, w.kind or value.kind, open_case=True)


def _chain_when(e: Expr, args: tuple[Value, ...]) -> PendingWhen:
    assert isinstance(e.node, exp.Case)
    return PendingWhen(e.node, _conjunction(args, ".when()").node, e.name, e.kind)


def _otherwise(e: Expr, statement: Value) -> Expr:
    value = _expr(statement, ".otherwise() value", str_as="col")
    case = e.node.copy()
    case.set("default", _arg(value))
    return Expr(case, e.name, e.kind or value.kind)


_EXPR_METHODS: dict[str, Op] = {
    "alias": _op(_alias, "name"),
    "is_in": _op(_is_in, "other", nulls_equal=False),
    "is_null": _op(lambda e: _bool(e, exp.Is(this=_operand(e), expression=exp.Null()))),
    "is_not_null": _op(lambda e: _bool(e, exp.Not(this=exp.Is(this=_operand(e), expression=exp.Null())))),
    "not_": _op(lambda e: _bool(e, exp.Not(this=_operand(e)))),
    "is_between": _op(_is_between, "lower_bound", "upper_bound", closed="both"),
    "fill_null": _op(_fill_null, value=None, strategy=None, limit=None),
    "cast": _op(_cast, "dtype", strict=True, wrap_numerical=False),
    "abs": _op(_unary(exp.Abs)),
    "floor": _op(_unary(exp.Floor)),
    "ceil": _op(_unary(exp.Ceil)),
}

_OPEN_CASE_METHODS: dict[str, Op] = {
    "when": _op(_chain_when, varargs=True),
    "otherwise": _op(_otherwise, "statement"),
}

_PENDING_WHEN_METHODS: dict[str, Op] = {"then": _op(_then, "statement")}


def _str_pattern(ns: Namespace, arg: Value, what: str, node_type: type[exp.Expression]) -> Expr:
    return _bool(ns.expr, node_type(this=_arg(ns.expr), expression=_arg(_expr(arg, f"{what} argument"))))


def _contains(ns: Namespace, pattern: Value, literal: Value, strict: Value) -> Expr:
    _require(strict, True, ".str.contains(strict=)")
    text = _const(pattern, str, ".str.contains() pattern")
    # Polars matches a regex anywhere in the string, as DuckDB's regexp_matches does.
    node_type = exp.Contains if _const(literal, bool, ".str.contains(literal=)") else exp.RegexpLike
    return _bool(ns.expr, node_type(this=_arg(ns.expr), expression=exp.Literal.string(text)))


def _parse_time(ns: Namespace, fmt: Value, strict: Value, exact: Value, cache: Value, *, to_date: bool) -> Expr:
    _require(exact, True, "exact=")
    _const(cache, bool, "cache=")  # a performance hint only
    if isinstance(fmt, Const) and fmt.value is None:
        raise TranslationError("date parsing needs an explicit format (Polars would guess one)")
    duck_format, has_zone = to_duckdb_format(str(_const(fmt, str, "format")))
    args = [_arg(ns.expr), exp.Literal.string(duck_format)]
    # Polars strict=True raises on unparseable values, as DuckDB strptime does.
    if _const(strict, bool, "strict="):
        node: exp.Expression = exp.StrToTime(this=args[0], format=args[1])
    else:
        node = exp.Anonymous(this="TRY_STRPTIME", expressions=args)
    if has_zone:
        # chrono skips the zone name and gives a naive datetime; DuckDB gives TIMESTAMPTZ.
        # UTC wall-clock time equals it for the GMT/UTC names Pega writes, whatever the session
        # time zone.
        node = exp.AtTimeZone(this=node, zone=exp.Literal.string("UTC"))
    if to_date:
        return Expr(exp.Cast(this=node, to=_type("DATE")), ns.expr.name, "date")
    return Expr(node, ns.expr.name, "datetime")


def _strptime(ns: Namespace, dtype: Value, format: Value, strict: Value, exact: Value, cache: Value) -> Expr:
    if dtype not in (_DTYPES["Date"], _DTYPES["Datetime"]):
        raise TranslationError(".str.strptime() supports pl.Datetime and pl.Date")
    return _parse_time(ns, format, strict, exact, cache, to_date=dtype == _DTYPES["Date"])


def _to_datetime(ns: Namespace, format: Value, time_unit: Value, time_zone: Value, strict: Value,
                 exact: Value, cache: Value, ambiguous: Value) -> Expr:
    _require(time_unit, None, ".str.to_datetime(time_unit=)")
    _require(time_zone, None, ".str.to_datetime(time_zone=)")
    _require(ambiguous, "raise", ".str.to_datetime(ambiguous=)")
    return _parse_time(ns, format, strict, exact, cache, to_date=False)


def _str_unary(node_type: type[exp.Expression]) -> Callable[[Namespace], Expr]:
    return lambda ns: Expr(node_type(this=_arg(ns.expr)), ns.expr.name, "str")


_PARSE_FLAGS = {"strict": True, "exact": True, "cache": True}

_STR_METHODS: dict[str, Op] = {
    "starts_with": _op(lambda ns, prefix: _str_pattern(ns, prefix, ".str.starts_with()", exp.StartsWith), "prefix"),
    "ends_with": _op(lambda ns, suffix: _str_pattern(ns, suffix, ".str.ends_with()", exp.EndsWith), "suffix"),
    "contains": _op(_contains, "pattern", literal=False, strict=True),
    "to_lowercase": _op(_str_unary(exp.Lower)),
    "to_uppercase": _op(_str_unary(exp.Upper)),
    "strptime": _op(_strptime, "dtype", format=None, **_PARSE_FLAGS),
    "to_datetime": _op(_to_datetime, format=None, time_unit=None, time_zone=None, **_PARSE_FLAGS, ambiguous="raise"),
    "to_date": _op(lambda ns, format, strict, exact, cache: _parse_time(ns, format, strict, exact, cache, to_date=True),
                   format=None, **_PARSE_FLAGS),
}


def _dt_part(node_type: type[exp.Expression]) -> Op:
    return _op(lambda ns: Expr(node_type(this=_arg(ns.expr)), ns.expr.name, "int"))


_DT_METHODS: dict[str, Op] = {
    "date": _op(lambda ns: Expr(exp.Cast(this=_arg(ns.expr), to=_type("DATE")), ns.expr.name, "date")),
    "year": _dt_part(exp.Year),
    "quarter": _dt_part(exp.Quarter),
    "month": _dt_part(exp.Month),
    "day": _dt_part(exp.Day),
    "weekday": _dt_part(exp.DayOfWeekIso),  # Polars: Monday = 1 ... Sunday = 7
    "hour": _dt_part(exp.Hour),
    "minute": _dt_part(exp.Minute),
    "second": _dt_part(exp.Second),
}

# ---------------------------------------------------------------------------------------------
# Operators.

_BINARY: dict[type[ast.operator], type[exp.Expression]] = {
    ast.Add: exp.Add, ast.Sub: exp.Sub, ast.Mult: exp.Mul, ast.Div: exp.Div,  # `/` is float division in both
    ast.BitAnd: exp.And, ast.BitOr: exp.Or,  # Kleene logic in both
}
_COMPARE: dict[type[ast.cmpop], type[exp.Expression]] = {
    ast.Eq: exp.EQ, ast.NotEq: exp.NEQ, ast.Lt: exp.LT, ast.LtE: exp.LTE, ast.Gt: exp.GT, ast.GtE: exp.GTE,
}
# Polars floor division, modulo and power differ from DuckDB's for negative operands or types.
_OPERATOR_SYMBOLS: dict[type[ast.operator], str] = {
    ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**", ast.BitXor: "^", ast.LShift: "<<",
    ast.RShift: ">>", ast.MatMult: "@",
}

# Friendly names for syntax we reject, so the message says what to change.
_SYNTAX_NAMES: dict[type[ast.AST], str] = {
    ast.Lambda: "lambda", ast.ListComp: "comprehension", ast.SetComp: "comprehension",
    ast.DictComp: "comprehension", ast.GeneratorExp: "generator expression", ast.JoinedStr: "f-string",
    ast.Starred: "starred argument", ast.Subscript: "subscript", ast.IfExp: "conditional expression",
    ast.NamedExpr: "assignment expression", ast.Dict: "dict", ast.Set: "set",
    ast.BoolOp: "and/or (use & and | between Polars expressions)", ast.Await: "await",
}


def _snippet(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


class _Walker:
    """Evaluates the syntax tree symbolically: every node becomes a Value, never Python code."""

    def __init__(self) -> None:
        self._visitors: dict[type[ast.AST], Callable[[ast.AST], Value]] = {
            ast.Constant: self._constant, ast.Name: self._name, ast.Attribute: self._attribute,
            ast.Call: self._call, ast.List: self._sequence, ast.Tuple: self._sequence,
            ast.BinOp: self._binop, ast.UnaryOp: self._unaryop, ast.Compare: self._compare,
        }

    def visit(self, node: ast.AST) -> Value:
        visitor = self._visitors.get(type(node))
        if visitor is None:
            name = _SYNTAX_NAMES.get(type(node), type(node).__name__.lower())
            raise TranslationError(f"unsupported syntax {name}: {_snippet(node)}")
        return visitor(node)

    def _constant(self, node: ast.Constant) -> Const:
        value = node.value
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise TranslationError(f"unsupported literal {_snippet(node)}")
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
            raise TranslationError(f"integer literal out of range: {value}")
        return Const(value)

    def _name(self, node: ast.Name) -> _Pl:
        if node.id != "pl":
            raise TranslationError(f"unsupported name {node.id}")
        return PL

    def _sequence(self, node: ast.List | ast.Tuple) -> Seq:
        return Seq(tuple(self.visit(e) for e in node.elts))

    def _attribute(self, node: ast.Attribute) -> Value:
        _check_attribute(node)
        receiver = self.visit(node.value)
        if receiver is PL and node.attr in _DTYPES:
            return _DTYPES[node.attr]
        if isinstance(receiver, Expr) and node.attr in ("str", "dt"):
            return Namespace(receiver, node.attr)
        raise TranslationError(f"unsupported attribute {_snippet(node)}")

    def _call(self, node: ast.Call) -> Value:
        func = node.func
        if not isinstance(func, ast.Attribute) or _foreign_root(func):
            raise TranslationError(f"unsupported call {_snippet(func)}")
        _check_attribute(func)
        receiver = self.visit(func.value)
        table, label = _methods(receiver)
        op = table.get(func.attr)
        if op is None:
            raise TranslationError(_unknown_call(label, func))
        what = f"{label}{func.attr}()"
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise TranslationError(f"unsupported starred argument in {what}")
        args = tuple(self.visit(a) for a in node.args)
        keywords: dict[str, Value] = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise TranslationError(f"unsupported **kwargs in {what}")
            if kw.arg not in op.params or kw.arg in keywords:
                raise TranslationError(f"unsupported keyword argument {kw.arg}= in {what}")
            keywords[kw.arg] = self.visit(kw.value)
        return op.fn(receiver, **_bind(op, args, keywords, what))

    def _binop(self, node: ast.BinOp) -> Expr:
        node_type = _BINARY.get(type(node.op))
        if node_type is None:
            symbol = _OPERATOR_SYMBOLS.get(type(node.op), type(node.op).__name__)
            raise TranslationError(f"unsupported operator {symbol}: {_snippet(node)}")
        left, right = self.visit(node.left), self.visit(node.right)
        if not (isinstance(left, Expr) or isinstance(right, Expr)):
            raise TranslationError(f"operator between plain values: {_snippet(node)}")
        a, b = _expr(left, "operand"), _expr(right, "operand")
        if node_type is exp.Add and "str" in (a.kind, b.kind):  # Polars `+` concatenates strings
            node_type = exp.DPipe
        if node_type in (exp.And, exp.Or):
            kind: str | None = "bool"
        elif node_type is exp.DPipe:
            kind = "str"
        elif node_type is exp.Div or "float" in (a.kind, b.kind):
            kind = "float"
        else:
            kind = "int" if a.kind == b.kind == "int" else None
        name = a.name if isinstance(left, Expr) else None  # Polars names `1 + x` "literal"
        return Expr(node_type(this=_operand(a), expression=_operand(b)), name, kind)

    def _unaryop(self, node: ast.UnaryOp) -> Value:
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            raise TranslationError(f"unsupported `not` (use ~ or .not_()): {_snippet(node)}")
        if isinstance(operand, Const) and isinstance(node.op, (ast.USub, ast.UAdd)) \
                and isinstance(operand.value, (int, float)) and not isinstance(operand.value, bool):
            return Const(-operand.value if isinstance(node.op, ast.USub) else operand.value)
        if not isinstance(operand, Expr):
            raise TranslationError(f"unsupported operand in {_snippet(node)}")
        if isinstance(node.op, ast.Invert):
            return Expr(exp.Not(this=_operand(operand)), operand.name, "bool")
        if isinstance(node.op, ast.USub):
            return Expr(exp.Neg(this=_operand(operand)), operand.name, operand.kind)
        return operand

    def _compare(self, node: ast.Compare) -> Expr:
        if len(node.ops) != 1:
            raise TranslationError(f"unsupported chained comparison: {_snippet(node)}")
        node_type = _COMPARE.get(type(node.ops[0]))
        if node_type is None:
            hint = "use ==, !=, <, <=, >, >=, .is_in() or .is_null()"
            raise TranslationError(f"unsupported comparison ({hint}): {_snippet(node)}")
        left, right = self.visit(node.left), self.visit(node.comparators[0])
        if not (isinstance(left, Expr) or isinstance(right, Expr)):
            raise TranslationError(f"comparison between plain values: {_snippet(node)}")
        a, b = _expr(left, "operand"), _expr(right, "operand")
        # `3 < x` runs as `x > 3` in Python, so the output keeps x's name.
        name = a.name if isinstance(left, Expr) else b.name
        return Expr(node_type(this=_operand(a), expression=_operand(b)), name, "bool")


def _unknown_call(label: str, func: ast.Attribute) -> str:
    if label == "pl.":
        return f"unsupported function pl.{func.attr}()"
    if label:
        hint = " (Polars calls it .is_between)" if func.attr == "between" else ""
        return f"unsupported method {label}{func.attr}(){hint}"
    return f"unsupported call {_snippet(func)}"


def _check_attribute(node: ast.Attribute) -> None:
    if node.attr.startswith("_"):
        raise TranslationError(f"unsupported attribute {node.attr}")


def _foreign_root(node: ast.AST) -> bool:
    """True when a call chain starts from a name other than `pl` (np.random.normal, open, ...)."""
    while isinstance(node, (ast.Attribute, ast.Call)):
        node = node.value if isinstance(node, ast.Attribute) else node.func
    return isinstance(node, ast.Name) and node.id != "pl"


def _methods(receiver: Value) -> tuple[dict[str, Op], str]:
    """The functions callable on a receiver and how to name them in messages."""
    if receiver is PL:
        return _PL_FUNCTIONS, "pl."
    if isinstance(receiver, Expr):
        return ({**_EXPR_METHODS, **_OPEN_CASE_METHODS} if receiver.open_case else _EXPR_METHODS), "."
    if isinstance(receiver, Namespace):
        return (_STR_METHODS if receiver.kind == "str" else _DT_METHODS), f".{receiver.kind}."
    if isinstance(receiver, PendingWhen):
        return _PENDING_WHEN_METHODS, "."
    return {}, ""


def _bind(op: Op, args: tuple[Value, ...], keywords: dict[str, Value], what: str) -> dict[str, object]:
    if op.varargs:
        if keywords:
            raise TranslationError(f"unsupported keyword argument in {what}")
        return {"args": args}
    if len(args) > len(op.params):
        raise TranslationError(f"too many arguments to {what}")
    bound: dict[str, object] = dict(zip(op.params, args))
    for name, value in keywords.items():
        if name in bound:
            raise TranslationError(f"argument {name} given twice in {what}")
        bound[name] = value
    for name in op.params:
        if name not in bound:
            if name not in op.defaults:
                raise TranslationError(f"{what} is missing argument {name}")
            bound[name] = Const(op.defaults[name])
    return bound


# ---------------------------------------------------------------------------------------------
# Entry points.


def uses_polars(tree: ast.Expression) -> bool:
    """Whether parsed text reads as Polars code (refers to `pl`) rather than SQL."""
    return any(isinstance(n, ast.Name) and n.id == "pl" for n in ast.walk(tree))


def _expression(value: Value) -> Expr:
    if isinstance(value, Expr):
        return value
    raise TranslationError("expected a Polars expression such as pl.col(\"Channel\") == \"Web\"")


def to_filter(tree: ast.Expression) -> exp.Expression:
    """A predicate; a list of predicates is and-ed, as `DataFrame.filter` does."""
    value = _Walker().visit(tree.body)
    parts = [_expression(v) for v in value.items] if isinstance(value, Seq) else [_expression(value)]
    if not parts:
        raise TranslationError("expected a Polars expression, got an empty list")
    for part in parts:
        if part.kind not in (None, "bool"):
            raise TranslationError(f"a filter must be a boolean expression, not {part.kind}")
    return _combine(parts, exp.And)


def to_columns(tree: ast.Expression) -> list[tuple[str, exp.Expression]]:
    """(output name, expression) per item of a list of Polars expressions (or one expression)."""
    value = _Walker().visit(tree.body)
    items = value.items if isinstance(value, Seq) else (value,)
    columns = []
    for item in items:
        e = _expression(item)
        if e.name is None:
            raise TranslationError(f"derived column {e.node.sql('duckdb')} needs a name: end it with .alias(\"name\")")
        columns.append((e.name, e.node))
    return columns
