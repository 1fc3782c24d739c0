"""Loading, staging, deduplication and labelled rows on hand-made exports; safety of builds."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.pega_files import MINIMAL_CONFIG, export_name, ih_row, write_export_zip
from tests.api_build import build
from valuemarts.cli import main
from valuemarts.config.schema import pega_column_name, renamed_columns
from valuemarts.duck import connect
from valuemarts.errors import InputFileError


def _query(warehouse: Path, sql: str) -> list[tuple]:
    con = connect(warehouse, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _build(tmp: Path, ih: Path | None = None, holdings: list[str] | None = None):
    config = tmp / "config.toml"
    if not config.exists():
        config.write_text(MINIMAL_CONFIG)
    return build(config, tmp / "warehouse.duckdb", [str(ih or tmp / "ih")], holdings or [], log=lambda m: None)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_rename_rule():
    names = {"pyName", "pyCategory", "Category", "price", "pxRank", "FinalPropensity"}
    assert pega_column_name("pyName", names) == "Name"
    assert pega_column_name("pyCategory", names) == "PyCategory"  # stripped name exists: kept
    assert pega_column_name("Category", names) == "Category"
    assert pega_column_name("price", names) == "Price"
    assert pega_column_name("pxRank", names) == "Rank"
    assert pega_column_name("FinalPropensity", names) == "FinalPropensity"
    assert pega_column_name("pzInsKey", names) == "InsKey"


def test_staging_renames_like_the_python_rule(tmp_path):
    rows = [ih_row("1", "Impression", pyCategory="a", Category="b", price=1.5)]
    write_export_zip(tmp_path / "ih" / export_name("20241010"), rows)
    _build(tmp_path)
    staged = {r[0] for r in _query(tmp_path / "warehouse.duckdb",
                                   "select column_name from information_schema.columns "
                                   "where table_name = 'stg_pega__interactions'")}
    expected = set(renamed_columns(list(rows[0])).values())
    assert expected <= staged
    assert {"PyCategory", "Category", "Price", "Name", "Rank"} <= staged
    assert "pyName" not in staged and "Propensity" in staged


def test_dedup_across_file_groups_and_labelled_rows(tmp_path):
    day1 = [
        ih_row("1", "Impression", time="20241010T100000.000 GMT"),
        ih_row("1", "Pending", time="20241010T100001.000 GMT"),
        ih_row("2", "Impression", pyPropensity=0.10),
        ih_row("2", "Impression", pyPropensity=0.11),   # duplicate key in the same file: first wins
        ih_row("3", "Impression", channel=None),        # dropped by the global filter
    ]
    day2 = [
        ih_row("1", "Clicked", time="20241011T090000.500 GMT"),  # cross-day click
        ih_row("2", "Impression", pyPropensity=0.20),            # duplicate across groups: latest file wins
    ]
    write_export_zip(tmp_path / "ih" / export_name("20241010"), day1)
    write_export_zip(tmp_path / "ih" / export_name("20241011"), day2)
    summary = _build(tmp_path)
    warehouse = tmp_path / "warehouse.duckdb"
    deduped = _query(warehouse, 'select "InteractionID", "Outcome", "Propensity" from intermediate.int_ih__interactions '
                                "order by 1, 2")
    assert deduped == [("1", "Clicked", 0.02), ("1", "Impression", 0.02), ("1", "Pending", 0.02),
                       ("2", "Impression", 0.20)]
    labelled = _query(warehouse, 'select "InteractionID", y, "Outcome", cast("Day" as varchar) '
                                 "from intermediate.int_ih__labelled_interactions where metric_name = 'engagement' order by 1")
    # One labelled row per offer: Impression + Pending + Clicked is one positive (weakness 4),
    # decided by the click, so it lands on the click's day.
    assert labelled == [("1", 1, "Clicked", "2024-10-11"), ("2", 0, "Impression", "2024-10-10")]
    assert summary.rows_read == 7 and summary.rows_kept == 4


def test_rerun_is_idempotent_and_new_groups_append(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    write_export_zip(tmp_path / "ih" / export_name("20241010"), [ih_row("1", "Impression"), ih_row("2", "Impression")])
    first = _build(tmp_path)
    assert (first.count("new"), first.rows_read) == (1, 2)
    snapshot = _query(warehouse, "select * exclude (_load_id) from intermediate.int_ih__interactions order by _row_key")
    before = _sha(warehouse)

    again = _build(tmp_path)
    assert (again.count("skipped"), again.count("new"), again.rows_read, again.models_built) == (1, 0, 0, 0)
    assert _sha(warehouse) == before
    assert _query(warehouse, "select * exclude (_load_id) from intermediate.int_ih__interactions order by _row_key") == snapshot
    assert _query(warehouse, "select count(*) from landing.ih_raw") == [(2,)]

    write_export_zip(tmp_path / "ih" / export_name("20241011"), [ih_row("2", "Clicked"), ih_row("3", "Impression")])
    appended = _build(tmp_path)
    assert (appended.count("new"), appended.count("skipped")) == (1, 1)
    assert _query(warehouse, 'select "InteractionID", "Outcome" from intermediate.int_ih__interactions order by 1, 2') == [
        ("1", "Impression"), ("2", "Clicked"), ("2", "Impression"), ("3", "Impression")]
    assert _query(warehouse, "select \"InteractionID\", y from intermediate.int_ih__labelled_interactions order by 1") == [
        ("1", 0), ("2", 1), ("3", 0)]


def test_file_with_new_content_replaces_its_rows(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    path = write_export_zip(tmp_path / "ih" / export_name("20241010"), [ih_row("1", "Impression"), ih_row("2", "Impression")])
    _build(tmp_path)
    write_export_zip(path, [ih_row("2", "Impression", pyPropensity=0.5), ih_row("4", "Impression")])
    replaced = _build(tmp_path)
    assert replaced.count("replaced") == 1
    assert _query(warehouse, 'select "InteractionID", "Propensity" from intermediate.int_ih__interactions order by 1') == [
        ("2", 0.5), ("4", 0.02)]
    assert _query(warehouse, "select status, is_current from marts.mart_file_loads order by file_seq") == [
        ("new", False), ("replaced", True)]


def test_files_unchanged_since_their_load_are_not_read_again(tmp_path, monkeypatch):
    """Size and modification time as when loaded: taken as the same content without hashing, so
    an append reads the new files only; any change of either makes the file read and judged by
    its hash."""
    import os

    from valuemarts.api import Warehouse
    from valuemarts.ingest import landing

    hashed: list[str] = []
    real = landing.file_sha256
    monkeypatch.setattr(landing, "file_sha256", lambda path: hashed.append(path.name) or real(path))
    (tmp_path / "config.toml").write_text(MINIMAL_CONFIG)
    warehouse = Warehouse(tmp_path / "warehouse.duckdb", read_only=False)

    def load():
        hashed.clear()
        return warehouse.load(tmp_path / "config.toml", ih=tmp_path / "ih", log=lambda m: None)

    first = write_export_zip(tmp_path / "ih" / export_name("20241010"), [ih_row("1", "Impression")])
    second = write_export_zip(tmp_path / "ih" / export_name("20241011"), [ih_row("2", "Impression")])
    assert load().count("new") == 2 and sorted(hashed) == sorted([first.name, second.name])
    third = write_export_zip(tmp_path / "ih" / export_name("20241012"), [ih_row("3", "Impression")])
    summary = load()
    assert (summary.count("new"), summary.count("skipped"), hashed) == (1, 2, [third.name])
    stat = first.stat()
    os.utime(first, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))   # touched: same content
    summary = load()
    assert (summary.count("skipped"), hashed) == (3, [first.name])
    write_export_zip(second, [ih_row("9", "Impression")])   # new content
    summary = load()
    assert summary.count("replaced") == 1 and second.name in hashed
    assert _query(warehouse.path, "select count(*) from landing._load_log where modified_ns is null") == [(0,)]


@pytest.fixture(scope="module")
def one_export_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with one good export and the warehouse built from it; each bad-file case appends
    to a copy of the folder (one build instead of one per case)."""
    root = tmp_path_factory.mktemp("one_export")
    write_export_zip(root / "ih" / export_name("20241010"), [ih_row("1", "Impression")])
    _build(root)
    return root


@pytest.mark.parametrize("case", ["corrupt_zip", "wrong_type", "missing_column", "empty_file", "bad_timestamp"])
def test_bad_file_names_itself_and_leaves_the_warehouse_untouched(tmp_path, one_export_build, case):
    shutil.copytree(one_export_build, tmp_path, dirs_exist_ok=True)
    warehouse = tmp_path / "warehouse.duckdb"
    before = _sha(warehouse)
    bad = tmp_path / "ih" / export_name("20241011")
    if case == "corrupt_zip":
        bad.write_bytes(b"PK\x03\x04 this is not really a zip archive")
        expected = ["not a readable zip archive"]
    elif case == "wrong_type":
        write_export_zip(bad, [ih_row("5", "Impression"), ih_row("6", "Impression"), ih_row("7", "Impression", pyPropensity="high")])
        expected = ["row 3", "column pyPropensity", "expected a number", "'high'"]
    elif case == "missing_column":
        rows = [{k: v for k, v in ih_row("5", "Impression").items() if k != "pyOutcome"}]
        write_export_zip(bad, rows)
        expected = ["missing required column(s) Outcome"]
    elif case == "bad_timestamp":
        write_export_zip(bad, [ih_row("5", "Impression"), ih_row("6", "Impression", time="yesterday")])
        expected = ["row 2", "column pxOutcomeTime", "Pega timestamp", "'yesterday'"]
    else:
        write_export_zip(bad, [])
        expected = ["no rows"]
    with pytest.raises(InputFileError) as error:
        _build(tmp_path)
    message = str(error.value)
    assert message.startswith(str(bad.resolve()))
    for part in expected:
        assert part in message
    assert _sha(warehouse) == before
    assert not (tmp_path / "warehouse.duckdb.building").exists()
    assert _query(warehouse, "select count(*) from intermediate.int_ih__interactions") == [(1,)]


def test_cli_reports_bad_input_with_exit_code_1(tmp_path, capsys):
    (tmp_path / "config.toml").write_text(MINIMAL_CONFIG)
    bad = tmp_path / "ih" / export_name("20241010")
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not a zip")
    code = main(["build", "--warehouse", str(tmp_path / "w.duckdb"), "--config", str(tmp_path / "config.toml"),
                 "--ih", str(tmp_path / "ih")])
    assert code == 1
    assert str(bad.resolve()) in capsys.readouterr().err
    assert not (tmp_path / "w.duckdb").exists()


def test_sql_command_refuses_writes(tmp_path, capsys):
    write_export_zip(tmp_path / "ih" / export_name("20241010"), [ih_row("1", "Impression")])
    _build(tmp_path)
    warehouse = str(tmp_path / "warehouse.duckdb")
    assert main(["sql", "--warehouse", warehouse, "drop table landing.ih_raw"]) == 1
    assert "only SELECT" in capsys.readouterr().err
    assert main(["sql", "--warehouse", warehouse, "select count(*) as n from landing.ih_raw"]) == 0
    assert capsys.readouterr().out.splitlines() == ["n", "1"]


def test_reports_use_the_config_the_warehouse_was_built_with(tmp_path):
    from valuemarts.reports.query import load_metrics

    write_export_zip(tmp_path / "ih" / export_name("20241010"), [ih_row("1", "Impression"), ih_row("2", "Clicked")])
    _build(tmp_path)
    warehouse = tmp_path / "warehouse.duckdb"
    built_with = load_metrics(warehouse)["engagement"]["group_by"]
    # A failed build with a changed config leaves the warehouse and what reports read as they were.
    (tmp_path / "config.toml").write_text(MINIMAL_CONFIG.replace('group_by = ["Day", "Channel", "Issue", "Group"]',
                                                                 'group_by = ["Channel"]'))
    (tmp_path / "ih" / export_name("20241011")).write_bytes(b"not a zip")
    with pytest.raises(InputFileError):
        _build(tmp_path)
    assert load_metrics(warehouse)["engagement"]["group_by"] == built_with == ["Day", "Channel", "Issue", "Group"]
    # So does compiling another config beside it.
    assert main(["compile", str(tmp_path / "config.toml"), "--warehouse", str(warehouse)]) == 0
    assert load_metrics(warehouse)["engagement"]["group_by"] == built_with


def test_metrics_with_one_labelling_rule_share_its_stored_labels(demo_warehouse):
    """The demo's engagement, model_ml_scores and experiment metrics label rows alike (Clicked
    against Impression and Pending, no filter): their labels are stored once, under the first of
    them in the config; conversion has a rule of its own. Each metric still sees all of its rule's rows."""
    from valuemarts.api import Warehouse

    warehouse = Warehouse.open(demo_warehouse.warehouse)
    stored = dict(warehouse.sql("select label_rule, count(*) from intermediate.int_ih__labelled_keys_by_rule "
                                "group by label_rule").rows())
    per_metric = dict(warehouse.sql("select metric_name, count(*) from intermediate.int_ih__labelled_keys "
                                    "group by metric_name").rows())
    assert set(stored) == {"model_ml_scores", "conversion"}
    assert per_metric == {"model_ml_scores": stored["model_ml_scores"], "engagement": stored["model_ml_scores"],
                          "experiment": stored["model_ml_scores"], "conversion": stored["conversion"]}
    assert 0 < stored["conversion"] < stored["model_ml_scores"]
