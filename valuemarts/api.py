"""The valuemarts library API: one `Warehouse` object for everything a warehouse team does.

The command line, the viewer and the tests call this and nothing below it, so a report read in
a notebook is the report `valuemarts report` prints. The report renderer and the build
are imported by the methods that use them, so a process that asks for one report loads no more.

Examples
--------
>>> from valuemarts.api import Warehouse
>>> wh = Warehouse.open("data/warehouse.duckdb")  # doctest: +SKIP
>>> wh.report("engagement", by=["Channel"])  # doctest: +SKIP
>>> Warehouse("data/warehouse.duckdb", read_only=False).build("config.toml", ih="exports/ih")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import duckdb
import polars as pl

from valuemarts.duck import connect
from valuemarts.errors import ValueMartsError
from valuemarts.paths import check_warehouse_path, default_spark_warehouse, default_warehouse
from valuemarts.reports.relations import model_grains
from valuemarts.sql_names import quote_ident
from valuemarts.user_sql import query_read_only

if TYPE_CHECKING:
    from valuemarts.ask import AskResult
    from valuemarts.build import BuildSummary
    from valuemarts.config.compiler import CompiledConfig

PathLike = Union[str, os.PathLike]
Paths = Union[PathLike, Sequence[PathLike]]
Log = Callable[[str], None]

_MART_SCHEMAS = ("marts", "intermediate", "staging")
TARGETS = ("duckdb", "spark")


class Warehouse:
    """A valuemarts warehouse file: reports, read-only SQL and the mart list; builds for writers.

    The object holds no connection: each call opens the file, answers and closes it, so the
    call after a build reads the new warehouse.

    Parameters
    ----------
    path : str or PathLike, optional
        The DuckDB warehouse file (default: $VALUEMARTS_WAREHOUSE, else data/warehouse.duckdb
        in the project). It need not exist yet for a writer.
    read_only : bool, default True
        Readers may report, query and list; only a writer (`read_only=False`) may load and build.
    target : str, default "duckdb"
        The engine: `duckdb`, or `spark`, where `path` is a Spark warehouse folder
        (valuemarts.spark; README "Running on Spark"), which loads, builds, reports and lists
        its marts; SQL and the history are DuckDB's only.

    Examples
    --------
    >>> reader = Warehouse("data/warehouse.duckdb")  # doctest: +SKIP
    >>> writer = Warehouse("data/warehouse.duckdb", read_only=False)  # doctest: +SKIP
    """

    def __init__(self, path: PathLike | None = None, *, read_only: bool = True, target: str = "duckdb") -> None:
        if target not in TARGETS:
            raise ValueMartsError(f"target {target!r}: expected one of {', '.join(TARGETS)}")
        self.target = target
        self.path = Path(path) if path is not None else (default_warehouse() if target == "duckdb"
                                                         else default_spark_warehouse())
        self.read_only = read_only
        if target == "duckdb":
            check_warehouse_path(self.path)

    @classmethod
    def open(cls, path: PathLike | None = None, target: str = "duckdb") -> Warehouse:
        """The warehouse at `path`, read-only: reports, SQL and the mart list, never a write.

        Examples
        --------
        >>> Warehouse.open("data/warehouse.duckdb").marts()  # doctest: +SKIP
        >>> Warehouse.open("data/spark", target="spark").report("engagement", by="Channel")  # doctest: +SKIP
        """
        return cls(path, read_only=True, target=target)

    def __repr__(self) -> str:
        return f"Warehouse({str(self.path)!r}, read_only={self.read_only}, target={self.target!r})"

    # ---- read -----------------------------------------------------------------------------

    def metrics(self) -> list[str]:
        """The metric names configured for this warehouse, in config order (what `report` takes).

        They come from the config the warehouse was built with, so they match its state tables.

        Examples
        --------
        >>> Warehouse.open("data/warehouse.duckdb").metrics()  # doctest: +SKIP
        ['engagement', 'conversion', 'model_ml_scores', 'descriptive', 'experiment', 'clv']
        """
        from valuemarts.reports.query import load_metrics

        return list(load_metrics(self._existing()))

    def report(self, metric: str, by: str | Sequence[str] = (), where: str | None = None,
               property: str | None = None) -> pl.DataFrame:
        """A metric re-aggregated from its state to the grouping `by`, scored as its mart is.

        Parameters
        ----------
        metric : str
            A metric named in the config: engagement, conversion, model_ml_scores, descriptive,
            experiment, clv or any other table under [metrics].
        by : str or sequence of str, default ()
            Grouping columns, any subset of the metric's group_by; none gives one row for all data.
            A single string is one column name.
        where : str, optional
            A filter on grouping columns applied before aggregation (Polars or SQL syntax, as in
            the config).
        property : str, optional
            model_ml_scores: the score column (Propensity, the default, or FinalPropensity);
            descriptive: one described column.

        Returns
        -------
        polars.DataFrame
            One row per group: the grouping columns, then the metric's columns (see the CLI
            contract for each family).

        Raises
        ------
        ValueMartsError
            Unknown metric, a column outside the metric's grouping, a bad filter, or no warehouse.

        Examples
        --------
        >>> wh = Warehouse.open("data/warehouse.duckdb")  # doctest: +SKIP
        >>> wh.report("engagement", by="Channel").select("Channel", "CTR", "Lift_P_Val")  # doctest: +SKIP
        >>> wh.report("model_ml_scores", by=["Channel"], where="Channel == 'Web'", property="FinalPropensity")  # doctest: +SKIP
        """
        from valuemarts.reports.query import ReportRequest, load_metrics, report_sql

        columns = [by] if isinstance(by, str) else list(by)
        if self.target == "spark":
            from valuemarts.spark.read import spark_report

            return spark_report(self.path, metric, columns, where, property)
        path = self._existing()
        con = connect(path, read_only=True)
        try:
            sql = report_sql(load_metrics(path, con), ReportRequest(metric, columns, where, property))
            return con.execute(sql).pl()
        except duckdb.Error as exc:
            raise ValueMartsError(f"report {metric}: {str(exc).splitlines()[0]}") from exc
        finally:
            con.close()

    def sql(self, query: str) -> pl.DataFrame:
        """The result of one read-only SELECT over the warehouse.

        The statement is checked (one SELECT or EXPLAIN of one, no state-changing functions) and
        runs on a connection that can read this warehouse and no other file; see
        `valuemarts.user_sql`.

        Raises
        ------
        ValueMartsError
            "query: ..." when the query is refused or fails.

        Examples
        --------
        >>> Warehouse.open("data/warehouse.duckdb").sql(
        ...     "select source, sum(rows_read) from marts.mart_file_loads group by 1")  # doctest: +SKIP
        """
        self._duckdb_only("sql")
        return query_read_only(self._existing(), query)

    def marts(self, include_all: bool = False) -> pl.DataFrame:
        """The marts with their grain (dbt `meta.grain`) and row counts.

        Parameters
        ----------
        include_all : bool, default False
            Also list the intermediate and staging models.

        Returns
        -------
        polars.DataFrame
            Columns mart (schema.table), grain and rows, ordered by schema and name.

        Examples
        --------
        >>> Warehouse.open("data/warehouse.duckdb").marts().filter(pl.col("mart") == "marts.mart_file_loads")  # doctest: +SKIP
        """
        schemas = list(_MART_SCHEMAS if include_all else _MART_SCHEMAS[:1])
        if self.target == "spark":
            from valuemarts.spark.read import spark_marts
            from valuemarts.spark.session import SparkWarehouse

            grains = model_grains(SparkWarehouse(self.path).landing_db)
            found = spark_marts(self.path, schemas)
            tables, rows = [(s, t) for s, t, _ in found], [n for _, _, n in found]
        else:
            path = self._existing()
            grains = model_grains(path)
            con = connect(path, read_only=True)
            try:
                tables = con.execute(
                    "select table_schema, table_name from information_schema.tables where table_schema in "
                    f"({', '.join('?' for _ in schemas)}) order by table_schema, table_name", schemas).fetchall()
                rows = [con.execute(f"select count(*) from {quote_ident(s)}.{quote_ident(t)}").fetchone()[0]
                        for s, t in tables]
            finally:
                con.close()
        return pl.DataFrame({"mart": [f"{s}.{t}" for s, t in tables], "grain": [grains.get(t, "") for _, t in tables],
                             "rows": rows}, schema={"mart": pl.String, "grain": pl.String, "rows": pl.Int64})

    def ask(self, question: str, endpoint: str | None = None, model: str | None = None,
            api_key: str | None = None, timeout: float | None = None) -> AskResult:
        """A question answered from the marts by a chat-completions endpoint the caller chooses.

        Off unless an endpoint is given or $VALUEMARTS_LLM_URL is set: nothing is sent anywhere by
        default. The prompt (the question and the marts' schema and descriptions, never rows) is
        returned with the answer so it can be shown; the SQL of the answer runs only after it is
        checked to be one SELECT over schema marts, on the same locked connection as `sql`.

        Parameters
        ----------
        question : str
            In plain words.
        endpoint : str, optional
            An OpenAI-compatible server's base URL (`/chat/completions` is appended unless the URL
            ends with it); default $VALUEMARTS_LLM_URL.
        model : str, optional
            Default $VALUEMARTS_LLM_MODEL.
        api_key : str, optional
            Sent as a bearer token; default $VALUEMARTS_LLM_API_KEY; none when empty.
        timeout : float, optional
            Seconds to wait for the answer (default 120).

        Returns
        -------
        AskResult
            prompt (the messages sent), answer, sql (what ran) and result (a polars frame).

        Raises
        ------
        ValueMartsError
            No endpoint or model configured, or no warehouse (nothing was sent).
        valuemarts.ask.AskError
            The endpoint failed, or the answer's SQL was refused or failed; carries the prompt,
            the answer and the SQL.

        Examples
        --------
        >>> answer = Warehouse.open().ask("Which channel has the highest CTR?",
        ...                               endpoint="http://127.0.0.1:8080/v1", model="qwen2.5-coder")  # doctest: +SKIP
        >>> print(answer.sql); answer.result  # doctest: +SKIP
        """
        from valuemarts.ask import ask

        return ask(self._existing(), question, endpoint, model, api_key, timeout)
    def specs(self) -> dict[str, Any]:
        """The compiled config the warehouse was built with, as readers need it.

        Readers (the viewer, `report`) must describe the marts with the config that built them,
        not with whatever config file is on disk now.

        Returns
        -------
        dict
            config_name, config_hash, global_filters, metrics (each with its family and
            group_columns), reports (each `[reports.*]` table, checked), copyright, ux, variants.

        Examples
        --------
        >>> Warehouse.open("data/warehouse.duckdb").specs()["global_filters"]  # doctest: +SKIP
        ['Channel', 'Year', 'PlacementType', 'Issue', 'PropensitySource']
        """
        from valuemarts.reports.query import load_report_specs

        return load_report_specs(self._existing())

    def builds(self) -> pl.DataFrame:
        """The successful dbt builds recorded in the warehouse, newest first.

        Tells a reader when the marts it shows were made and with which config; empty for a
        warehouse that was loaded but never built.

        Returns
        -------
        polars.DataFrame
            Columns built_at (timestamp with time zone), config_name, config_hash.

        Examples
        --------
        >>> Warehouse.open("data/warehouse.duckdb").builds().row(0, named=True)["config_name"]  # doctest: +SKIP
        'Demo'
        """
        from valuemarts.ingest.landing import BUILDS

        con = connect(self._existing(), read_only=True)
        try:
            return con.execute(f"select built_at, config_name, config_hash from {BUILDS} order by built_at desc").pl()
        except duckdb.CatalogException:
            return pl.DataFrame(schema={"built_at": pl.Datetime(time_zone="UTC"), "config_name": pl.String,
                                        "config_hash": pl.String})
        finally:
            con.close()

    def input_paths(self) -> tuple[list[str], list[str]]:
        """The IH and holdings paths of the last load, which a build without paths reuses.

        A reader that adds files (the viewer's import) passes these plus its own, so the
        warehouse keeps remembering every source it was built from.

        Returns
        -------
        tuple of (list of str, list of str)
            IH paths, holdings paths; empty lists when nothing was loaded yet.
        """
        if not self.path.exists():
            return [], []
        from valuemarts.ingest.landing import last_input_paths

        con = connect(self.path, read_only=True)
        try:
            return last_input_paths(con)
        finally:
            con.close()

    def loaded_columns(self) -> tuple[dict[str, str] | None, dict[str, str] | None]:
        """The columns of the IH and holdings data already loaded, with their DuckDB types.

        A config is checked against these (as `build` does after loading), so a column name
        the data lacks is found before a build; (None, None) without a warehouse.
        """
        if not self.path.exists():
            return None, None
        from valuemarts.ingest.landing import loaded_column_types

        con = connect(self.path, read_only=True)
        try:
            return loaded_column_types(con)
        finally:
            con.close()

    def check_config(self, text: str) -> CompiledConfig:
        """Validate a TOML config's text as `valuemarts compile` would for this warehouse.

        Nothing is written: an editor can check a config before anything is applied.

        Parameters
        ----------
        text : str
            The TOML text (the reference system's format).

        Returns
        -------
        CompiledConfig
            The compiled config; `.warnings` are `key.path: message` lines, and
            `.report_specs["config_hash"]` says whether it is the config the warehouse was
            built with (compare with `builds()`).

        Raises
        ------
        ConfigErrors
            Every problem found, each with its TOML key path (`config` for a syntax error).

        Examples
        --------
        >>> Warehouse.open("data/warehouse.duckdb").check_config("[metrics]\\nglobal_filters = 1")  # doctest: +SKIP
        Traceback (most recent call last):
        valuemarts.errors.ConfigErrors: metrics.global_filters: expected a list of strings, got 1
        """
        import tomllib

        from valuemarts.config.compiler import compile_config
        from valuemarts.errors import ConfigError, ConfigErrors

        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigErrors([ConfigError("config", f"invalid TOML: {exc}")]) from exc
        ih_columns, holdings_columns = self.loaded_columns()
        return compile_config(raw, text, ih_columns=ih_columns, holdings_columns=holdings_columns)

    # ---- write ----------------------------------------------------------------------------

    def load(self, config: PathLike, ih: Paths | None = None, holdings: Paths | None = None, *,
             wait: bool = False, log: Log | None = None) -> BuildSummary:
        """Land new export files without running dbt, for orchestrators that run `dbt build`.

        Same arguments, lock and errors as `build`, without `full_refresh`.

        Examples
        --------
        >>> Warehouse("data/warehouse.duckdb", read_only=False).load("config.toml", ih="exports/ih")  # doctest: +SKIP
        """
        from valuemarts.build import load

        self._writable("load")
        if self.target == "spark":
            from valuemarts.spark.build import load_spark

            return load_spark(Path(config), self.path, _path_list(ih), _path_list(holdings), log=log or _quiet,
                              wait=wait)
        return load(Path(config), self.path, _path_list(ih), _path_list(holdings), log=log or _quiet, wait=wait)

    def build(self, config: PathLike, ih: Paths | None = None, holdings: Paths | None = None, *,
              full_refresh: bool = False, wait: bool = False, log: Log | None = None) -> BuildSummary:
        """Load new export files, run `dbt build` and swap the new warehouse in atomically.

        Parameters
        ----------
        config : str or PathLike
            The TOML config (the reference system's format).
        ih, holdings : path or sequence of paths, optional
            Files, folders (searched with the config's file_pattern) or globs; None reuses the
            paths of the last load.
        full_refresh : bool, default False
            Start from an empty warehouse and reload every file.
        wait : bool, default False
            Wait for a build already running on this warehouse instead of stopping at once.
        log : callable, optional
            Receives progress lines (files read with their rows, each dbt model as it finishes);
            quiet by default.

        Returns
        -------
        BuildSummary
            Files new/skipped/replaced, rows read and kept, models built, seconds; `.lines()`
            are the summary the CLI prints.

        Raises
        ------
        ValueMartsError
            On a read-only Warehouse, a bad config or file, or another build holding the lock.
            The previous warehouse is left intact.

        Examples
        --------
        >>> wh = Warehouse("data/warehouse.duckdb", read_only=False)  # doctest: +SKIP
        >>> print("\\n".join(wh.build("config.toml", ih="exports/ih", holdings="exports/holdings", log=print).lines()))  # doctest: +SKIP
        """
        from valuemarts.build import build

        self._writable("build")
        if self.target == "spark":
            from valuemarts.spark.build import build_spark

            return build_spark(Path(config), self.path, _path_list(ih), _path_list(holdings), full_refresh,
                               log=log or _quiet, wait=wait)
        return build(Path(config), self.path, _path_list(ih), _path_list(holdings), full_refresh,
                     log=log or _quiet, wait=wait)

    # ---- history --------------------------------------------------------------------------
    # The ledger beside the warehouse (valuemarts.history): readable before a first successful
    # build (a failed one is recorded too); a verdict is a write to it, not to the warehouse, so
    # readers such as the viewer may record one.

    def runs(self, limit: int | None = None) -> pl.DataFrame:
        """The run ledger, newest first: every build and load with its status, config version,
        files and rows loaded and rejected, models built, versions and error.

        Examples
        --------
        >>> Warehouse.open("data/warehouse.duckdb").runs(limit=5)  # doctest: +SKIP
        """
        from valuemarts.history.runs import runs

        return runs(self.path, limit)

    def config_versions(self) -> pl.DataFrame:
        """Every config version builds and loads used: name, version, content hash, first use,
        how many runs used it and when last."""
        from valuemarts.history.configs import config_versions

        return config_versions(self.path)

    def config_text(self, version: int, config_name: str | None = None) -> str:
        """The exact TOML of a config version (of `config_name`; default: the most recent name).

        Examples
        --------
        >>> Path("restored.toml").write_text(Warehouse.open().config_text(2))  # doctest: +SKIP
        """
        from valuemarts.history.configs import config_text

        return config_text(self.path, version, config_name)

    def config_diff(self, old_version: int, new_version: int, config_name: str | None = None) -> pl.DataFrame:
        """Two config versions compared by TOML key path: key, change (added, removed, changed),
        old and new value."""
        from valuemarts.history.configs import config_diff

        return config_diff(self.config_text(old_version, config_name), self.config_text(new_version, config_name))

    def experiment_history(self, experiment: str | None = None) -> pl.DataFrame:
        """Every build's snapshot of each experiment arm (counts, CTR, lift and CI, p-values raw and
        adjusted, sample-ratio checks), oldest first, with the experiment's `peeking` flag and the
        dates its significance came and went (`peeking_dates`)."""
        from valuemarts.history.experiments import experiment_history

        return experiment_history(self.path, experiment)

    def add_verdict(self, subject: str, decision: str, reason: str, note: str = "",
                    decided_by: str | None = None) -> int:
        """Record a decision on ``experiment:NAME`` or ``report:NAME`` (accept, reject,
        more-data) with a reason category and a note; returns the verdict's id.

        Examples
        --------
        >>> Warehouse.open().add_verdict("experiment:BannerColour", "accept", "significant", "Orange wins")  # doctest: +SKIP
        """
        from valuemarts.history.verdicts import add_verdict

        return add_verdict(self.path, subject, decision, reason, note, decided_by)

    def verdicts(self, subject: str | None = None) -> pl.DataFrame:
        """Every verdict (on `subject` only, if given), oldest first."""
        from valuemarts.history.verdicts import verdicts

        return verdicts(self.path, subject)

    # ---- helpers --------------------------------------------------------------------------

    def _existing(self) -> Path:
        if not self.path.exists():
            raise ValueMartsError(f"{self.path}: no warehouse yet; run `valuemarts build` first")
        return self.path

    def _duckdb_only(self, what: str) -> None:
        if self.target != "duckdb":
            raise ValueMartsError(f"{what}: not available on a {self.target} warehouse (README \"Running on Spark\")")

    def _writable(self, what: str) -> None:
        if self.read_only:
            raise ValueMartsError(f"{what}: {self.path} is open read-only; "
                                  "use Warehouse(path, read_only=False) to load or build")


def max_upload_bytes() -> int:
    """The largest file a reader may hand over for a load: the unpacked-size limit of one archive.

    An upload is bounded like what `load` unpacks from one archive, by the same setting
    (VALUEMARTS_ARCHIVE_MAX_BYTES, default 2 GiB), so a file refused here would be refused there.

    Examples
    --------
    >>> max_upload_bytes() > 0
    True
    """
    from valuemarts.ingest.readers import DEFAULT_MAX_BYTES, MAX_BYTES_ENV, _env_limit

    return int(_env_limit(MAX_BYTES_ENV, DEFAULT_MAX_BYTES))


def _path_list(paths: Paths | None) -> list[str] | None:
    if paths is None:
        return None
    if isinstance(paths, (str, os.PathLike)):
        return [os.fspath(paths)]
    return [os.fspath(p) for p in paths]


def _quiet(_message: str) -> None:
    """The default progress sink of the library: say nothing."""


def compare_configs(config_a: PathLike, config_b: PathLike, ih: Paths | None = None, holdings: Paths | None = None,
                    *, log: Log | None = None) -> pl.DataFrame:
    """Build the same files under two configs (in temporary warehouses) and line up their metrics.

    Returns
    -------
    polars.DataFrame
        metric, family_a, family_b, row (the report row's key values), column, a, b, difference (b - a).

    Examples
    --------
    >>> compare_configs("a.toml", "b.toml", ih="exports/ih").filter(pl.col("column") == "CTR")  # doctest: +SKIP
    """
    from valuemarts.compare_configs import compare_configs as compare

    return compare(Path(config_a), Path(config_b), _path_list(ih), _path_list(holdings), log or _quiet)


def draft_config(samples: Paths) -> str:
    """A commented config drafted from sample IH and/or holdings files or folders (no network,
    no AI): file rules from the names, outcome labels split into positive and negative lists by
    Pega's standard outcomes, defaults for the columns the sample lacks, dimensions, experiments,
    CLV and a few reports. `build` accepts it as it is.

    Examples
    --------
    >>> Path("config.toml").write_text(draft_config(["exports/ih", "exports/holdings"]))  # doctest: +SKIP
    """
    from valuemarts.draft import draft_config as draft

    return draft([Path(p) for p in (_path_list(samples) or [])])
