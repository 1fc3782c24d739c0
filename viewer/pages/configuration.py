"""Configuration: view and edit the TOML, validate it with the compiler's messages next to the
offending keys, see its diff against the active config, apply it (a build) or download it.

The active config is the file the viewer was started with (`valuemarts serve --config`). Apply
builds with the edited text from a file beside it and replaces the active file only when the
build succeeded, so a config that fails to build changes nothing.
"""

from __future__ import annotations

import io
import os
from html import escape
from pathlib import Path
from typing import Any

import panel as pn

from valuemarts.errors import ConfigErrors, ValueMartsError
from viewer.config_text import diff, key_line
from viewer.jobs import Progress
from viewer.pages import Page
from viewer.progress import BuildProgressView
from viewer.widgets import error_box, note


class ConfigurationPage(Page):
    def panel(self) -> pn.viewable.Viewable:
        config = self.runner.config
        text = config.read_text(encoding="utf-8") if config and config.exists() else ""
        self.editor = pn.widgets.CodeEditor(value=text, language="toml", height=520, sizing_mode="stretch_width",
                                            css_classes=["vm-config-editor"])
        buttons = []
        for label, action in (("Validate", self._validate), ("Diff", self._diff), ("Apply and build", self._apply)):
            button = pn.widgets.Button(label=label, color="primary" if label == "Validate" else "default")
            button.on_click(action)
            buttons.append(button)
        download = pn.widgets.FileDownload(callback=lambda: io.StringIO(self.editor.value),
                                           filename=config.name if config else "config.toml", label="Download")
        self.messages = pn.Column(sizing_mode="stretch_width", css_classes=["vm-config-messages"])
        self.progress = BuildProgressView(self.runner)
        ih, holdings = self.state.marts.warehouse.input_paths()
        self.samples = pn.widgets.TextAreaInput(label="Sample files or folders on this machine, one per line",
                                                value="\n".join(ih + holdings), height=70, sizing_mode="stretch_width",
                                                css_classes=["vm-draft-samples"])
        draft = pn.widgets.Button(label="Draft from sample", css_classes=["vm-draft"])
        draft.on_click(self._draft)
        where = f"<code>{escape(str(config))}</code>" if config else \
            "none (start the viewer with <code>--config CONFIG.toml</code> to apply)"
        return pn.Column("## Configuration", pn.pane.HTML(f"Active config: {where}"), pn.Row(*buttons, download),
                         self.editor, self.messages, self.progress.panel(),
                         pn.Card(self.samples, draft, title="Draft a config from a sample (init-config)",
                                 collapsed=True, sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")

    def _draft(self, _event: Any) -> None:
        """The editor gets a config drafted from the samples (`valuemarts init-config`), to review,
        validate and apply; the active config stays as it is until then."""
        from valuemarts.api import draft_config

        samples = [line.strip() for line in self.samples.value.splitlines() if line.strip()]
        try:
            self.editor.value = draft_config(samples)
        except ValueMartsError as exc:
            self.messages.objects = [error_box(exc)]
            return
        self.messages.objects = [note(f"Drafted from {len(samples)} sample path(s): review the commented choices, "
                                      "then Validate and Apply.", "success")]

    def _check(self) -> bool:
        """Validate the editor's text: messages below it and at their lines; True when it compiles."""
        text = self.editor.value
        try:
            compiled = self.state.marts.warehouse.check_config(text)
        except ConfigErrors as exc:
            self.editor.annotations = [
                {"row": key_line(text, e.key) or 0, "column": 0, "text": str(e), "type": "error"} for e in exc.errors]
            self.messages.objects = [note("\n".join(self._located(text, e.key, str(e)) for e in exc.errors), "danger")]
            return False
        self.editor.annotations = [
            {"row": key_line(text, w.split(":")[0]) or 0, "column": 0, "text": w, "type": "warning"}
            for w in compiled.warnings]
        built = self._built_hash()
        same = "This is the config the warehouse was built with." if built == compiled.report_specs["config_hash"] \
            else "The warehouse was built with another config: applying it rebuilds every mart."
        lines = ["Valid.", same] + [f"warning: {self._located(text, w.split(':')[0], w)}" for w in compiled.warnings]
        self.messages.objects = [note("\n".join(lines), "success")]
        return True

    def _validate(self, _event: Any) -> None:
        self._check()

    def _diff(self, _event: Any) -> None:
        config = self.runner.config
        active = config.read_text(encoding="utf-8") if config and config.exists() else ""
        changes = diff(active, self.editor.value, str(config or "active"), "edited")
        self.messages.objects = [pn.pane.HTML(f"<pre>{escape(changes)}</pre>", css_classes=["vm-diff"]) if changes
                                 else note("No change from the active config.")]

    def _apply(self, _event: Any) -> None:
        config = self.runner.config
        if config is None:
            self.messages.objects = [note("No active config file: start the viewer with --config CONFIG.toml.",
                                          "danger")]
            return
        if not self._check():
            return
        staged = config.with_name(f".{config.name}.applying")
        staged.write_text(self.editor.value, encoding="utf-8")
        try:
            self.runner.start("apply the edited config", config=staged, finished=lambda p: _settle(p, staged, config))
        except ValueMartsError as exc:
            staged.unlink(missing_ok=True)
            self.messages.objects = [error_box(exc)]

    def _built_hash(self) -> str | None:
        try:
            builds = self.state.marts.builds()
        except ValueMartsError:
            return None
        return builds["config_hash"][0] if builds.height else None

    @staticmethod
    def _located(text: str, key: str, message: str) -> str:
        line = key_line(text, key)
        return f"line {line + 1}: {message}" if line is not None else message


def _settle(progress: Progress, staged: Path, config: Path) -> None:
    """The edited config becomes the active file only when its build succeeded."""
    if progress.error:
        staged.unlink(missing_ok=True)
    else:
        os.replace(staged, config)
