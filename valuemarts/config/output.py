"""Write a compiled config where dbt and the viewer find it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from valuemarts.config.compiler import CompiledConfig

DBT_MACRO_NAME = "valuemarts_compiled_config"


def write_compiled(compiled: CompiledConfig, out_dir: Path, project_dir: Path) -> list[Path]:
    """vars.yml (for `dbt build --vars`), report_specs.json (viewer, `report`), and a macro in the
    project so that plain `dbt build` finds the config without flags."""
    out_dir.mkdir(parents=True, exist_ok=True)
    vars_path = out_dir / "vars.yml"
    vars_path.write_text(yaml.safe_dump({"valuemarts": compiled.dbt_vars}, sort_keys=False))
    specs_path = out_dir / "report_specs.json"
    specs_path.write_text(json.dumps(compiled.report_specs, indent=2, default=str))
    macro_path = project_dir / "macros" / "compiled" / f"{DBT_MACRO_NAME}.sql"
    macro_path.parent.mkdir(parents=True, exist_ok=True)
    # Written then renamed: a dbt run parsing the project never reads half a file.
    partial = macro_path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(dbt_macro_text(compiled.dbt_vars))
    os.replace(partial, macro_path)
    return [vars_path, specs_path, macro_path]


def dbt_macro_text(dbt_vars: dict) -> str:
    """A macro returning the vars. `%` is escaped as a JSON unicode escape so no Jinja delimiter
    (`{%`, `%}`) can appear inside the raw block, whatever the user's expressions contain."""
    payload = json.dumps(dbt_vars, sort_keys=True).replace("%", "\\u0025")
    return (
        "{#- Written by `valuemarts compile`; do not edit. -#}\n"
        f"{{% macro {DBT_MACRO_NAME}() -%}}\n"
        "{%- set payload -%}{% raw %}" + payload + "{% endraw %}{%- endset -%}\n"
        "{{ return(fromjson(payload)) }}\n"
        "{%- endmacro %}\n"
    )
