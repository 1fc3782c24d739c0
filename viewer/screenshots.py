"""A PNG of every viewer page on a warehouse (`valuemarts screenshots DIR`), for the README and
for looking at what a change did."""

from __future__ import annotations

from pathlib import Path

from viewer.browser import chromium, served, settle
from viewer.state import PAGES

HEIGHT = 860
COLOURS = 256   # palette PNGs: a screenshot is mostly flat colour, so this keeps files small


def write_screenshots(warehouse: Path, out: Path, config: Path | None = None, width: int = 1280) -> list[Path]:
    """Serve the viewer, open each page and write `out/<page>.png` (the top of the page).

    Returns
    -------
    list of Path
        The files written, in page order.
    """
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with served(warehouse, config) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": width, "height": HEIGHT})
        for name in PAGES:
            page.goto(f"{url}?page={name}")
            settle(page)
            path = out / f"{name}.png"
            page.screenshot(path=str(path))
            with Image.open(path) as image:
                image.convert("RGB").quantize(COLOURS).save(path, optimize=True)
            written.append(path)
    return written
