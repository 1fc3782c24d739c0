"""`valuemarts sql` is read-only for real: hostile queries are refused and leave every file as it was.

The warehouse here is built without dbt (a few tables and views, one naming its catalog the way
dbt's views do); files "outside the warehouse" are real files in tmp_path, so a refusal cannot
be explained by a missing file.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from valuemarts.api import Warehouse
from valuemarts.cli import main
from valuemarts.duck import connect, connect_for_user_sql
from valuemarts.errors import ValueMartsError

REPO = Path(__file__).resolve().parents[1]

# {w}: the warehouse file; {d}: its directory (tmp_path), holding outside.csv/.json/.parquet,
# fake.duckdb_extension and export/ (an EXPORT DATABASE of the warehouse).
WRITES = [
    "insert into marts.orders values (99, 1, 1.0)",
    "update marts.orders set amount = 0",
    "delete from marts.orders",
    "truncate marts.orders",
    "create table marts.copy as select * from marts.orders",
    "create or replace view marts.revenue as select 1 a",
    "drop table marts.orders",
    "alter table marts.orders add column z int",
    "create table marts.pivoted as pivot marts.orders on customer_id using sum(amount)",
    "with x as (select 1) delete from marts.orders",
    "with x as (select 1) insert into marts.orders select 99, 1, 1.0",
    "merge into marts.orders using (select 1 id) s on (orders.id = s.id) when matched then delete",
]
FILE_STATEMENTS = [
    "COPY (select 1 a) TO '{d}/copied.csv'",
    "COPY (select 'x' a) TO '{w}' (FORMAT csv)",
    "COPY (select 1 a) TO '{d}/copied.parquet' (FORMAT parquet)",
    "COPY marts.orders FROM '{d}/outside.csv'",
    "EXPORT DATABASE '{d}/exported'",
    "ATTACH '{d}/attached.duckdb' AS other",
]
FILE_READERS = [
    "select * from read_text('{d}/outside.csv')",
    "select * from read_blob('{d}/outside.csv')",
    "select * from read_csv('{d}/outside.csv')",
    "select * from read_csv_auto('{d}/outside.csv')",
    "select * from '{d}/outside.csv'",
    "select * from sniff_csv('{d}/outside.csv')",
    "select * from glob('{d}/*')",
    "select * from read_json('{d}/outside.json')",
    "select * from read_parquet('{d}/outside.parquet')",
    "select * from parquet_metadata('{d}/outside.parquet')",
    "select * from query('select * from read_text(''{d}/outside.csv'')')",
]
SETTINGS = [
    "IMPORT DATABASE '{d}/export'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "LOAD '{d}/fake.duckdb_extension'",
    "SET threads = 1",
    "SET enable_external_access = true",
    "RESET lock_configuration",
    "PRAGMA threads = 1",
    "CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
]
# Refused by the statement check alone. The connection allows these, harmlessly: session-local
# state in memory that is gone with the connection, or a no-op checkpoint of a read-only file.
CHECK_ONLY = [
    "create temp table scratch (a int)",
    "PRAGMA enable_profiling",
    "CALL checkpoint()",
    "CHECKPOINT",
    "use memory",
    "select * from enable_profiling()",
    "select * from checkpoint()",
    "select * from system.main.\"ENABLE_LOGGING\"(level = 'trace')",
    "select * from json_execute_serialized_sql(json_serialize_sql('select 1'))",
    "select 1; select 2",
    "select 1; drop table marts.orders",
    "EXPLAIN (FORMAT ') select 1 --') COPY (select 1 a) TO '{d}/copied.csv'",
    "-- a comment first\nEXPLAIN ANALYZE COPY (select 1 a) TO '{d}/copied.csv'",
    "select getenv('HOME')",  # DuckDB has getenv in its CLI only; here it is no function at all
]
# A plain EXPLAIN of a file reader only plans it: allowed, and it reveals no content (tested below).
EXPLAINED = [f"EXPLAIN {q}" for q in WRITES + FILE_STATEMENTS] + [
    f"EXPLAIN ANALYZE {q}" for q in WRITES + FILE_STATEMENTS + FILE_READERS
] + [
    "explain (analyze, format json) COPY (select 1 a) TO '{d}/copied.csv'",
    "EXPLAIN(analyze)COPY (select 1 a) TO '{d}/copied.csv'",
    "explain\nanalyse\nCOPY (select 1 a) TO '{d}/copied.csv'",
]
HOSTILE = WRITES + FILE_STATEMENTS + FILE_READERS + SETTINGS + CHECK_ONLY + EXPLAINED
# What the connection refuses on its own, without the statement check (EXPLAIN without ANALYZE
# only plans, so only EXPLAIN ANALYZE counts here).
CONNECTION_REFUSES = WRITES + FILE_STATEMENTS + FILE_READERS + SETTINGS + [
    f"EXPLAIN ANALYZE {q}" for q in WRITES + FILE_STATEMENTS + FILE_READERS
]

READS = [
    "select id, segment from marts.customers order by id",
    "select * from staging.stg_orders",
    "select * from marts.revenue",
    "select c.segment, sum(o.amount) from marts.orders o join marts.customers c on c.id = o.customer_id group by all",
    "with t as (select customer_id, count(*) n from marts.orders group by 1) select max(n) from t",
    "from marts.orders limit 1",
    "pivot marts.orders on customer_id in (1, 2) using sum(amount)",
    "explain select * from marts.orders",
    "EXPLAIN ANALYZE select count(*) from marts.orders",
    "explain (select 1)",
    "select vm_norm_p_two_sided(1.96)",
    "select tdigest_quantile(digest, 0.5) from marts.amount_digest",
    "describe marts.orders",
    "summarize marts.orders",
    "select table_schema, table_name from information_schema.tables order by all",
    "pragma table_info('marts.orders')",
    "select name, value from duckdb_settings()",
]


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    con = connect(path)
    con.execute("""
        create schema marts;
        create schema staging;
        create table marts.customers as select * from (values (1, 'gold'), (2, 'silver')) t(id, segment);
        create table marts.orders (id integer, customer_id integer, amount double);
        insert into marts.orders values (1, 1, 10), (2, 1, 30), (3, 2, 5);
        create view staging.stg_orders as select id, customer_id, amount from marts.orders;
        create view marts.revenue as
            select customer_id, sum(amount) as revenue from warehouse.staging.stg_orders group by 1;
        create table marts.amount_digest as select tdigest_build(list(amount)) as digest from marts.orders;
    """)
    con.execute(f"EXPORT DATABASE '{tmp_path / 'export'}'")
    con.execute(f"COPY (select 'secret' a) TO '{tmp_path / 'outside.parquet'}' (FORMAT parquet)")
    con.close()
    (tmp_path / "outside.csv").write_text("a\nsecret\n")
    (tmp_path / "outside.json").write_text('{"a": "secret"}\n')
    (tmp_path / "fake.duckdb_extension").write_bytes(b"not an extension")
    return path


def files_under(root: Path) -> dict[str, str]:
    """Every file and directory under `root` with a hash of its bytes: refused queries change none."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(root.rglob("*"))
    }


def fill(query: str, warehouse: Path) -> str:
    return query.format(w=warehouse, d=warehouse.parent)


def read_only_query(warehouse: Path, query: str) -> tuple[list[str], list[tuple]]:
    """Columns and rows of `query` through the library API, as the viewer's console runs it."""
    frame = Warehouse.open(warehouse).sql(query)
    return frame.columns, frame.rows()


def sql(warehouse: Path, query: str, *options: str) -> int:
    return main(["sql", "--warehouse", str(warehouse), *options, query])


@pytest.mark.parametrize("query", HOSTILE)
def test_cli_refuses_and_changes_nothing(warehouse: Path, query: str, capsys: pytest.CaptureFixture) -> None:
    before = files_under(warehouse.parent)
    assert sql(warehouse, fill(query, warehouse)) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: query: ") and err.count("\n") == 1
    assert files_under(warehouse.parent) == before


@pytest.mark.parametrize("query", CONNECTION_REFUSES)
def test_connection_alone_refuses_and_changes_nothing(warehouse: Path, query: str) -> None:
    """Defence in depth: the locked connection refuses these even if the statement check let them through."""
    before = files_under(warehouse.parent)
    con = connect_for_user_sql(warehouse)
    try:
        with pytest.raises(duckdb.Error):
            con.execute(fill(query, warehouse)).fetchall()
    finally:
        con.close()
    assert files_under(warehouse.parent) == before


@pytest.mark.parametrize("query", FILE_READERS)
def test_explain_of_a_file_reader_reveals_nothing(warehouse: Path, query: str) -> None:
    before = files_under(warehouse.parent)
    try:
        _, rows = read_only_query(warehouse, fill(f"EXPLAIN {query}", warehouse))
    except ValueMartsError:
        rows = []
    assert "secret" not in str(rows)
    assert files_under(warehouse.parent) == before


def test_file_logging_is_refused_before_it_can_abort_the_process(warehouse: Path) -> None:
    """File log storage on the locked connection aborts Python when the log write is refused, so run it apart."""
    query = f"select * from enable_logging(storage = 'file', storage_path = '{warehouse.parent / 'logs'}')"
    before = files_under(warehouse.parent)
    done = subprocess.run([sys.executable, "-m", "valuemarts.cli", "sql", "--warehouse", str(warehouse), query],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (1, "error: query: enable_logging is not allowed here\n")
    assert files_under(warehouse.parent) == before


@pytest.mark.parametrize("query", READS)
def test_reads_keep_working(warehouse: Path, query: str) -> None:
    before = files_under(warehouse.parent)
    columns, rows = read_only_query(warehouse, query)
    assert columns and rows
    assert files_under(warehouse.parent) == before


def test_cli_prints_the_result(warehouse: Path, capsys: pytest.CaptureFixture) -> None:
    query = "select customer_id, revenue, round(vm_norm_p_two_sided(1.96), 3) p from marts.revenue order by 1"
    assert sql(warehouse, query, "--format", "json") == 0
    assert capsys.readouterr().out == (
        '[{"customer_id": 1, "revenue": 40.0, "p": 0.05}, {"customer_id": 2, "revenue": 5.0, "p": 0.05}]\n'
    )


def test_library_raises_one_line_errors(warehouse: Path) -> None:
    with pytest.raises(ValueMartsError, match=r"^query: only SELECT is allowed here; refused a COPY statement$"):
        read_only_query(warehouse, fill("EXPLAIN ANALYZE COPY (select 'x' a) TO '{w}' (FORMAT csv)", warehouse))
    with pytest.raises(ValueMartsError, match=r"^query: Permission Error: Cannot access file .*outside\.csv"):
        read_only_query(warehouse, fill("select * from read_text('{d}/outside.csv')", warehouse))


def test_missing_warehouse_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert sql(tmp_path / "none.duckdb", "select 1") == 1
    assert "no warehouse yet" in capsys.readouterr().err
    assert not (tmp_path / "none.duckdb").exists()


def test_connection_shows_its_locks(warehouse: Path) -> None:
    """Settings stay readable (they hold paths, no secrets) and say the connection is locked."""
    _, rows = read_only_query(warehouse, "select current_setting('enable_external_access'), "
                                         "current_setting('lock_configuration'), current_database()")
    assert rows == [(False, True, "warehouse")]


def test_locks_stay_on_their_own_connection(warehouse: Path) -> None:
    """The lock is global to a DuckDB instance; other connections on the same file keep their file access."""
    outside = f"select content from read_text('{warehouse.parent / 'outside.csv'}')"
    plain = connect(warehouse, read_only=True)
    locked = connect_for_user_sql(warehouse)
    try:
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            locked.execute(outside)
        assert plain.execute(outside).fetchall() == [("a\nsecret\n",)]
        later = connect(warehouse, read_only=True)
        assert later.execute(outside).fetchall() == [("a\nsecret\n",)]
        later.close()
    finally:
        plain.close()
        locked.close()


def test_demo_warehouse_marts_and_udfs(demo_warehouse) -> None:
    """A dbt-built warehouse reads through the locked connection, report UDFs included."""
    before = hashlib.sha256(demo_warehouse.warehouse.read_bytes()).hexdigest()
    columns, rows = read_only_query(demo_warehouse.warehouse, "select * from marts.mart_engagement limit 1")
    assert columns and len(rows) == 1
    _, rows = read_only_query(demo_warehouse.warehouse, """
        select vm_chi2_sf(3.84, 1), tdigest_quantiles(tdigest_merge(list(value_digest)), [0.5])
        from marts.mart_descriptive__state where value_digest is not null
    """)
    assert rows[0][0] == pytest.approx(0.05, abs=1e-3) and rows[0][1][0] is not None
    assert hashlib.sha256(demo_warehouse.warehouse.read_bytes()).hexdigest() == before
