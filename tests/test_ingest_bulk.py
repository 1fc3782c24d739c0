"""Loading in bulk: one statement lands a load's files as loading them one at a time would, and
validation still names the first bad file in load order, with its row and column, landing nothing."""

from __future__ import annotations

import zipfile
from pathlib import Path

import duckdb
import pytest

from tests.pega_files import ih_row, write_export_zip
from valuemarts.config import schema
from valuemarts.duck import connect
from valuemarts.errors import InputFileError
from valuemarts.ingest import landing, readers
from valuemarts.ingest.discover import DiscoveredFile
from valuemarts.ingest.landing import LOAD_LOG, SourceRules, ensure_landing, load_files


def _ih_rules(**config) -> SourceRules:
    return SourceRules(name="ih", file_type="pega_ds_export", hive_partitioning=False,
                       column_types=dict(schema.IH_COLUMN_TYPES), required_columns=schema.IH_REQUIRED_COLUMNS,
                       drop_columns=frozenset(schema.DROP_IH_COLUMNS), **config)


def _holdings_rules(file_type: str = "parquet", hive_partitioning: bool = False) -> SourceRules:
    return SourceRules(name="holdings", file_type=file_type, hive_partitioning=hive_partitioning,
                       column_types=dict(schema.HOLDINGS_COLUMN_TYPES), required_columns=(), drop_columns=frozenset())


def _files(paths: list[Path]) -> list[DiscoveredFile]:
    return [DiscoveredFile(p, p.stem) for p in paths]


def _landed(con: duckdb.DuckDBPyConnection, rules: SourceRules) -> tuple[list[tuple], list[tuple]]:
    """The landing table's columns with their types, and its rows in load and file order."""
    types = con.execute(f"select column_name, column_type from (describe {rules.table})").fetchall()
    rows = con.execute(f"select * from {rules.table} order by _file_seq, _row_in_file").fetchall()
    return types, rows


def _parquet(path: Path, select: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with connect() as con:
        con.execute(f"copy ({select}) to '{path}' (format parquet)")
    return path


def _json_exports(tmp: Path) -> list[Path]:
    """Exports whose columns and types differ: a numeric conflict, a text-number conflict, a field
    of strings and numbers in a typed column, a struct meeting text, columns some files lack."""
    return [
        write_export_zip(tmp / "a.zip", [ih_row("1", "Impression", Score=1, Flag="x"),
                                         ih_row("2", "Clicked", Score=2, Flag="y")]),
        write_export_zip(tmp / "b.zip", [ih_row("3", "Impression", Score=1.5, Note="n")]),
        write_export_zip(tmp / "c.zip", [ih_row("4", "Impression", channel="Web", Flag=3, Nested={"k": 1}),
                                         ih_row("5", "Impression", channel=7, Nested={"k": 2})]),
        write_export_zip(tmp / "d.zip", [ih_row("6", "Pending", Nested="plain", Score=4)]),
    ]


def _parquet_exports(tmp: Path) -> list[Path]:
    """Hive-partitioned parquet: two files of one schema (one read_parquet), INTEGER meeting BIGINT
    (DOUBLE, where DuckDB's union would keep BIGINT), a partition value that is no date (VARCHAR),
    and a file with a column named like read_parquet's row number (read on its own)."""
    row = "'C' || range as pyCustomerID, 'H' || range as pyHoldingID, range * 1.5 as OneTimeCost"
    return [
        _parquet(tmp / "Day=2024-07-01" / "p.parquet", f"select {row}, cast(range as integer) as Units from range(3)"),
        _parquet(tmp / "Day=2024-07-02" / "p.parquet", f"select {row}, cast(range as integer) as Units from range(2)"),
        _parquet(tmp / "Day=2024-07-03" / "p.parquet", f"select {row}, cast(range as bigint) as Units from range(4)"),
        _parquet(tmp / "Day=unknown" / "p.parquet", f"select {row}, 7 as file_row_number, 'x' as Extra from range(2)"),
    ]


@pytest.mark.parametrize("exports, rules", [(_json_exports, _ih_rules()),
                                            (_parquet_exports, _holdings_rules(hive_partitioning=True))])
def test_one_statement_lands_what_file_by_file_loading_lands(tmp_path, exports, rules):
    files = _files(exports(tmp_path))
    bulk = connect()
    ensure_landing(bulk)
    assert [f.status for f in load_files(bulk, files, rules, 1)] == ["new"] * len(files)
    one_by_one = connect()
    ensure_landing(one_by_one)
    for file in files:
        load_files(one_by_one, [file], rules, 1)
    assert _landed(bulk, rules) == _landed(one_by_one, rules)
    assert (bulk.execute(f"select file_seq, rows_read from {LOAD_LOG} order by file_seq").fetchall()
            == one_by_one.execute(f"select file_seq, rows_read from {LOAD_LOG} order by file_seq").fetchall())


def test_mixed_schemas_widen_as_file_by_file(tmp_path):
    con = connect()
    ensure_landing(con)
    load_files(con, _files(_json_exports(tmp_path)), _ih_rules(), 1)
    types = dict(_landed(con, _ih_rules())[0])
    assert (types["Score"], types["Flag"], types["Nested"], types["pyChannel"]) == ("DOUBLE", "VARCHAR", "VARCHAR", "VARCHAR")
    assert con.execute('select "pyChannel" from landing.ih_raw where "pxInteractionID" in (\'4\', \'5\') '
                       "order by _row_in_file").fetchall() == [("Web",), ("7",)]


def test_files_in_chunks_land_as_in_one(tmp_path, monkeypatch):
    files = _files(_json_exports(tmp_path))
    whole = connect()
    ensure_landing(whole)
    load_files(whole, files, _ih_rules(), 1)
    monkeypatch.setattr(landing, "_CHUNK_FILES", 3)
    chunked = connect()
    ensure_landing(chunked)
    load_files(chunked, files, _ih_rules(), 1)
    assert _landed(whole, _ih_rules()) == _landed(chunked, _ih_rules())


def _bad_files(tmp: Path) -> dict[str, Path]:
    good = [ih_row(str(i), "Impression", Treatment="1") for i in range(5)]
    corrupt = tmp / "corrupt.zip"
    corrupt.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    return {
        "good": write_export_zip(tmp / "good.zip", good),
        "bad_type": write_export_zip(tmp / "bad_type.zip", good[:2] + [ih_row("9", "Impression", pyPropensity="high")]),
        "bad_filter": write_export_zip(tmp / "bad_filter.zip", [good[0], ih_row("8", "Impression", Treatment="T2")]),
        "bad_time": write_export_zip(tmp / "bad_time.zip", [ih_row("7", "Impression", time="yesterday")]),
        "missing": write_export_zip(tmp / "missing.zip", [{k: v for k, v in good[0].items() if k != "pyOutcome"}]),
        "empty": write_export_zip(tmp / "empty.zip", []),
        "corrupt": corrupt,
    }


@pytest.mark.parametrize("order, named, parts", [
    # A bad value in the third row of the second file, before files failing other checks.
    (["good", "bad_type", "missing", "empty", "corrupt"], "bad_type", ["row 3, column pyPropensity", "'high'"]),
    # The filter is checked last, but its file comes first.
    (["good", "bad_filter", "bad_time"], "bad_filter", ["row 2, column Treatment", "filter", "'T2'"]),
    (["good", "bad_time", "bad_filter"], "bad_time", ["row 1, column pxOutcomeTime", "'yesterday'"]),
    # A file that can't be read stops the reading, but an earlier bad file is still named.
    (["good", "bad_type", "corrupt"], "bad_type", ["row 3, column pyPropensity"]),
    (["good", "corrupt", "bad_type"], "corrupt", ["not a readable zip archive"]),
    (["good", "empty", "bad_type"], "empty", ["the file holds no rows"]),
    (["missing", "bad_type"], "missing", ["missing required column(s) Outcome"]),
])
@pytest.mark.parametrize("chunk_files", [256, 2])
def test_first_bad_file_in_load_order_is_named_and_nothing_lands(tmp_path, monkeypatch, order, named, parts,
                                                                  chunk_files):
    monkeypatch.setattr(landing, "_CHUNK_FILES", chunk_files)
    paths = _bad_files(tmp_path)
    rules = _ih_rules(filter_sql='CAST("Treatment" AS BIGINT) >= 0')
    con = connect()
    ensure_landing(con)
    with pytest.raises(InputFileError) as error:
        load_files(con, [DiscoveredFile(paths[name], "g") for name in order], rules, 1)
    message = str(error.value)
    assert message.startswith(str(paths[named])), message
    for part in parts:
        assert part in message, message
    assert con.execute(f"select count(*) from {rules.table}").fetchone() == (0,)
    assert con.execute(f"select count(*) from {LOAD_LOG}").fetchone() == (0,)


def test_bad_value_in_a_parquet_file_read_with_others_names_its_file_and_row(tmp_path):
    paths = [_parquet(tmp_path / f"{name}.parquet", f"select 'C' || range as pyCustomerID, {cost} as OneTimeCost "
                                                     f"from range({rows})")
             for name, cost, rows in [("a", "'1.5'", 4), ("b", "case when range = 2 then 'x' else '2' end", 3)]]
    con = connect()
    ensure_landing(con)
    with pytest.raises(InputFileError, match=r"b\.parquet, row 3, column OneTimeCost: expected a number, got 'x'"):
        load_files(con, _files(paths), _holdings_rules(), 1)


def test_file_failing_only_when_its_rows_are_read_is_named(tmp_path):
    """A parquet file whose footer reads but whose data doesn't fails the one statement; file by
    file, the loader finds and names it, after an earlier file's bad value."""
    cost = "case when range = 1 then 'x' else '2' end"
    bad = _parquet(tmp_path / "a.parquet", f"select 'C' || range as pyCustomerID, {cost} as OneTimeCost from range(3)")
    corrupt = _parquet(tmp_path / "b.parquet", "select 'C' || range as pyCustomerID, '1' as OneTimeCost from range(2000)")
    data = bytearray(corrupt.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little")
    data[4:len(data) - 8 - footer] = b"\xab" * (len(data) - 12 - footer)
    corrupt.write_bytes(bytes(data))
    con = connect()
    ensure_landing(con)
    with pytest.raises(InputFileError, match=r"b\.parquet: cannot read as parquet"):
        load_files(con, _files([corrupt]), _holdings_rules(), 1)
    with pytest.raises(InputFileError, match=r"a\.parquet, row 2, column OneTimeCost"):
        load_files(con, _files([bad, corrupt]), _holdings_rules(), 1)
    assert con.execute("select count(*) from landing.holdings_raw").fetchone() == (0,)


def test_replaced_file_in_a_batch_of_new_ones(tmp_path):
    rules = _ih_rules()
    a = write_export_zip(tmp_path / "a.zip", [ih_row("1", "Impression")])
    b = write_export_zip(tmp_path / "b.zip", [ih_row("2", "Impression"), ih_row("3", "Impression")])
    con = connect()
    ensure_landing(con)
    load_files(con, _files([a, b]), rules, 1)
    write_export_zip(b, [ih_row("4", "Clicked")])
    c = write_export_zip(tmp_path / "c.zip", [ih_row("5", "Impression"), ih_row("6", "Impression")])
    lines: list[str] = []
    loads = load_files(con, _files([a, b, c, b]), rules, 2, lines.append)
    assert [(Path(f.path).name, f.status, f.rows_read, f.file_seq) for f in loads] == [
        ("a.zip", "skipped", 0, None), ("b.zip", "replaced", 1, 3), ("c.zip", "new", 2, 4), ("b.zip", "skipped", 0, None)]
    assert lines == ["  a.zip: skipped (already loaded)", "  b.zip: 1 rows (replaced)", "  c.zip: 2 rows (new)",
                     "  b.zip: skipped (already loaded)"]
    assert con.execute('select "pxInteractionID", _file_path, _file_group, _file_seq, _load_id, _row_in_file '
                       "from landing.ih_raw order by _file_seq, _row_in_file").fetchall() == [
        ("1", str(a), "a", 1, 1, 1), ("4", str(b), "b", 3, 2, 1), ("5", str(c), "c", 4, 2, 1), ("6", str(c), "c", 4, 2, 2)]
    assert con.execute(f"select load_id, file_seq, file_path, rows_read, status from {LOAD_LOG} "
                       "order by file_seq").fetchall() == [
        (1, 1, str(a), 1, "new"), (1, 2, str(b), 2, "new"), (2, 3, str(b), 1, "replaced"), (2, 4, str(c), 2, "new")]


def test_rows_count_within_each_archive_of_a_batch(tmp_path):
    path = tmp_path / "members.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("part-0.json", "\n".join(f'{{"pxInteractionID": "{i}"}}' for i in range(3)))
        archive.writestr("part-1.json", '{"pxInteractionID": "3"}')
    first = write_export_zip(tmp_path / "first.zip", [ih_row(str(i), "Impression") for i in range(10, 17)])
    con = connect()
    ensure_landing(con)
    load_files(con, _files([first, path]), _holdings_rules("pega_ds_export"), 1)
    assert con.execute("select _file_seq, list(_row_in_file order by _row_in_file), "
                       'list("pxInteractionID" order by _row_in_file) from landing.holdings_raw '
                       "group by _file_seq order by 1").fetchall() == [
        (1, list(range(1, 8)), [str(i) for i in range(10, 17)]), (2, [1, 2, 3, 4], ["0", "1", "2", "3"])]


@pytest.mark.parametrize("rows", [
    [{"n": 1, "x": 1.5, "big": 12345678901234567890, "ok": True, "s": "Web", "mixed": "Web", "none": None,
      "nested": {"a b": 1, 'q"u': [1, 2]}, "list": [], "O'Brien": "é🚀"},
     {"n": 2, "x": 2, "big": 1, "ok": False, "mixed": 7, "nested": {"a b": None}, "list": [3], "only": "here"}],
    # Dates in a format DuckDB infers, which types given back would not carry: inferred again.
    [{"day": "15-03-2023", "at": "2023-01-02 10:11:12"}, {"day": "01-02-2023", "at": "2023-01-02 10:11:13"}],
])
def test_json_read_with_its_inferred_types_reads_as_inferred(tmp_path, rows):
    path = write_export_zip(tmp_path / "day.zip", rows)
    with connect() as con:
        reader = readers.open_reader(con, path, "pega_ds_export", tmp_path)
        member = next(tmp_path.glob("*/member-0.json"))
        inferred = f"read_json('{member}', format = 'auto', union_by_name = true, sample_size = -1)"
        assert con.execute(f"select * from {reader.sql}").fetchall() == con.execute(f"select * from {inferred}").fetchall()
    assert ("columns =" in reader.sql) == ("day" not in rows[0])
