"""The progress of the viewer's build, as a session shows it: a bar, the last log lines and the
result, polled from the shared BuildRunner."""

from __future__ import annotations

import panel as pn

from viewer.jobs import BuildRunner, Progress
from viewer.widgets import note

POLL_MS = 700


class BuildProgressView:
    """A progress bar and messages for the runner's build; polls while the session lives."""

    def __init__(self, runner: BuildRunner) -> None:
        self.runner = runner
        self.bar = pn.indicators.Progress(value=0, max=100, visible=False, sizing_mode="stretch_width",
                                          css_classes=["vm-progress"])
        self.status = pn.pane.Markdown("", css_classes=["vm-build-status"])
        self.log = pn.pane.Str("", max_height=160, styles={"overflow": "auto", "font-size": "11px"},
                               sizing_mode="stretch_width")
        self.result = pn.Column(sizing_mode="stretch_width")
        self._shown: Progress | None = None
        pn.state.add_periodic_callback(self.update, period=POLL_MS)

    def panel(self) -> pn.Column:
        return pn.Column(self.status, self.bar, self.log, self.result, sizing_mode="stretch_width")

    def update(self) -> None:
        progress = self.runner.progress()
        if progress == self._shown:
            return
        self._shown = progress
        # One patch to the browser: the status never shows beside another build's result.
        with pn.io.hold():
            self.bar.visible = progress.running
            self.bar.value = progress.percent
            self.log.object = "\n".join(progress.lines[-8:])
            if progress.running:
                self.status.object = f"**Building** ({progress.label}): " + (
                    f"{progress.done} of {progress.total} models and tests" if progress.total else "loading files")
                self.result.objects = []   # the last build's result is not this one's
            elif progress.finished_at is not None:
                self.status.object = f"**Last build** ({progress.label})"
                self.result.objects = [note(progress.error, "danger") if progress.error
                                       else note("Built: " + "; ".join(progress.summary), "success")]
