"""The viewer app: a page per module of viewer.pages behind a sidebar of navigation and global
filters, and `serve`, which starts it on this machine (or, with a password, on another address)."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable
from pathlib import Path

import panel as pn

from valuemarts.errors import ValueMartsError
from viewer.jobs import BuildRunner
from viewer.kpis import dashboard_kpis
from viewer.marts import Marts
from viewer.pages.chat import ChatPage
from viewer.pages.clv import ClvPage
from viewer.pages.configuration import ConfigurationPage
from viewer.pages.dashboard import DashboardPage
from viewer.pages.data_import import DataImportPage
from viewer.pages.experiments import ExperimentsPage
from viewer.pages.history import HistoryPage
from viewer.pages.home import HomePage
from viewer.pages.reports import ReportsPage
from viewer.pages.sql import SqlPage
from viewer.sidebar import GlobalFilters, filter_options, navigation
from viewer.state import ViewerState

PASSWORD_ENV = "VALUEMARTS_VIEWER_PASSWORD"
CHECK_MS = 1500   # how often a session looks for a new warehouse file and build progress
PAGE_CLASSES = {"home": HomePage, "dashboard": DashboardPage, "reports": ReportsPage,
                 "experiments": ExperimentsPage, "clv": ClvPage, "data_import": DataImportPage,
                 "configuration": ConfigurationPage, "sql": SqlPage, "history": HistoryPage,
                "chat": ChatPage}
CSS = """
.vm-card { border: 1px solid #dde2e8; border-radius: 8px; padding: 10px 12px; background: #fff; }
.vm-kpi-title { font-size: 13px; color: #4a5560; text-transform: uppercase; letter-spacing: .03em; }
.vm-kpi-value { font-size: 30px; font-weight: 600; color: #17324d; margin: 4px 0; }
.vm-kpi-line { font-size: 12px; color: #4a5560; }
"""


def create_app(marts: Marts, runner: BuildRunner) -> pn.template.BootstrapTemplate:
    """One session's viewer: pages are built the first time they are shown, then kept."""
    state = ViewerState(marts)
    if pn.state.location is not None:
        pn.state.location.sync(state, {"page": "page"})
    built: dict[str, pn.viewable.Viewable] = {}

    def show(page: str) -> pn.viewable.Viewable:
        if page not in built:
            built[page] = PAGE_CLASSES[page](state, runner).panel()
        return built[page]

    template = pn.template.BootstrapTemplate(
        title="valuemarts", sidebar=[navigation(state), GlobalFilters(state).box],
        main=[pn.panel(pn.bind(show, state.param.page), sizing_mode="stretch_width")], sidebar_width=300)
    pn.state.add_periodic_callback(state.check_warehouse, period=CHECK_MS)
    return template


def check_address(address: str, password: str | None) -> None:
    """Refuse to serve beyond this machine without a password.

    Raises
    ------
    ValueMartsError
        A non-loopback address and no password, saying how to set one.
    """
    try:
        loopback = address == "localhost" or ipaddress.ip_address(address).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not password:
        raise ValueMartsError(f"serving on {address} makes the marts readable from other machines: set a password "
                              f"first, e.g. `export {PASSWORD_ENV}=$(openssl rand -hex 12)`, and log in with it "
                              "(any user name); or serve on 127.0.0.1")


def serve(warehouse: Path, config: Path | None = None, port: int = 5006, address: str = "127.0.0.1",
          password: str | None = None, on_ready: Callable[[str], None] = print) -> None:
    """Serve the viewer until stopped (Ctrl-C).

    Parameters
    ----------
    warehouse : Path
        The warehouse file to show (it need not exist yet: the Data import page can build it).
    config : Path, optional
        The TOML config that imports and the Configuration page build with.
    port, address : int, str
        Where to listen; 127.0.0.1 by default, so only this machine can connect.
    password : str, optional
        Required for any other address (Panel's basic auth, any user name).
    on_ready : callable
        Receives the URL once the server listens.
    """
    check_address(address, password)
    pn.extension("tabulator", "codeeditor", raw_css=[CSS])
    marts = Marts(warehouse)
    runner = BuildRunner(warehouse, config)
    _warm_up(marts)
    host = "127.0.0.1" if address in ("0.0.0.0", "::") else address
    origins = ["*"] if password else [f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    auth = {"basic_auth": password, "cookie_secret": secrets.token_hex(32)} if password else {}
    server = pn.serve({"/": lambda: create_app(marts, runner)}, port=port, address=address, show=False,
                      start=False, title="valuemarts", websocket_origin=origins, **auth)
    server.start()
    on_ready(f"http://{host}:{server.port}/")
    try:
        server.io_loop.start()
    finally:
        server.stop()


def _warm_up(marts: Marts) -> None:
    """Before anyone waits for a page: pay the first report's imports (the scoring macros,
    scipy) and fill the cache with what the first page shown needs, the filters and the KPIs."""
    try:
        filter_options(marts)
        dashboard_kpis(marts, lambda _metric: None)
    except ValueMartsError:
        pass   # no warehouse yet: the pages say so
