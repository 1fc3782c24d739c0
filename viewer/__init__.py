"""The valuemarts viewer: a Panel app over the marts, for people who never open a terminal.

It reads the warehouse only through `valuemarts.api.Warehouse` (one connection per call, so a
build that swaps the file in is seen at the next call) and serves its own scripts and styles,
so it works offline. `viewer.app.serve` starts it; `valuemarts serve` is the command.
"""
