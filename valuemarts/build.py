"""`valuemarts build` and `valuemarts load`: compile, load new files, (build: run dbt,) swap the
new warehouse in atomically.

Both work on a copy of the warehouse (or a new file with --full-refresh) under the warehouse's
exclusive lock and replace the live file with one rename only when everything succeeded, so a
failed or stopped run leaves the previous warehouse intact and readers never see a half-built
file. `load` stops before dbt, for orchestrators that run `dbt build` themselves. Every run,
failed and stopped ones too, goes into the ledger beside the warehouse with the config version it
used, and a build that swapped in new marts adds its experiment snapshot (valuemarts.history).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from valuemarts.config.compiler import CompiledConfig, compile_file
from valuemarts.config.output import DBT_MACRO_NAME, write_compiled
from valuemarts.dbt_runner import run_dbt
from valuemarts.duck import connect
from valuemarts.errors import ValueMartsError
from valuemarts.history.configs import record_config
from valuemarts.history.experiments import snapshot_experiments
from valuemarts.history.runs import recorded_run
from valuemarts.interrupts import stop_signals_raise
from valuemarts.ingest.discover import discover
from valuemarts.ingest.landing import (BUILDS, LANDING_SCHEMA, FileLoad, SourceRules, ensure_landing, last_input_paths,
                                       load_files, loaded_column_types, next_load_id, record_input_paths)
from valuemarts.paths import compiled_dir, project_dir
from valuemarts.warehouse_lock import exclusive_lock


@dataclass
class BuildSummary:
    """What a build or load did: the summary lines the CLI prints."""

    warehouse: Path
    files: list[FileLoad] = field(default_factory=list)
    rows_read: int = 0
    rows_kept: int | None = None   # known once dbt has run
    models_built: int | None = None
    seconds: float = 0.0
    changed_sources: set[str] = field(default_factory=set)   # "ih", "holdings": new or replaced files
    ih_rows: int = 0   # IH rows in the warehouse after loading
    run_id: int | None = None   # the run's row in the ledger (valuemarts.history)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    def lines(self) -> list[str]:
        rows = f"rows: {self.rows_read} read"
        if self.rows_kept is not None:
            rows += (f", {self.rows_kept} kept, {self.rows_read - self.rows_kept} rejected "
                     "(global filter or duplicates)")
        return [
            f"files: {self.count('new')} new, {self.count('skipped')} skipped, {self.count('replaced')} replaced",
            rows,
            *([f"models built: {self.models_built}"] if self.models_built is not None else []),
            f"seconds: {self.seconds:.1f}",
            f"warehouse: {self.warehouse}",
        ]


def build(config: Path, warehouse: Path, ih_paths: list[str] | None = None,
          holdings_paths: list[str] | None = None, full_refresh: bool = False,
          log: Callable[[str], None] = print, wait: bool = False) -> BuildSummary:
    """Load new files and run `dbt build`, then swap the result in.

    Parameters
    ----------
    config : Path
        The TOML config (reference format).
    warehouse : Path
        The live DuckDB warehouse file (created when absent).
    ih_paths, holdings_paths : list of str, optional
        Files, folders (searched with the config's file_pattern) or globs; None reuses the paths
        of the last load.
    full_refresh : bool
        Start from an empty warehouse and reload every file.
    log : callable
        Receives progress lines.
    wait : bool
        Wait for a build running on the same warehouse instead of stopping at once.

    Examples
    --------
    >>> build(Path("config.toml"), Path("data/warehouse.duckdb"), ["exports/ih"], ["exports/holdings"])  # doctest: +SKIP
    """
    return _run(config, warehouse, ih_paths, holdings_paths, full_refresh, log, wait, run_models=True)


def load(config: Path, warehouse: Path, ih_paths: list[str] | None = None,
         holdings_paths: list[str] | None = None, log: Callable[[str], None] = print,
         wait: bool = False) -> BuildSummary:
    """The ingest half of `build`: discover, validate and land new files, record the load and
    write the compiled config where plain `dbt build` finds it; no dbt run.

    Same arguments as `build` (without full_refresh), same lock, same errors.

    Examples
    --------
    >>> load(Path("config.toml"), Path("data/warehouse.duckdb"), ["exports/ih"])  # doctest: +SKIP
    """
    return _run(config, warehouse, ih_paths, holdings_paths, False, log, wait, run_models=False)


def _run(config: Path, warehouse: Path, ih_paths: list[str] | None, holdings_paths: list[str] | None,
         full_refresh: bool, log: Callable[[str], None], wait: bool, run_models: bool) -> BuildSummary:
    """Under the warehouse's exclusive lock; SIGTERM/SIGINT clean up like any failure."""
    started = time.monotonic()
    with recorded_run(warehouse, "build" if run_models else "load") as run:
        first_pass = compile_file(config, check_columns=False)
        run.config_name = first_pass.dbt_vars["config_name"]
        run.config_version = record_config(run.con, run.config_name, config.read_bytes().decode("utf-8"))
        with exclusive_lock(warehouse, wait=wait, log=log), stop_signals_raise():
            summary = run.summary = _run_locked(config, warehouse, first_pass, ih_paths, holdings_paths,
                                                full_refresh, log, run_models)
            if summary.models_built:
                snapshot_experiments(run.con, run.run_id, run.config_version, warehouse)
        summary.run_id = run.run_id
    summary.seconds = time.monotonic() - started
    return summary


def _run_locked(config: Path, warehouse: Path, first_pass: CompiledConfig, ih_paths: list[str] | None,
                holdings_paths: list[str] | None, full_refresh: bool, log: Callable[[str], None],
                run_models: bool) -> BuildSummary:
    ih_paths, holdings_paths = _remembered_paths(warehouse, ih_paths, holdings_paths)
    building = warehouse.with_name(warehouse.name + ".building")
    _remove(building)
    if warehouse.exists() and not full_refresh:
        shutil.copy2(warehouse, building)
    macro_backup = _backup_compiled_macro()
    try:
        summary, compiled = _load(config, first_pass, building, ih_paths, holdings_paths, log)
        summary.warehouse = warehouse
        files_changed = bool(summary.changed_sources)
        clv_rebuilt = False
        if run_models:
            refresh = full_refresh or _config_changed(building, compiled)
            if refresh or files_changed:
                log("running dbt build" + (" (full refresh)" if refresh else ""))
                skipped = [] if refresh else _models_of_unchanged_sources(summary.changed_sources)
                clv_rebuilt = refresh or "holdings" in summary.changed_sources
                # Unit tests check the scoring logic, not the data: plain `dbt build` (and CI) runs
                # them; a production build leaves them out.
                result = run_dbt(["build", "--exclude-resource-type", "unit_test"] + (["--full-refresh"] if refresh else [])
                                 + skipped + _threads(summary.ih_rows, appending=not refresh), building, compiled.dbt_vars,
                                 log=log)
                summary.models_built = result.models_built
                summary.rows_kept = _rows_kept(building, summary.files)
            else:
                # Same files, same config: the marts would come out the same, so leave them as they are.
                log("no new or changed files and the same config: nothing to build")
                summary.models_built, summary.rows_kept = 0, 0
                _remove(building)
        elif not files_changed:
            log("no new or changed files: nothing to load")
            _remove(building)
        swapped = building.exists()
        if swapped:
            os.replace(building, warehouse)
        write_compiled(compiled, compiled_dir(warehouse), project_dir())
    except BaseException:
        _remove(building)
        _restore_compiled_macro(macro_backup)
        raise
    if swapped and summary.models_built and clv_rebuilt:
        # Files (model cards, drift alerts) only for a warehouse that went live, from its marts,
        # and only when the CLV marts were rebuilt (an IH append leaves them, and the files, as they are).
        from valuemarts.clv_files import write_clv_files, written_line  # pulls in scikit-learn: only when CLV files are written

        written = write_clv_files(warehouse)
        if written:
            log(written_line(written))
    return summary


def _load(config: Path, first_pass: CompiledConfig, building: Path, ih_paths: list[str],
          holdings_paths: list[str], log: Callable[[str], None]) -> tuple[BuildSummary, CompiledConfig]:
    summary = BuildSummary(warehouse=building)
    con = connect(building)
    try:
        ensure_landing(con)
        load_id = next_load_id(con)
        for name, paths in (("ih", ih_paths), ("holdings", holdings_paths)):
            side = first_pass.dbt_vars[name]
            if paths and not side["configured"]:
                raise ValueMartsError(f"{name} files given (--{name}, or remembered from the last build) but the config "
                                      f"has no [{name}] section to read them with")
            files = discover(paths, side["file_pattern"], side["group_pattern"], f"{name}.file_pattern") if paths else []
            log(f"{name}: {len(files)} file(s) found")
            loads = load_files(con, files, SourceRules.from_compiled(name, side), load_id, log)
            summary.files += loads
            if any(f.status in ("new", "replaced") for f in loads):
                summary.changed_sources.add(name)
        summary.rows_read = sum(f.rows_read for f in summary.files)
        (summary.ih_rows,) = con.execute(f"select count(*) from {LANDING_SCHEMA}.ih_raw").fetchone()
        record_input_paths(con, load_id, ih_paths, holdings_paths)
        ih_columns, holdings_columns = loaded_column_types(con)
        compiled = compile_file(config, ih_columns=ih_columns, holdings_columns=holdings_columns)
        for warning in compiled.warnings:
            log(f"warning: {warning}")
        con.execute("checkpoint")
    finally:
        con.close()
    return summary, compiled


# From this many IH rows a full build runs one model at a time. Each DuckDB query already uses
# every core, and models side by side share one memory_limit: at 5M rows the offer-set state ran
# out of memory beside the descriptive digests. On 1M rows one model at a time takes the same
# wall time with 13% less peak memory; on 200k rows two at a time hide dbt's own work per model
# (31 s against 38 s), so smaller builds keep the profile's two threads, and so do appends, whose
# models read the new rows and touched cells only and whose time is mostly dbt's own per node.
ONE_MODEL_AT_A_TIME_ROWS = 1_000_000


def _threads(ih_rows: int, appending: bool) -> list[str]:
    return ["--threads", "1"] if ih_rows >= ONE_MODEL_AT_A_TIME_ROWS and not appending else []


# The models that read only one source: an append of IH files leaves the holdings and CLV models
# as they are (they read no IH), and new holdings leave the IH and metric models.
_SOURCE_MODELS = {
    "ih": ["path:models/staging/pega/stg_pega__interactions.sql", "path:models/intermediate/ih",
           "path:models/intermediate/metrics", "path:models/marts/metrics"],
    "holdings": ["path:models/staging/pega/stg_pega__holdings.sql", "path:models/intermediate/holdings",
                 "path:models/intermediate/clv", "path:models/marts/clv"],
}


def _models_of_unchanged_sources(changed: set[str]) -> list[str]:
    """dbt `--exclude` flags for the models of sources without new or replaced files: their
    marts would come out as they are, so an IH append costs no CLV refit."""
    selectors = [s for source, models in _SOURCE_MODELS.items() if source not in changed for s in models]
    return ["--exclude", *selectors] if selectors else []


def _config_changed(building: Path, compiled: CompiledConfig) -> bool:
    """A changed config can change any row (filters, derived columns): rebuild models in full."""
    con = connect(building)
    try:
        exists = con.execute("select count(*) from information_schema.tables where table_schema = ? "
                             "and table_name = '_builds'", [LANDING_SCHEMA]).fetchone()[0]
        if not exists:
            return True
        row = con.execute(f"select config_hash from {BUILDS} order by built_at desc limit 1").fetchone()
        return row is None or row[0] != compiled.dbt_vars["config_hash"]
    finally:
        con.close()


def _rows_kept(building: Path, files: list[FileLoad]) -> int:
    seqs = [f.file_seq for f in files if f.file_seq is not None]
    if not seqs:
        return 0
    con = connect(building, read_only=True)
    try:
        placeholders = ", ".join("?" for _ in seqs)
        (total,) = con.execute(f"select coalesce(sum(rows_kept), 0) from marts.mart_file_loads "
                               f"where file_seq in ({placeholders})", seqs).fetchone()
        return int(total)
    finally:
        con.close()


def _remembered_paths(warehouse: Path, ih_paths: list[str] | None,
                      holdings_paths: list[str] | None) -> tuple[list[str], list[str]]:
    """Without --ih/--holdings, use the paths of the last load."""
    last: tuple[list[str], list[str]] = ([], [])
    if warehouse.exists() and (ih_paths is None or holdings_paths is None):
        con = connect(warehouse, read_only=True)
        try:
            last = last_input_paths(con)
        finally:
            con.close()
    resolved = ([str(Path(p).resolve()) for p in ih_paths] if ih_paths is not None else last[0],
                [str(Path(p).resolve()) for p in holdings_paths] if holdings_paths is not None else last[1])
    if not resolved[0] and not resolved[1]:
        raise ValueMartsError("no input files: pass --ih PATH and/or --holdings PATH (none remembered from a previous load)")
    return resolved


def _backup_compiled_macro() -> bytes | None:
    path = _compiled_macro_path()
    return path.read_bytes() if path.exists() else None


def _restore_compiled_macro(content: bytes | None) -> None:
    path = _compiled_macro_path()
    if content is None:
        _remove(path)
    else:
        path.write_bytes(content)


def _compiled_macro_path() -> Path:
    return project_dir() / "macros" / "compiled" / f"{DBT_MACRO_NAME}.sql"


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        if p.exists():
            p.unlink()
