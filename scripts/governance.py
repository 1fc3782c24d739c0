"""Check the dbt project's governance bar and print where it stands.

    .venv/bin/python scripts/governance.py [MANIFEST] [--warehouse PATH]

Reads a dbt manifest.json, by default one made by `dbt parse` with the packaged config template
in a temporary target (nothing in the project is written), and fails (exit 1) when:

- a mart (a model under models/marts/) is not public;
- a fixed-shape mart has no enforced contract. A mart whose columns depend on the config says so
  with `meta: {shape: config}`; every other mart is fixed-shape;
- a column that exists for every config has no description: every column of a contracted mart,
  the listed columns of a config-shaped one;
- the project has no exposure, or fewer than six unit tests;
- a mart column is HUGEINT: in a contract's data_type, and with --warehouse, in any marts.* table
  of that built warehouse.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from valuemarts.config.compiler import compile_file
from valuemarts.dbt_runner import dbt_target_dir, run_dbt
from valuemarts.duck import connect
from valuemarts.errors import ValueMartsError

PROJECT_DIR = Path(__file__).resolve().parent.parent  # the repository and its dbt project

TEMPLATE = PROJECT_DIR / "valuemarts" / "demo" / "config_template.toml"
MIN_EXPOSURES = 1
MIN_UNIT_TESTS = 6


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def count(self, label: str, have: int, total: int | None = None, need: int | None = None) -> None:
        """One printed count; below the bar (all of `total`, or at least `need`) is a failure."""
        if total is not None:
            share = f" ({100.0 * have / total:.1f}%)" if total else ""
            self.lines.append(f"{label}: {have}/{total}{share}")
            if have < total:
                self.failures.append(f"{label}: {have}/{total}")
        else:
            self.lines.append(f"{label}: {have}" + (f" (at least {need})" if need else ""))
            if need is not None and have < need:
                self.failures.append(f"{label}: {have}, at least {need} needed")

    def fail(self, problem: str) -> None:
        self.failures.append(problem)


def parse_manifest(target: Path) -> Path:
    """`dbt parse` of the project with the config template compiled; the manifest.json under `target`."""
    warehouse = target / "warehouse.duckdb"  # never opened by parse; keeps dbt's target and logs in `target`
    run_dbt(["parse"], warehouse, compile_file(TEMPLATE).dbt_vars)
    return dbt_target_dir(warehouse) / "manifest.json"


def marts_of(manifest: dict) -> list[dict]:
    return sorted((node for node in manifest["nodes"].values()
                   if node["resource_type"] == "model" and node["original_file_path"].startswith("models/marts/")),
                  key=lambda node: node["name"])


def config_shaped(mart: dict) -> bool:
    meta = {**mart.get("meta", {}), **mart["config"].get("meta", {})}
    return meta.get("shape") == "config"


def contracted(mart: dict) -> bool:
    return bool(mart["config"].get("contract", {}).get("enforced"))


def check(manifest: dict, warehouse: Path | None = None) -> Report:
    report = Report()
    marts = marts_of(manifest)
    report.lines.append(f"marts: {len(marts)} ({sum(map(config_shaped, marts))} config-shaped)")

    private = [m["name"] for m in marts if m.get("access") != "public"]
    report.count("marts with public access", len(marts) - len(private), len(marts))
    for name in private:
        report.fail(f"{name}: access is not public")

    fixed = [m for m in marts if not config_shaped(m)]
    uncontracted = [m["name"] for m in fixed if not contracted(m)]
    report.count("fixed-shape marts with an enforced contract", len(fixed) - len(uncontracted), len(fixed))
    for name in uncontracted:
        report.fail(f"{name}: no enforced contract (or `meta: {{shape: config}}` if its columns depend on the config)")

    columns = [(m["name"], c) for m in marts for c in m["columns"].values()]
    undocumented = [f"{name}.{c['name']}" for name, c in columns if not (c.get("description") or "").strip()]
    report.count("documented mart columns", len(columns) - len(undocumented), len(columns))
    for column in undocumented:
        report.fail(f"{column}: no description")

    report.count("exposures", len(manifest.get("exposures", {})), need=MIN_EXPOSURES)
    report.count("unit tests", len(manifest.get("unit_tests", {})), need=MIN_UNIT_TESTS)

    hugeint = [f"{name}.{c['name']}" for name, c in columns if "hugeint" in (c.get("data_type") or "").lower()]
    if warehouse is not None:
        hugeint += built_hugeint_columns(warehouse)
    report.count("HUGEINT mart columns" + (f" (contracts and {warehouse})" if warehouse else " (contracts)"),
                 len(hugeint))
    for column in hugeint:
        report.fail(f"{column}: HUGEINT (cast counts and sums of integers to BIGINT)")
    return report


def built_hugeint_columns(warehouse: Path) -> list[str]:
    con = connect(warehouse, read_only=True)
    try:
        rows = con.execute("select table_name, column_name from information_schema.columns "
                           "where table_schema = 'marts' and data_type like '%HUGEINT%' order by all").fetchall()
    finally:
        con.close()
    return [f"marts.{table}.{column}" for table, column in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", nargs="?", type=Path, help="a dbt manifest.json (default: dbt parse now)")
    parser.add_argument("--warehouse", type=Path, help="also check the marts of this built warehouse")
    args = parser.parse_args(argv)
    for path in (args.manifest, args.warehouse):
        if path is not None and not path.is_file():
            parser.error(f"{path}: no such file")
    if args.manifest is not None:
        manifest = json.loads(args.manifest.read_text())
    else:
        with tempfile.TemporaryDirectory() as target:
            try:
                manifest = json.loads(parse_manifest(Path(target)).read_text())
            except ValueMartsError as e:
                print(e, file=sys.stderr)
                return 1
    report = check(manifest, args.warehouse)
    print("\n".join(report.lines))
    if report.failures:
        print(f"\nbelow the bar ({len(report.failures)}):")
        print("\n".join(f"  {problem}" for problem in report.failures))
        return 1
    print("\ngovernance: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
