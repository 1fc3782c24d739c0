"""valuemarts: SQL-first value metrics for Pega CDH Interaction History and Product Holdings."""

__version__ = "0.1.0"
