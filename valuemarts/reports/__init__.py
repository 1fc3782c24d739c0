"""Report queries: a metric's state re-aggregated to any grouping, scored in SQL."""
