"""Hostile and broken input files: each is refused by the loader, naming its file, row and column,
before dbt runs and before any of its rows land."""

from __future__ import annotations

import csv
import io
import json
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.pega_files import ih_row, write_export_zip
from valuemarts.config import schema
from valuemarts.config.compiler import compile_config
from valuemarts.demo import demo_config_toml, generate_holdings, generate_ih, write_holdings, write_ih
from valuemarts.duck import connect
from valuemarts.errors import InputFileError, ValueMartsError
from valuemarts.ingest.discover import DiscoveredFile
from valuemarts.ingest.landing import LOAD_LOG, SourceRules, ensure_landing, load_files

# 50 MB of zeros deflates to about 50 KB: a ratio near 1000.
BOMB_BYTES = 50 * 1024**2
DAY_MONTH_YEAR = {"name": "PurchasedDay", "sql": "CAST(STRPTIME(\"PurchasedDate\", '%d-%m-%Y') AS DATE)"}


def _ih_rules(**config) -> SourceRules:
    return SourceRules(name="ih", file_type="pega_ds_export", hive_partitioning=False,
                       column_types=dict(schema.IH_COLUMN_TYPES),
                       required_columns=schema.IH_REQUIRED_COLUMNS, drop_columns=frozenset(schema.DROP_IH_COLUMNS),
                       **config)


def _holdings_rules(file_type: str = "pega_ds_export", **config) -> SourceRules:
    return SourceRules(name="holdings", file_type=file_type, hive_partitioning=False,
                       column_types=dict(schema.HOLDINGS_COLUMN_TYPES),
                       required_columns=(), drop_columns=frozenset(), **config)


def _demo_rules(name: str, holdings_format: str = "zip") -> SourceRules:
    """The demo config's rules, from its compiled vars as the build makes them."""
    text = demo_config_toml("zip", holdings_format)
    return SourceRules.from_compiled(name, compile_config(tomllib.loads(text), text, check_columns=False).dbt_vars[name])


def _load(paths: list[Path], rules: SourceRules):
    con = connect()
    ensure_landing(con)
    loads = load_files(con, [DiscoveredFile(p, "g") for p in paths], rules, 1)
    return con, loads


def _refused(path: Path, rules: SourceRules, *parts: str) -> str:
    """Load `path`: it must fail naming itself and `parts`, in one plain line, landing nothing."""
    con = connect()
    ensure_landing(con)
    with pytest.raises(InputFileError) as error:
        load_files(con, [DiscoveredFile(path, "g")], rules, 1)
    message = str(error.value)
    assert message.startswith(str(path)), message
    for part in parts:
        assert part in message, message
    assert "\n" not in message and "\x1b" not in message
    assert con.execute(f"select count(*) from {rules.table}").fetchone() == (0,)
    assert con.execute(f"select count(*) from {LOAD_LOG}").fetchone() == (0,)
    return message


def _holding(day: str, customer: str = "C1") -> dict:
    return {"pyCustomerID": customer, "pyHoldingID": f"H-{customer}-{day}", "pyName": "Gold", "pyIssue": "Sales",
            "pyGroup": "Cards", "pyPurchasedDate": day, "OneTimeCost": 10.0}


def _holdings_zip(path: Path, days: list[str]) -> Path:
    return write_export_zip(path, [_holding(d, f"C{i}") for i, d in enumerate(days)])


def _holdings_table(path: Path, days: list[str]) -> Path:
    """Holdings as CSV or XLSX (by the suffix of `path`), with a header row."""
    rows = [_holding(d, f"C{i}") for i, d in enumerate(days)]
    csv_path = path.with_suffix(".csv")
    with csv_path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    if path.suffix == ".xlsx":
        with connect() as con:
            con.execute(f"COPY (select * from read_csv('{csv_path}', all_varchar = true)) TO '{path}' "
                        "(FORMAT xlsx, HEADER true)")
    return path


def _zip_bomb(path: Path, size: int = BOMB_BYTES) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", bytes(size))
    return path


def _lying_zip(path: Path, declared: int) -> Path:
    """A zip whose member holds 5 MB but whose headers (local and central) declare `declared` bytes."""
    _zip_bomb(path, 5 * 1024**2)
    data = bytearray(path.read_bytes())
    data[22:26] = declared.to_bytes(4, "little")                     # local header: uncompressed size
    central = data.index(b"PK\x01\x02")
    data[central + 24:central + 28] = declared.to_bytes(4, "little")  # central directory entry
    path.write_bytes(bytes(data))
    return path


def test_zip_bomb_is_refused_before_unpacking(tmp_path):
    bomb = _zip_bomb(tmp_path / "bomb.zip")
    message = _refused(bomb, _ih_rules(), "ratio", "VALUEMARTS_ARCHIVE_MAX_RATIO", str(BOMB_BYTES))
    assert "refused" in message


def test_tar_bomb_is_refused_before_unpacking(tmp_path):
    bomb = tmp_path / "bomb.tar.gz"
    with tarfile.open(bomb, "w:gz") as archive:
        info = tarfile.TarInfo("data.json")
        info.size = BOMB_BYTES
        archive.addfile(info, io.BytesIO(bytes(BOMB_BYTES)))
    _refused(bomb, _ih_rules(), "ratio", "VALUEMARTS_ARCHIVE_MAX_RATIO")


def test_archive_size_limit_comes_from_the_environment(tmp_path, monkeypatch):
    path = write_export_zip(tmp_path / "day.zip", [ih_row(str(i), "Impression") for i in range(50)])
    monkeypatch.setenv("VALUEMARTS_ARCHIVE_MAX_BYTES", "5000")
    _refused(path, _ih_rules(), "over the limit of 5000 bytes", "VALUEMARTS_ARCHIVE_MAX_BYTES")


def test_unusable_archive_limit_names_its_variable(tmp_path, monkeypatch):
    path = write_export_zip(tmp_path / "day.zip", [ih_row("1", "Impression")])
    monkeypatch.setenv("VALUEMARTS_ARCHIVE_MAX_RATIO", "lots")
    with pytest.raises(ValueMartsError, match="VALUEMARTS_ARCHIVE_MAX_RATIO='lots': expected a positive number"):
        _load([path], _ih_rules())


def test_member_holding_more_than_its_header_declares_is_refused(tmp_path):
    liar = _lying_zip(tmp_path / "liar.zip", declared=1000)
    _refused(liar, _ih_rules(), "data.json", "more than the 1000 bytes its header declares")


def test_demo_zips_load_under_the_default_limits_and_the_ratio_is_configurable(tmp_path, monkeypatch):
    ih_paths = write_ih(generate_ih(2_000, seed=5, days=2), tmp_path / "ih", "zip")
    holdings_paths = write_holdings(generate_holdings(seed=5, customers=200), tmp_path / "holdings", "zip")
    _, ih_loads = _load(ih_paths, _demo_rules("ih"))
    _, holdings_loads = _load(holdings_paths, _demo_rules("holdings"))
    assert [f.status for f in ih_loads + holdings_loads] == ["new"] * 3
    # Demo zips deflate about 7-9x; a limit below that refuses them.
    monkeypatch.setenv("VALUEMARTS_ARCHIVE_MAX_RATIO", "3")
    _refused(ih_paths[0], _demo_rules("ih"), "over the limit of 3x")


@pytest.mark.parametrize("fmt", ["zip", "csv", "xlsx"])
def test_impossible_date_in_a_derived_column_names_its_row(tmp_path, fmt):
    days = ["01-02-2023", "15-03-2023", "31-02-2023", "01-04-2023"]
    if fmt == "zip":
        path, rules = _holdings_zip(tmp_path / "holdings.zip", days), _holdings_rules(derived_columns=(DAY_MONTH_YEAR,))
    else:
        path = _holdings_table(tmp_path / f"holdings.{fmt}", days)
        rules = _holdings_rules(fmt, derived_columns=(DAY_MONTH_YEAR,))
    message = _refused(path, rules, "row 3, column pyPurchasedDate", "derived column PurchasedDay",
                       "%d-%m-%Y", "got '31-02-2023'", "Date out of range")
    assert ("counted from the first data row below the header" in message) == (fmt != "zip")


def test_demo_config_rejects_a_purchase_date_it_cannot_parse(tmp_path):
    days = ["20230101T101010.000 GMT", "31-02-2023"]
    message = _refused(_holdings_zip(tmp_path / "holdings.zip", days), _demo_rules("holdings"),
                       "row 2, column pyPurchasedDate", "derived column PurchasedDateTime", "got '31-02-2023'")
    assert "Could not parse string" in message


def test_ih_filter_is_checked_on_every_row_and_derived_columns_on_the_rows_it_keeps(tmp_path):
    rules = _ih_rules(filter_sql='NOT "Channel" IS NULL AND CAST("Treatment" AS BIGINT) >= 0',
                      derived_columns=({"name": "Variant", "sql": 'CAST("Direction" AS BIGINT)'},))
    # Staging never computes derived columns of rows the filter drops: a bad value there is fine.
    dropped = write_export_zip(tmp_path / "dropped.zip",
                               [ih_row("1", "Impression", Treatment="1", Direction="1"),
                                ih_row("2", "Impression", channel=None, Treatment="1", Direction="inbound")])
    _, loads = _load([dropped], rules)
    assert loads[0].rows_read == 2
    bad_filter = write_export_zip(tmp_path / "bad_filter.zip",
                                  [ih_row("3", "Impression", Treatment="1", Direction="1"),
                                   ih_row("4", "Impression", Treatment="T2", Direction="1")])
    _refused(bad_filter, rules, "row 2, column Treatment", "filter", "got 'T2'")
    bad_derived = write_export_zip(tmp_path / "bad_derived.zip",
                                   [ih_row("5", "Impression", Treatment="1", Direction="x")])
    _refused(bad_derived, rules, "row 1, column Direction", "derived column Variant", "got 'x'")


def test_timestamp_error_names_the_row_that_is_actually_wrong(tmp_path):
    # A field holding strings and numbers reads as JSON: the text of '"20241010T..."' keeps its quotes.
    mixed = write_export_zip(tmp_path / "mixed.zip", [ih_row("1", "Impression"), ih_row("2", "Impression"),
                                                     ih_row("3", "Impression", time=20241010)])
    _refused(mixed, _ih_rules(), "row 3, column pxOutcomeTime", "got '20241010'")


def test_rows_count_on_across_archive_members(tmp_path):
    path = tmp_path / "members.zip"
    rows = [[ih_row("1", "Impression"), ih_row("2", "Impression")],
            [ih_row("3", "Impression"), ih_row("4", "Impression", pyPropensity=0.1), ih_row("5", "Impression", time=7)]]
    with zipfile.ZipFile(path, "w") as archive:
        for i, member in enumerate(rows):
            archive.writestr(f"part-{i}.json", "\n".join(json.dumps(r) for r in member))
    _refused(path, _ih_rules(), "row 5, column pxOutcomeTime", "got '7'")


def test_typed_column_of_strings_and_numbers_lands_as_text(tmp_path):
    path = write_export_zip(tmp_path / "day.zip", [ih_row("1", "Impression", channel="Web"),
                                                  ih_row("2", "Impression", channel=7)])
    con, _ = _load([path], _ih_rules())
    assert con.execute('select "pyChannel" from landing.ih_raw order by _row_in_file').fetchall() == [("Web",), ("7",)]
