"""What was built when, with which config, how experiments moved, and what was decided.

The history lives in a SQLite file beside the warehouse (`<warehouse>.history.sqlite`), never
inside it: a build works on a copy of the warehouse and swaps it in, so anything recorded inside
a failed build would vanish with it, and writing the live DuckDB file in place would lock out
its readers. SQLite takes one small write at a time while readers keep reading, and the file
survives `--full-refresh`, which starts the warehouse from nothing.
"""
