"""Data import: upload export files or name a folder, then validate and build in the background.

Validation is the build's own (the rules and messages of `load`: file, row and column); a file
that fails leaves the warehouse as it was, and an upload whose build failed is removed. New
files are added to the paths of the last load, so the warehouse keeps every source it had.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import panel as pn

from valuemarts.api import max_upload_bytes
from valuemarts.errors import ValueMartsError
from viewer.jobs import Progress
from viewer.pages import Page
from viewer.progress import BuildProgressView
from viewer.uploads import SIDES, SUFFIXES, discard, save_uploads
from viewer.widgets import error_box, note


class DataImportPage(Page):
    def panel(self) -> pn.viewable.Viewable:
        self.side = pn.widgets.RadioButtonGroup(options={label: key for key, label in SIDES.items()}, value="ih")
        self.dropper = pn.widgets.FileDropper(multiple=True, accepted_filetypes=list(SUFFIXES), css_classes=["vm-dropper"],
                                              max_file_size=f"{max_upload_bytes() // 1_000_000}MB",
                                              sizing_mode="stretch_width")
        self.folder = pn.widgets.TextInput(label="or a folder or file on this machine", placeholder="/path/to/exports",
                                           sizing_mode="stretch_width")
        # What the server has received: a large file reaches it in chunks after the browser lists it,
        # and "Validate and build" reads only what has arrived.
        self.received = pn.Column(sizing_mode="stretch_width", css_classes=["vm-received"])
        self.dropper.param.watch(lambda event: self._show_received(event.new), "value")
        start = pn.widgets.Button(label="Validate and build", color="primary", css_classes=["vm-import"])
        start.on_click(self._start)
        self.message = pn.Column(sizing_mode="stretch_width")
        self.progress = BuildProgressView(self.runner)
        intro = pn.pane.Markdown(
            f"Files are validated with the same rules and messages as `valuemarts load`, then the marts are "
            f"rebuilt in the background; every page shows the new numbers once the build is swapped in. "
            f"Formats: {', '.join(SUFFIXES)}; at most {max_upload_bytes():,} bytes per file.")
        return pn.Column("## Data import", intro, self.side, self.dropper, self.received, self.folder, start, self.message,
                         self.progress.panel(), sizing_mode="stretch_width")

    def _show_received(self, files: dict[str, Any]) -> None:
        self.received.objects = [note(received_text(files))] if files else []

    def _start(self, _event: Any) -> None:
        self.message.objects = []
        side = self.side.value
        try:
            upload = save_uploads(self.dropper.value, self.state.marts.path, side) if self.dropper.value else None
            if upload is None and not self.folder.value.strip():
                raise ValueMartsError("choose files to upload, or name a folder")
            # Uploaded files are named one by one (a file is read whatever the config's file_pattern);
            # a folder is searched with the pattern, as `load` does.
            new = sorted(map(str, upload.iterdir())) if upload else [str(Path(self.folder.value.strip()).expanduser())]
            ih, holdings = self.state.marts.warehouse.input_paths()
            paths = {"ih": ih, "holdings": holdings}
            paths[side] = [*paths[side], *new]
            self.runner.start(f"import into {SIDES[side]}", ih=paths["ih"] or None, holdings=paths["holdings"] or None,
                              finished=lambda p: _forget_failed(p, upload))
        except ValueMartsError as exc:
            self.message.objects = [error_box(exc)]
            return
        self.dropper.value = {}


def received_text(files: dict[str, bytes | str]) -> str:
    """The uploaded files the server holds, by name and size, as the line under the drop area."""
    sizes = ", ".join(f"{name} ({len(content):,} bytes)" for name, content in sorted(files.items()))
    return f"Received: {sizes}"


def _forget_failed(progress: Progress, upload: Path | None) -> None:
    """An upload whose build failed never landed: remove it, so no later build reads it."""
    if progress.error and upload is not None:
        discard(upload)
