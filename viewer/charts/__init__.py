"""Charts as pure functions of data frames: a polars frame (a report, a mart query) in, a
HoloViews object out. Nothing here reads the warehouse or needs a server, so every chart is
tested on small frames (tests/test_viewer_charts.py)."""
