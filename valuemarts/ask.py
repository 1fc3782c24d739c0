"""Questions answered from the marts by a model endpoint the user chooses (`valuemarts ask`,
`Warehouse.ask`).

Nothing is sent anywhere unless an endpoint is configured (the `endpoint` argument, else
$VALUEMARTS_LLM_URL). What is sent is the prompt this module returns: the question and the marts'
schema (tables, columns, types, grain and dbt descriptions), never a row of data. The endpoint is
any OpenAI-compatible chat-completions server, local ones included.

The answer is data, not instructions: the SQL in it (one fenced ```sql block, or the whole answer)
must parse as exactly one SELECT whose every table is in schema `marts` (`check_marts_select`).
What runs is that checked statement as sqlglot renders it back, never the answer's text, so sqlglot
and DuckDB cannot read two different statements from it; `user_sql.query_read_only` then checks it
again and runs it on the locked-down read-only connection.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from valuemarts.errors import ValueMartsError
from valuemarts.reports.relations import ManifestModel, relation_docs
from valuemarts.sql_names import quote_ident
from valuemarts.user_sql import query_read_only

ENV_URL = "VALUEMARTS_LLM_URL"
ENV_MODEL = "VALUEMARTS_LLM_MODEL"
ENV_API_KEY = "VALUEMARTS_LLM_API_KEY"
CHAT_PATH = "/chat/completions"
DEFAULT_TIMEOUT = 120.0  # seconds: a local model on a laptop can take a minute to answer

# The prompt stays bounded (about 10k tokens of schema, what the demo's marts take with their column
# descriptions): descriptions are cut to their first sentence, and past the limit column
# descriptions go, then whole marts.
MAX_SCHEMA_CHARS = 40_000
MAX_QUESTION_CHARS = 2_000
TABLE_DESCRIPTION_CHARS = 240
COLUMN_DESCRIPTION_CHARS = 100
NAMES_RESERVE_CHARS = 2_000  # for the names of the marts left out when even that is too long
MAX_REPLY_BYTES = 1_000_000  # a chat completion is a few kB; more is a wrong or hostile endpoint
SCHEMA = "marts"
DIALECT = "duckdb"

Messages = list[dict[str, str]]

_INSTRUCTIONS = f"""\
You write DuckDB SQL for the valuemarts warehouse: value metrics of next-best-action decisioning,
built from Pega Customer Decision Hub exports (Interaction History and Product Holdings).
Answer the user's question with exactly one read-only SELECT statement (WITH clauses allowed) in
one ```sql fenced block.
- Read only the tables listed below, always named with their schema: {SCHEMA}.<table>. No other
  schemas, no table functions, no files.
- Write column names as listed (double quotes where shown).
- Keep the result small: aggregate, and add LIMIT 100 when listing rows.
- If the tables cannot answer the question, reply with: SELECT 'why not' AS note

Tables in schema {SCHEMA} (one block per table: name, grain and description, then its columns
with their types and descriptions):
"""

_SQL_FENCE = re.compile(r"```[ \t]*sql\b(.*?)```", re.IGNORECASE | re.DOTALL)
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class AskResult:
    """A question answered: what was sent, what came back, what ran and what it returned.

    Attributes
    ----------
    question : str
    url : str
        The chat-completions URL the prompt was posted to.
    model : str
    prompt : list of dict
        The messages sent, exactly as sent (`role` and `content`): show them to the user.
    answer : str
        The model's reply as it came.
    sql : str
        The statement that ran: the answer's SQL after the check, as sqlglot renders it.
    result : polars.DataFrame
        What that statement returned.
    """

    question: str
    url: str
    model: str
    prompt: Messages
    answer: str
    sql: str
    result: pl.DataFrame


class AskError(ValueMartsError):
    """A question that went out but got no result; carries what the user needs to see why.

    Attributes
    ----------
    prompt : list of dict
        The messages that were sent.
    answer : str or None
        The model's reply, when one came.
    sql : str or None
        The SQL taken from the reply, when there was one: refused or failed.
    """

    def __init__(self, message: str, prompt: Messages, answer: str | None = None, sql: str | None = None) -> None:
        super().__init__(message)
        self.prompt = prompt
        self.answer = answer
        self.sql = sql


def ask(warehouse: Path, question: str, endpoint: str | None = None, model: str | None = None,
        api_key: str | None = None, timeout: float | None = None) -> AskResult:
    """Send `question` and the marts' schema to a chat-completions endpoint, run the checked SQL of its answer.

    Parameters
    ----------
    warehouse : Path
        An existing warehouse.
    question : str
        In plain words; at most MAX_QUESTION_CHARS characters.
    endpoint : str, optional
        The server's base URL (`http://127.0.0.1:8080/v1`, `https://api.openai.com/v1`), or the
        full chat-completions URL; default $VALUEMARTS_LLM_URL. See `chat_url`.
    model : str, optional
        The model name the server expects; default $VALUEMARTS_LLM_MODEL.
    api_key : str, optional
        Sent as `Authorization: Bearer KEY`; default $VALUEMARTS_LLM_API_KEY. Empty or unset sends
        no Authorization header (local servers need none).
    timeout : float, optional
        Seconds to wait for the answer (default DEFAULT_TIMEOUT).

    Raises
    ------
    ValueMartsError
        Before anything is sent: no endpoint or model, a URL that is not http(s), an empty or too
        long question.
    AskError
        After the prompt was sent: the endpoint failed or its reply is not a chat completion, or
        the answer's SQL was refused or failed. Carries the prompt, the answer and the SQL.
    """
    url = chat_url(_setting(endpoint, ENV_URL, "no model endpoint: set --endpoint or VALUEMARTS_LLM_URL"))
    model = _setting(model, ENV_MODEL, "no model name: set --model or VALUEMARTS_LLM_MODEL")
    key = api_key if api_key is not None else os.environ.get(ENV_API_KEY, "")
    question = question.strip()
    if not question:
        raise ValueMartsError("ask: the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueMartsError(f"ask: the question has {len(question)} characters; at most {MAX_QUESTION_CHARS}")
    prompt = prompt_messages(question, schema_text(warehouse))
    answer = _complete(url, model, prompt, key, DEFAULT_TIMEOUT if timeout is None else timeout)
    try:
        sql = sql_of(answer)
    except ValueMartsError as exc:
        raise AskError(f"refused the model's answer: {exc}", prompt, answer) from exc
    try:
        checked = check_marts_select(sql)
    except ValueMartsError as exc:
        raise AskError(f"refused the model's SQL: {exc}", prompt, answer, sql) from exc
    try:
        result = query_read_only(warehouse, checked)
    except ValueMartsError as exc:
        raise AskError(f"the model's SQL did not run: {exc}", prompt, answer, checked) from exc
    return AskResult(question, url, model, prompt, answer, checked, result)


def chat_url(endpoint: str) -> str:
    """The URL to POST to: `endpoint` itself if its path ends with /chat/completions, else that path
    appended (a query string, such as Azure's `?api-version=`, is kept).

    Only http and https: urllib would also open file: and ftp: URLs.

    Examples
    --------
    >>> chat_url("http://127.0.0.1:8080/v1/")
    'http://127.0.0.1:8080/v1/chat/completions'
    >>> chat_url("https://api.openai.com/v1/chat/completions")
    'https://api.openai.com/v1/chat/completions'
    """
    parts = urllib.parse.urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueMartsError(f"model endpoint: expected an http:// or https:// URL, got {_excerpt(endpoint)}")
    path = parts.path.rstrip("/")
    return urllib.parse.urlunsplit(parts._replace(path=path if path.endswith(CHAT_PATH) else path + CHAT_PATH))


def prompt_messages(question: str, schema: str) -> Messages:
    """The messages sent: the instructions with the schema as the system message, the question as the user's."""
    return [{"role": "system", "content": _INSTRUCTIONS + schema}, {"role": "user", "content": question}]


def schema_text(warehouse: Path) -> str:
    """The marts, their columns and types, grain and descriptions, in at most MAX_SCHEMA_CHARS characters.

    Columns and types come from the warehouse itself (information_schema, read through the same
    locked connection as any query); grain and descriptions from its build's dbt manifest, when
    it has one. Too long with column descriptions, they are left out; still too long, the marts
    that do not fit are listed by name only.
    """
    rows = query_read_only(warehouse, f"""
        with reserved as (select keyword_name from duckdb_keywords() where keyword_category = 'reserved')
        select table_name, column_name, data_type,
               lower(table_name) in (from reserved), lower(column_name) in (from reserved)
        from information_schema.columns
        where table_catalog = current_database() and table_schema = '{SCHEMA}'
        order by table_name, ordinal_position""").rows()
    if not rows:
        raise ValueMartsError(f"{warehouse}: no marts to ask about; run `valuemarts build` first")
    docs = relation_docs(warehouse)
    tables: dict[tuple[str, bool], list[tuple[str, str, str]]] = {}
    for table, column, data_type, table_reserved, column_reserved in rows:
        tables.setdefault((table, table_reserved), []).append((column, _name(column, column_reserved), data_type))
    described = [(_name(table, reserved), columns, docs.get((SCHEMA, table.lower())))
                 for (table, reserved), columns in tables.items()]
    for with_column_docs in (True, False):
        blocks = [_table_block(table, columns, doc, with_column_docs) for table, columns, doc in described]
        if sum(map(len, blocks)) <= MAX_SCHEMA_CHARS:
            return "".join(blocks)
    return _fitted(blocks, [table for table, _, _ in described])


def sql_of(answer: str) -> str:
    """The SQL of an answer: its one fenced ```sql block, else the whole answer."""
    blocks = _SQL_FENCE.findall(answer)
    if len(blocks) > 1:
        raise ValueMartsError(f"it has {len(blocks)} ```sql blocks; expected one")
    sql = (blocks[0] if blocks else answer).strip()
    if not sql:
        raise ValueMartsError("it holds no SQL")
    return sql


def check_marts_select(sql: str) -> str:
    """`sql` as one SELECT over schema marts only, rendered back by sqlglot; else ValueMartsError saying why.

    Examples
    --------
    >>> check_marts_select("select count(*) from marts.mart_engagement")
    'SELECT\\n  COUNT(*)\\nFROM marts.mart_engagement'
    >>> check_marts_select("select * from landing.ih_raw")
    Traceback (most recent call last):
    valuemarts.errors.ValueMartsError: it reads landing.ih_raw; only tables in schema marts may be read
    """
    try:
        trees = [tree for tree in sqlglot.parse(sql, read=DIALECT) if tree is not None]
    except (ParseError, TokenError) as exc:
        raise ValueMartsError(f"it does not parse as DuckDB SQL ({_excerpt(str(exc).splitlines()[0])})") from None
    if len(trees) != 1:
        raise ValueMartsError(f"expected one statement, got {len(trees)}")
    tree = trees[0]
    if not isinstance(tree, exp.Query):
        kind = tree.name if isinstance(tree, exp.Command) else tree.key
        raise ValueMartsError(f"only a SELECT may run; refused a {_excerpt(kind.upper())} statement")
    writes = next((node for node in tree.walk() if isinstance(node, (exp.DML, exp.DDL, exp.Command))), None)
    if writes is not None:
        raise ValueMartsError(f"only a SELECT may run; it holds a {writes.key.upper()}")
    for table in tree.find_all(exp.Table):
        _check_table(table)
    # Without comments: a comment holding `*/` would otherwise end early in the rendering.
    return tree.sql(dialect=DIALECT, pretty=True, comments=False)


def _setting(given: str | None, variable: str, missing: str) -> str:
    value = (given if given is not None else os.environ.get(variable, "")).strip()
    if not value:
        raise ValueMartsError(missing)
    return value


def _complete(url: str, model: str, prompt: Messages, key: str, timeout: float) -> str:
    """The text of the endpoint's chat completion for `prompt`."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    body = json.dumps({"model": model, "messages": prompt, "temperature": 0}).encode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    where = f"model endpoint {url}"
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            raw = response.read(MAX_REPLY_BYTES + 1)
    except urllib.error.HTTPError as exc:
        status = f"HTTP {exc.code} {_excerpt(str(exc.reason))}"
        raise AskError(f"{where}: {status}{_http_error_detail(exc)}", prompt) from None
    except TimeoutError:
        raise AskError(f"{where}: no answer within {timeout:g} seconds", prompt) from None
    except urllib.error.URLError as exc:
        raise AskError(f"{where}: cannot reach it ({exc.reason})", prompt) from None
    except (OSError, http.client.HTTPException) as exc:
        raise AskError(f"{where}: the connection failed ({type(exc).__name__}: {exc})", prompt) from None
    if len(raw) > MAX_REPLY_BYTES:
        raise AskError(f"{where}: the reply is larger than {MAX_REPLY_BYTES} bytes", prompt)
    try:
        reply = json.loads(raw)
    except ValueError:
        raise AskError(f"{where}: the reply is not JSON: {_excerpt(raw.decode(errors='replace'))}", prompt) from None
    content = _message_content(reply)
    if content is None:
        raise AskError(f"{where}: the reply has no choices[0].message.content, so it is not a chat completion: "
                       f"{_excerpt(raw.decode(errors='replace'))}", prompt)
    return content


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would resend the Authorization header to wherever one points."""

    def redirect_request(self, req: urllib.request.Request, fp: object, code: int, msg: str, headers: object,
                         newurl: str) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _http_error_detail(error: urllib.error.HTTPError) -> str:
    """The server's own message, as OpenAI-compatible servers put it ({"error": {"message": ...}}),
    else the body's start."""
    if 300 <= error.code < 400:
        return f" (a redirect to {_excerpt(error.headers.get('Location') or '?')}; give that URL instead)"
    try:
        text = error.read(MAX_REPLY_BYTES).decode(errors="replace")
    except (OSError, http.client.HTTPException):
        return ""  # the status line says enough
    try:
        detail = json.loads(text)["error"]
        text = detail["message"] if isinstance(detail, dict) else detail
    except (ValueError, KeyError, TypeError):
        pass  # not the usual error object: show the body as it came
    return f": {_excerpt(str(text))}" if str(text).strip() else ""


def _message_content(reply: object) -> str | None:
    try:
        content = reply["choices"][0]["message"]["content"]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


def _check_table(table: exp.Table) -> None:
    if not isinstance(table.this, exp.Identifier):
        called = table.this.name if isinstance(table.this, exp.Anonymous) else table.this.key
        raise ValueMartsError(f"it reads from {_excerpt(called.lower())}(...); only tables in schema {SCHEMA} "
                              "may be read")
    if not table.catalog and not table.db and table.name.lower() in _ctes_in_scope(table):
        return
    if table.catalog or table.db.lower() != SCHEMA:
        name = ".".join(part for part in (table.catalog, table.db, table.name) if part)
        raise ValueMartsError(f"it reads {_excerpt(name)}; only tables in schema {SCHEMA} may be read")


def _ctes_in_scope(table: exp.Table) -> set[str]:
    """Lower-case names of the CTEs `table` may refer to.

    A CTE's body sees only the CTEs before it (itself too under WITH RECURSIVE), and everything
    else under the query sees them all; a bare name outside that scope would be resolved by
    DuckDB in its catalog (system views such as `duckdb_tables`), outside the marts.
    """
    names: set[str] = set()
    child: exp.Expression = table
    for node in _ancestors(table):
        if isinstance(node, exp.With) and isinstance(child, exp.CTE):
            position = next(i for i, cte in enumerate(node.expressions) if cte is child)
            names |= _cte_names(node.expressions[:position + 1 if node.args.get("recursive") else position])
        elif isinstance(node, exp.Query) and node.args.get("with_") is not None and child is not node.args["with_"]:
            names |= _cte_names(node.args["with_"].expressions)
        child = node
    return names


def _ancestors(node: exp.Expression) -> Iterator[exp.Expression]:
    while node.parent is not None:
        node = node.parent
        yield node


def _cte_names(ctes: Iterable[exp.CTE]) -> set[str]:
    return {cte.alias_or_name.lower() for cte in ctes}


def _table_block(table: str, columns: list[tuple[str, str, str]], doc: ManifestModel | None,
                 column_docs: bool) -> str:
    """One table of the schema text: `marts.name -- grain; description`, then a line per column.

    `table` and the second item of each column are the names as SQL takes them (`_name`); the
    first is the column's name as dbt documents it.
    """
    about = "; ".join(part for part in (doc.grain, _first_sentence(doc.description, TABLE_DESCRIPTION_CHARS))
                      if part) if doc else ""
    lines = [f"{SCHEMA}.{table}" + (f" -- {about}" if about else "")]
    for column, name, data_type in columns:
        described = doc.columns.get(column.lower(), "") if doc and column_docs else ""
        note = f" -- {_first_sentence(described, COLUMN_DESCRIPTION_CHARS)}" if described else ""
        lines.append(f"  {name} {data_type}{note}")
    return "\n".join(lines) + "\n\n"


def _fitted(blocks: list[str], tables: list[str]) -> str:
    """The blocks that fit in MAX_SCHEMA_CHARS with room left for the names of the rest, then those names."""
    kept: list[str] = []
    size = 0
    for block in blocks:
        size += len(block)
        if size > MAX_SCHEMA_CHARS - NAMES_RESERVE_CHARS:
            break
        kept.append(block)
    rest = ", ".join(f"{SCHEMA}.{table}" for table in tables[len(kept):])
    tail = f"More tables (columns not listed, to keep this prompt short): {rest}\n"
    return ("".join(kept) + tail)[:MAX_SCHEMA_CHARS]


def _name(identifier: str, reserved: bool) -> str:
    """An identifier as SQL takes it: plain names bare; reserved words (`Group`) and any other name
    (they come from export files) quoted."""
    return identifier if _PLAIN_NAME.fullmatch(identifier) and not reserved else quote_ident(identifier)


def _first_sentence(text: str, limit: int) -> str:
    """The first sentence of a dbt description on one line, at most `limit` characters."""
    line = " ".join(text.split())
    end = line.find(". ")
    sentence = line if end < 0 else line[:end + 1]
    return sentence if len(sentence) <= limit else sentence[:limit - 1].rstrip() + "…"


def printable(text: str) -> str:
    """Text from the endpoint or the model, safe to print: lines and tabs kept, every other
    non-printable character (the escape sequences a hostile reply could drive a terminal with) as `?`."""
    return "".join(c if c in "\n\t" or c.isprintable() else "?" for c in text)


def _excerpt(text: str, limit: int = 200) -> str:
    """`printable` text on one line, at most `limit` characters, for a message."""
    line = printable(" ".join(text.split()))
    return line if len(line) <= limit else line[:limit] + "…"
