"""dbt-duckdb plugin: registers valuemarts UDFs and extensions on dbt's connections."""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin

import python_udfs
from valuemarts.duck import load_extensions


class Plugin(BasePlugin):
    def configure_connection(self, conn):  # noqa: D401 - dbt-duckdb hook
        load_extensions(conn)
        python_udfs.register(conn)
