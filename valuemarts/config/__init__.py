"""The TOML config: validation, expression translation and compilation into dbt vars."""
