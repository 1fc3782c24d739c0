"""`valuemarts ask "QUESTION" [--endpoint URL] [--model NAME]`: a question answered from the marts by
the user's own chat-completions endpoint (valuemarts.ask says what is sent and what may run).

The result goes to stdout like `sql`'s; the SQL that ran, the note of what was sent and, with
--show-prompt, the prompt itself go to stderr, so `--format csv > out.csv` captures only rows.
"""

from __future__ import annotations

import argparse
import sys

from valuemarts.tables import FORMAT_HELP, FORMATS


def add_parser(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "ask", parents=[common], help="answer a question from the marts with your own model endpoint",
        description="Send the question and the marts' schema and descriptions (never rows) to an OpenAI-compatible "
                    "chat-completions endpoint, check the SQL of its answer (one SELECT over schema marts) and "
                    "run it read-only. Nothing is sent unless an endpoint is given. The API key is read from "
                    "$VALUEMARTS_LLM_API_KEY only (unset or empty: no Authorization header).")
    p.add_argument("question", help="the question, in plain words")
    p.add_argument("--endpoint", metavar="URL",
                   help="the server's base URL, e.g. http://127.0.0.1:8080/v1 (/chat/completions is appended "
                        "unless the URL ends with it); default $VALUEMARTS_LLM_URL")
    p.add_argument("--model", metavar="NAME", help="the model name the server expects; default $VALUEMARTS_LLM_MODEL")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="how long to wait for the answer; default 120")
    p.add_argument("--show-prompt", action="store_true",
                   help="print the messages sent (the instructions, the schema, the question) to stderr")
    p.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    return p


def run(args: argparse.Namespace) -> int:
    from valuemarts.api import Warehouse
    from valuemarts.ask import AskError, printable
    from valuemarts.tables import write_frame

    try:
        answer = Warehouse.open(args.warehouse).ask(args.question, endpoint=args.endpoint, model=args.model,
                                                     timeout=args.timeout)
    except AskError as exc:
        _show_sent(exc.prompt, args.show_prompt)
        if exc.sql is not None:
            print(f"-- the model's SQL:\n{printable(exc.sql)}", file=sys.stderr)
        elif exc.answer is not None:
            print(f"-- the model's answer:\n{printable(exc.answer)}", file=sys.stderr)
        raise
    _show_sent(answer.prompt, args.show_prompt)
    print(f"-- {answer.model} at {answer.url} answered with:\n{printable(answer.sql)}\n", file=sys.stderr)
    sys.stderr.flush()  # the SQL before the rows on a terminal
    write_frame(answer.result, args.format)
    return 0


def _show_sent(prompt: list[dict[str, str]], full: bool) -> None:
    """What left the machine: the whole prompt with --show-prompt, else its size and what it held."""
    from valuemarts.ask import printable

    if full:
        for message in prompt:
            print(f"-- {message['role']} message sent:\n{printable(message['content'])}\n", file=sys.stderr)
    else:
        size = sum(len(message["content"]) for message in prompt)
        print(f"-- sent the question and the marts' schema ({size} characters, no rows); "
              "--show-prompt prints it", file=sys.stderr)
