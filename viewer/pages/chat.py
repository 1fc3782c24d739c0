"""Chat: a question answered from the marts by the user's own OpenAI-compatible endpoint
(`Warehouse.ask`). Off unless an endpoint and model are set here or in VALUEMARTS_LLM_URL /
VALUEMARTS_LLM_MODEL; the prompt that was sent, the SQL that ran and its rows are shown."""

from __future__ import annotations

import html
import os
from typing import Any

import panel as pn

from valuemarts.errors import ValueMartsError
from viewer.pages import Page
from viewer.widgets import data_table, error_box, note

URL_ENV, MODEL_ENV = "VALUEMARTS_LLM_URL", "VALUEMARTS_LLM_MODEL"


class ChatPage(Page):
    def panel(self) -> pn.viewable.Viewable:
        self.endpoint = pn.widgets.TextInput(label="Endpoint (OpenAI-compatible base URL)",
                                             value=os.environ.get(URL_ENV, ""), placeholder="http://127.0.0.1:8080/v1",
                                             width=380, css_classes=["vm-chat-endpoint"])
        self.model = pn.widgets.TextInput(label="Model", value=os.environ.get(MODEL_ENV, ""), width=240,
                                          css_classes=["vm-chat-model"])
        self.question = pn.widgets.TextAreaInput(label="Question", height=90, sizing_mode="stretch_width",
                                                 placeholder="Which channel had the highest click-through rate last month?",
                                                 css_classes=["vm-chat-question"])
        send = pn.widgets.Button(label="Ask", color="primary", css_classes=["vm-ask"])
        send.on_click(self._ask)
        self.answer = pn.Column(sizing_mode="stretch_width", css_classes=["vm-chat-answer"])
        intro = note("Nothing is sent anywhere until you ask with an endpoint set. What is sent: your question and "
                     "the marts' schema and descriptions, never rows (the key, if any, comes from "
                     "VALUEMARTS_LLM_API_KEY). The answer's SQL runs only if it is one SELECT over the marts, on "
                     "the same read-only connection as the SQL page.")
        return pn.Column("## Chat with the marts", intro, pn.Row(self.endpoint, self.model), self.question, send,
                         self.answer, sizing_mode="stretch_width")

    def _ask(self, _event: Any) -> None:
        try:
            result = self.state.marts.warehouse.ask(self.question.value, endpoint=self.endpoint.value or None,
                                                    model=self.model.value or None)
        except ValueMartsError as exc:
            parts = [error_box(exc)]
            sql, prompt = getattr(exc, "sql", None), getattr(exc, "prompt", None)
            if sql:
                parts.append(code("The SQL of the answer", sql))
            if prompt:
                parts.append(prompt_card(prompt))
            self.answer.objects = parts
            return
        self.answer.objects = [code("The SQL that ran", result.sql), data_table(result.result, "answer"),
                               prompt_card(result.prompt)]


def code(title: str, text: str) -> pn.pane.HTML:
    """A block of SQL or text from outside (the model's answer), shown as text, never markup."""
    return pn.pane.HTML(f"<div class='vm-kpi-line'>{html.escape(title)}</div>"
                        f"<pre class='vm-chat-sql' style='white-space: pre-wrap'>{html.escape(text)}</pre>",
                        sizing_mode="stretch_width", css_classes=["vm-chat-code"])


def prompt_card(prompt: list[dict[str, str]]) -> pn.Card:
    """The messages exactly as they were sent, folded: what left this machine."""
    body = "\n\n".join(f"[{m.get('role', '')}]\n{m.get('content', '')}" for m in prompt)
    return pn.Card(pn.pane.HTML(f"<pre style='white-space: pre-wrap'>{html.escape(body)}</pre>",
                                sizing_mode="stretch_width"),
                   title=f"What was sent ({len(body):,} characters)", collapsed=True, sizing_mode="stretch_width",
                   css_classes=["vm-chat-prompt"])
