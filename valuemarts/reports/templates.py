"""Render the project's dbt scoring macros outside dbt, so `report` and the viewer run the very
SQL the marts are built with.

Only macros under `macros/metrics/` are rendered here; they use nothing of dbt's context but
`vm_ident`, `vm_string`, `adapter.dispatch` and `return`, which this module provides for the
warehouse's engine (`engine`: duckdb, or spark): `vm_ident` and `vm_string` as
valuemarts.sql_names quotes them for it (the rules of macros/config.sql), `adapter.dispatch` to
the engine's `spark__` implementation where there is one, else to `default__`.
The macros are compiled from the project's files only; names and other config values reach them
as arguments, which Jinja prints as text and never renders as a template.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2

from valuemarts.paths import project_dir
from valuemarts.sql_names import quote_ident, quote_spark_ident, quote_spark_string, quote_string

# engine -> (vm_ident, vm_string)
_QUOTING = {"duckdb": (quote_ident, quote_string), "spark": (quote_spark_ident, quote_spark_string)}


class _MacroReturn(Exception):
    def __init__(self, value: Any):
        self.value = value


def _return(value: Any) -> None:
    raise _MacroReturn(value)


class _Adapter:
    """The adapter method scoring macros may use: dispatch to the engine's implementation (a
    `spark__` macro on Spark), else the default__ one."""

    def __init__(self, module: Any, engine: str):
        self._module = module
        self._engine = engine

    def dispatch(self, name: str, package: str | None = None) -> Any:
        own = getattr(self._module, f"{self._engine}__{name}", None)
        return _call(own if own is not None else getattr(self._module, f"default__{name}"))


def _call(macro: Any) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return macro(*args, **kwargs)
        except _MacroReturn as returned:
            return returned.value
    return call


@lru_cache(maxsize=2)
def _module(engine: str = "duckdb") -> Any:
    source = "\n".join(p.read_text() for p in sorted((project_dir() / "macros" / "metrics").glob("*.sql")))
    # Compiling the macros takes ~0.1 s, most of a report process; Jinja's bytecode cache (a
    # private per-user folder, keyed by the source's checksum) keeps it to the first report.
    env = jinja2.Environment(extensions=["jinja2.ext.do"], undefined=jinja2.StrictUndefined,
                             loader=jinja2.DictLoader({"metric_macros": source}),
                             bytecode_cache=jinja2.FileSystemBytecodeCache())
    template = env.get_template("metric_macros")
    holder: dict[str, Any] = {}
    proxy = _LateAdapter(holder, engine)
    ident, string = _QUOTING[engine]
    module = template.make_module({"adapter": proxy, "return": _return, "vm_ident": ident, "vm_string": string})
    holder["module"] = module
    return module


class _LateAdapter:
    """The adapter needs the module it lives in; resolve it on first use."""

    def __init__(self, holder: dict[str, Any], engine: str):
        self._holder = holder
        self._engine = engine

    def __getattr__(self, attr: str) -> Any:
        return getattr(_Adapter(self._holder["module"], self._engine), attr)


def render(macro_name: str, *args: Any, engine: str = "duckdb", **kwargs: Any) -> str:
    """The SQL text of macro `macro_name` called with these arguments, for `engine` (duckdb or spark)."""
    result = _call(getattr(_module(engine), macro_name))(*args, **kwargs)
    return str(result)


def returned(macro_name: str, *args: Any) -> Any:
    """The value a dispatched macro returns (its default__ implementation), e.g. a list of names.

    Parameters
    ----------
    macro_name : str
        The name dbt code dispatches (`descriptive_described_columns`), without `default__`.
    *args
        The macro's arguments.

    Returns
    -------
    Any
        What the macro passes to `return`.
    """
    return _Adapter(_module(), "duckdb").dispatch(macro_name)(*args)
