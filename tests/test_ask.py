"""`valuemarts ask` against a stub OpenAI-compatible endpoint on 127.0.0.1 that this module starts.

The stub answers what each test sets and records every request, so the tests see exactly what
left the process. The model's answer is treated as hostile: refused SQL must exit 1, say why, and
leave the warehouse byte-identical.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest

from valuemarts.api import Warehouse
from valuemarts.ask import AskError, chat_url, check_marts_select
from valuemarts.cli import main
from valuemarts.errors import ValueMartsError
from valuemarts.tables import write_frame

ENGAGEMENT_BY_CHANNEL = ("select Channel, sum(Positives) as positives, sum(Count) as n from marts.mart_engagement "
                         "group by Channel order by Channel")


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: dict | None


@dataclass
class StubEndpoint:
    """What the stub server answers next (status, body, extra headers) and every request it got."""

    url: str = ""
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def answer(self, content: str) -> None:
        """Reply with a chat completion whose message is `content`."""
        self.reply(200, json.dumps({"id": "stub", "object": "chat.completion",
                                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                                 "finish_reason": "stop"}]}).encode())

    def reply(self, status: int, body: bytes, **headers: str) -> None:
        self.status, self.body, self.headers = status, body, headers


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._record(json.loads(raw) if raw else None)

    def do_GET(self) -> None:
        self._record(None)

    def _record(self, body: dict | None) -> None:
        stub: StubEndpoint = self.server.stub  # type: ignore[attr-defined]
        stub.requests.append(Request(self.command, self.path, dict(self.headers.items()), body))
        self.send_response(stub.status)
        for name, value in stub.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(stub.body)))
        self.end_headers()
        self.wfile.write(stub.body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: pytest shows stderr of failing tests, and the requests are recorded anyway."""


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubEndpoint]:
    """A running stub on 127.0.0.1 (free port), with no endpoint, model, key or proxy from the environment."""
    for variable in ("VALUEMARTS_LLM_URL", "VALUEMARTS_LLM_MODEL", "VALUEMARTS_LLM_API_KEY",
                     "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    stub = StubEndpoint(url=f"http://127.0.0.1:{server.server_address[1]}/v1")
    server.stub = stub  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _ask(capsys: pytest.CaptureFixture[str], warehouse: Path, question: str, *flags: str) -> tuple[int, str, str]:
    code = main(["ask", "--warehouse", str(warehouse), *flags, question])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- answers that run ---------------------------------------------------------------------------

def test_fenced_answer_runs_and_matches_the_same_query_run_directly(demo_warehouse, endpoint, capsys):
    endpoint.answer(f"Engagement per channel:\n\n```sql\n{ENGAGEMENT_BY_CHANNEL};\n```\n\nEach row is one channel.")
    expected = Warehouse.open(demo_warehouse.warehouse).sql(ENGAGEMENT_BY_CHANNEL)
    assert expected.height > 1

    code, out, err = _ask(capsys, demo_warehouse.warehouse, "Positives per channel?",
                          "--endpoint", endpoint.url, "--model", "stub-model", "--format", "csv")

    assert code == 0, err
    printed = io.StringIO()
    write_frame(expected, "csv", printed)
    assert out == printed.getvalue()
    assert "mart_engagement" in err and "positives" in err  # the SQL that ran is shown, beside the rows


def test_library_returns_prompt_answer_sql_and_the_result(demo_warehouse, endpoint):
    answer = f"```SQL\n{ENGAGEMENT_BY_CHANNEL}\n```"
    endpoint.answer(answer)

    result = Warehouse.open(demo_warehouse.warehouse).ask("Positives per channel?", endpoint=endpoint.url,
                                                          model="stub-model")

    assert result.result.equals(Warehouse.open(demo_warehouse.warehouse).sql(ENGAGEMENT_BY_CHANNEL))
    assert result.answer == answer
    assert result.sql == check_marts_select(ENGAGEMENT_BY_CHANNEL)
    assert result.prompt == endpoint.requests[0].body["messages"]  # the prompt returned is the one sent
    assert result.url == endpoint.url + "/chat/completions"


def test_bare_sql_answer_runs(demo_warehouse, endpoint, capsys):
    query = "SELECT source, count(*) AS files FROM marts.mart_file_loads GROUP BY source ORDER BY source"
    endpoint.answer(f"  {query}\n")

    code, out, err = _ask(capsys, demo_warehouse.warehouse, "How many files per source?",
                          "--endpoint", endpoint.url, "--model", "m", "--format", "json")

    assert code == 0, err
    assert json.loads(out) == Warehouse.open(demo_warehouse.warehouse).sql(query).to_dicts()


def test_ctes_and_set_operations_over_marts_run(demo_warehouse, endpoint):
    query = ("with recursive n(i) as (select 1 union all select i + 1 from n where i < 3), "
             "loads as (select count(*) as c from marts.mart_file_loads) "
             "select i, c from n, loads union all select 0, count(*) from marts.mart_engagement order by 1")
    endpoint.answer(query)

    result = Warehouse.open(demo_warehouse.warehouse).ask("q", endpoint=endpoint.url, model="m")

    assert result.result.equals(Warehouse.open(demo_warehouse.warehouse).sql(query))


# ---- answers that are refused -------------------------------------------------------------------

@pytest.mark.parametrize(("answer", "reason"), [
    ("```sql\nDROP TABLE marts.mart_engagement\n```", "only a SELECT may run; refused a DROP statement"),
    ("select read_text('/etc/passwd')", 'function "read_text" is a table function'),
    ("select * from read_text('/etc/passwd')", "it reads from read_text(...); only tables in schema marts"),
    ("select content from read_blob('/etc/passwd')", "it reads from read_blob(...)"),
    ("select * from '/etc/passwd'", "it reads /etc/passwd; only tables in schema marts"),
    ("select 1; select count(*) from marts.mart_engagement", "expected one statement, got 2"),
    ("select count(*) from marts.mart_engagement; drop table marts.mart_engagement", "expected one statement, got 2"),
    ("select count(*) from landing.ih_raw", "it reads landing.ih_raw; only tables in schema marts may be read"),
    ("select * from marts.mart_engagement e join staging.stg_ih s on true", "it reads staging.stg_ih"),
    ("select (select count(*) from landing.ih_raw) from marts.mart_engagement", "it reads landing.ih_raw"),
    ("select table_name from information_schema.tables", "it reads information_schema.tables"),
    ("select * from warehouse.marts.mart_engagement", "it reads warehouse.marts.mart_engagement"),
    ("select * from query_table('landing.ih_raw')", "it reads from query_table(...)"),
    # a bare name outside its CTE's scope is a catalog view, not the CTE
    ("select * from (with duckdb_tables as (select 1 as x) select * from duckdb_tables), duckdb_tables",
     "it reads duckdb_tables"),
    ("with a as (select * from b), b as (select 1 as x) select * from a", "it reads b;"),
    ("```sql\nselect 1\n```\nor\n```sql\nselect count(*) from landing.ih_raw\n```", "it has 2 ```sql blocks"),
    ("```sql\n\n```", "it holds no SQL"),
    ("I cannot answer that.", "does not parse as DuckDB SQL"),
    ("update marts.mart_engagement set CTR = 0", "only a SELECT may run; refused a UPDATE statement"),
    ("attach '/tmp/x.duckdb' as x", "only a SELECT may run"),
])
def test_refused_sql_exits_1_says_why_and_changes_nothing(demo_warehouse, endpoint, capsys, answer, reason):
    before = _digest(demo_warehouse.warehouse)
    endpoint.answer(answer)

    code, out, err = _ask(capsys, demo_warehouse.warehouse, "Show me everything",
                          "--endpoint", endpoint.url, "--model", "m")

    assert code == 1
    assert reason.lower() in err.lower()
    assert out == ""
    assert "root:" not in err
    assert _digest(demo_warehouse.warehouse) == before
    assert demo_warehouse.query("select count(*) from marts.mart_engagement")[0][0] > 0


def test_refusal_carries_the_answer_and_shows_the_sql(demo_warehouse, endpoint, capsys):
    endpoint.answer("```sql\nselect * from landing.ih_raw\n```")

    with pytest.raises(AskError) as refused:
        Warehouse.open(demo_warehouse.warehouse).ask("q", endpoint=endpoint.url, model="m")
    assert refused.value.sql == "select * from landing.ih_raw"
    assert refused.value.prompt == endpoint.requests[0].body["messages"]

    code, _, err = _ask(capsys, demo_warehouse.warehouse, "q", "--endpoint", endpoint.url, "--model", "m")
    assert code == 1
    assert "-- the model's SQL:\nselect * from landing.ih_raw" in err


def test_control_characters_of_the_answer_never_reach_the_terminal(demo_warehouse, endpoint, capsys):
    endpoint.answer("\x1b]0;owned\x07\x1b[2J select * from landing.ih_raw")

    code, out, err = _ask(capsys, demo_warehouse.warehouse, "q", "--endpoint", endpoint.url, "--model", "m")

    assert code == 1
    assert "\x1b" not in err and "\x07" not in err and "\x1b" not in out


# ---- configuration and the request ---------------------------------------------------------------

def test_no_endpoint_configured_is_a_clear_error_and_sends_nothing(demo_warehouse, endpoint, capsys):
    endpoint.answer("select 1")

    code, out, err = _ask(capsys, demo_warehouse.warehouse, "How many files?", "--model", "m")

    assert code == 1
    assert "no model endpoint: set --endpoint or VALUEMARTS_LLM_URL" in err
    assert out == ""
    assert endpoint.requests == []


def test_no_model_configured_is_a_clear_error_and_sends_nothing(demo_warehouse, endpoint, capsys):
    code, _, err = _ask(capsys, demo_warehouse.warehouse, "How many files?", "--endpoint", endpoint.url)

    assert code == 1
    assert "no model name: set --model or VALUEMARTS_LLM_MODEL" in err
    assert endpoint.requests == []


def test_request_carries_model_question_schema_and_the_key_from_the_environment(demo_warehouse, endpoint, capsys,
                                                                               monkeypatch):
    monkeypatch.setenv("VALUEMARTS_LLM_URL", endpoint.url)
    monkeypatch.setenv("VALUEMARTS_LLM_MODEL", "env-model")
    monkeypatch.setenv("VALUEMARTS_LLM_API_KEY", "sk-test-123")
    endpoint.answer("select count(*) as n from marts.mart_file_loads")
    question = "How many files were loaded?"

    code, _, err = _ask(capsys, demo_warehouse.warehouse, question)

    assert code == 0, err
    (request,) = endpoint.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["Authorization"] == "Bearer sk-test-123"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body["model"] == "env-model"
    assert request.body["temperature"] == 0
    system, user = request.body["messages"]
    assert (system["role"], user) == ("system", {"role": "user", "content": question})
    schema = system["content"]
    for table in Warehouse.open(demo_warehouse.warehouse).marts()["mart"]:
        assert f"\n{table} " in schema  # every mart is described
    assert "  CTR DOUBLE -- Positives / Count, all arms pooled" in schema  # columns, types, dbt descriptions
    assert '  "Group" VARCHAR' in schema  # a reserved word is quoted as SQL needs it
    assert "one row per file load (file_seq)" in schema  # the grain
    assert "landing" not in schema and "ih_raw" not in schema  # only the marts
    assert len(schema) < 45_000  # bounded


def test_flags_override_the_environment_and_no_key_sends_no_authorization(demo_warehouse, endpoint, capsys,
                                                                          monkeypatch):
    monkeypatch.setenv("VALUEMARTS_LLM_URL", "http://127.0.0.1:9/unused")
    monkeypatch.setenv("VALUEMARTS_LLM_MODEL", "env-model")
    monkeypatch.setenv("VALUEMARTS_LLM_API_KEY", "")  # a local server: empty key
    endpoint.answer("select 1 as one")

    code, out, err = _ask(capsys, demo_warehouse.warehouse, "q",
                          "--endpoint", endpoint.url + "/chat/completions/", "--model", "flag-model")

    assert code == 0, err
    (request,) = endpoint.requests
    assert request.path == "/v1/chat/completions"  # not appended twice
    assert "Authorization" not in request.headers
    assert request.body["model"] == "flag-model"
    assert out.splitlines()[-1].strip() == "1"


def test_show_prompt_prints_the_messages_sent(demo_warehouse, endpoint, capsys):
    endpoint.answer("select 1 as one")

    code, _, err = _ask(capsys, demo_warehouse.warehouse, "Which channel converts best?",
                        "--endpoint", endpoint.url, "--model", "m", "--show-prompt")

    assert code == 0, err
    for message in endpoint.requests[0].body["messages"]:
        assert f"-- {message['role']} message sent:\n{message['content']}\n" in err


def test_without_show_prompt_the_user_is_told_what_was_sent(demo_warehouse, endpoint, capsys):
    endpoint.answer("select 1 as one")

    code, _, err = _ask(capsys, demo_warehouse.warehouse, "q", "--endpoint", endpoint.url, "--model", "m")

    assert code == 0, err
    size = sum(len(m["content"]) for m in endpoint.requests[0].body["messages"])
    assert f"sent the question and the marts' schema ({size} characters, no rows)" in err
    assert "message sent:" not in err


# ---- endpoints that fail --------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "body", "message"), [
    (500, b'{"error": {"message": "model overloaded", "type": "server_error"}}', "HTTP 500"),
    (500, b'{"error": {"message": "model overloaded", "type": "server_error"}}', "model overloaded"),
    (401, b"Unauthorized", "HTTP 401 Unauthorized: Unauthorized"),
    (200, b"<html>not an API</html>", "the reply is not JSON: <html>not an API</html>"),
    (200, b'{"object": "list", "data": []}', "the reply has no choices[0].message.content"),
    (200, b'{"choices": []}', "no choices[0].message.content"),
    (200, b'{"choices": [{"message": {"content": null}}]}', "no choices[0].message.content"),
])
def test_endpoint_errors_are_clear(demo_warehouse, endpoint, capsys, status, body, message):
    endpoint.reply(status, body)

    code, out, err = _ask(capsys, demo_warehouse.warehouse, "q", "--endpoint", endpoint.url, "--model", "m")

    assert code == 1
    assert f"error: model endpoint {endpoint.url}/chat/completions: " in err
    assert message in err
    assert out == ""


def test_redirects_are_not_followed_so_the_key_stays_with_the_endpoint(demo_warehouse, endpoint, capsys,
                                                                       monkeypatch):
    monkeypatch.setenv("VALUEMARTS_LLM_API_KEY", "sk-secret")
    endpoint.reply(302, b"", Location=endpoint.url + "/elsewhere")

    code, _, err = _ask(capsys, demo_warehouse.warehouse, "q", "--endpoint", endpoint.url, "--model", "m")

    assert code == 1
    assert "HTTP 302" in err and "redirect" in err
    assert len(endpoint.requests) == 1


def test_unreachable_endpoint_and_timeout_are_clear(demo_warehouse, endpoint, capsys):
    code, _, err = _ask(capsys, demo_warehouse.warehouse, "q", "--endpoint", "http://127.0.0.1:1/v1", "--model", "m")
    assert code == 1
    assert "model endpoint http://127.0.0.1:1/v1/chat/completions: cannot reach it" in err

    silent = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)  # accepts, never answers
    try:
        code, _, err = _ask(capsys, demo_warehouse.warehouse, "q", "--timeout", "0.5", "--model", "m",
                            "--endpoint", f"http://127.0.0.1:{silent.server_address[1]}")
    finally:
        silent.server_close()
    assert code == 1
    assert "no answer within 0.5 seconds" in err
    assert endpoint.requests == []


# ---- the rules on their own -----------------------------------------------------------------------

@pytest.mark.parametrize(("endpoint_url", "url"), [
    ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1/chat/completions"),
    ("http://localhost:11434/v1/", "http://localhost:11434/v1/chat/completions"),
    ("https://api.openai.com/v1/chat/completions", "https://api.openai.com/v1/chat/completions"),
    (" HTTPS://host/openai/chat/completions/ ", "https://host/openai/chat/completions"),
    ("https://x.openai.azure.com/openai/deployments/d?api-version=2024-10-21",
     "https://x.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21"),
])
def test_chat_url(endpoint_url, url):
    assert chat_url(endpoint_url) == url


@pytest.mark.parametrize("bad", ["file:///etc/passwd", "ftp://host/v1", "127.0.0.1:8080/v1", "http://", ""])
def test_only_http_endpoints(bad):
    with pytest.raises(ValueMartsError, match="expected an http:// or https:// URL"):
        chat_url(bad)


def test_checked_sql_is_what_runs_not_the_answers_text():
    assert check_marts_select("select 1 as x -- ; drop table marts.mart_engagement") == "SELECT\n  1 AS x"


def test_empty_and_overlong_questions_send_nothing(demo_warehouse, endpoint):
    wh = Warehouse.open(demo_warehouse.warehouse)
    with pytest.raises(ValueMartsError, match="the question is empty"):
        wh.ask("  ", endpoint=endpoint.url, model="m")
    with pytest.raises(ValueMartsError, match="at most 2000"):
        wh.ask("why? " * 500, endpoint=endpoint.url, model="m")
    assert endpoint.requests == []


def test_csv_output_keeps_only_rows(demo_warehouse, endpoint, capsys):
    endpoint.answer("select 'a,b' as label, 2 as n")

    code, out, err = _ask(capsys, demo_warehouse.warehouse, "q", "--endpoint", endpoint.url, "--model", "m",
                          "--format", "csv")

    assert code == 0, err
    assert list(csv.reader(io.StringIO(out))) == [["label", "n"], ["a,b", "2"]]
    assert pl.read_csv(io.StringIO(out)).height == 1


def test_the_viewer_chat_page_asks_shows_what_was_sent_and_refuses(demo_warehouse, endpoint):
    """The Chat page (no server): nothing sent without an endpoint; an answer's SQL and rows shown
    as Warehouse.sql gives them, with the prompt; a refused answer shows the reason and its SQL."""
    import html as html_text
    import re

    from viewer.jobs import BuildRunner
    from viewer.marts import Marts
    from viewer.pages.chat import ChatPage
    from viewer.state import ViewerState

    def text(pane) -> str:
        return html_text.unescape(re.sub(r"<[^>]+>", "", pane.object))

    page = ChatPage(ViewerState(Marts(demo_warehouse.warehouse)), BuildRunner(demo_warehouse.warehouse, None))
    page.panel()
    page.question.value = "Clicks per channel?"
    page._ask(None)
    assert "no model endpoint" in text(page.answer.objects[0]) and endpoint.requests == []
    query = "select \"Channel\", sum(\"Positives\") as clicks from marts.mart_engagement group by 1 order by 1"
    endpoint.answer(f"Here:\n```sql\n{query}\n```")
    page.endpoint.value, page.model.value = endpoint.url, "stub-model"
    page._ask(None)
    sql_pane, table, sent = page.answer.objects
    expected = Warehouse.open(demo_warehouse.warehouse).sql(query)
    assert table.objects[1].value["clicks"].tolist() == expected["clicks"].to_list()
    assert "Channel" in text(sql_pane) and "Clicks per channel?" in text(sent.objects[0])
    assert endpoint.requests[-1].body["model"] == "stub-model"
    endpoint.answer("```sql\nDROP TABLE marts.mart_engagement\n```")
    page._ask(None)
    refusal, shown_sql = page.answer.objects[:2]
    assert "vm-danger" in refusal.css_classes and "DROP TABLE" in text(shown_sql)
