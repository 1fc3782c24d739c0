"""The order a Spark build finishes in (valuemarts.spark.plan) and the dbt commands of its steps
(valuemarts.spark.launcher): no Spark needed, a manifest's nodes are enough."""

from __future__ import annotations

from valuemarts.spark.launcher import reselected
from valuemarts.spark.plan import left_out_steps


def node(name: str, depends_on: list[str] = (), language: str = "sql", kind: str = "model") -> dict:
    return {"name": name, "resource_type": kind, "language": language,
            "depends_on": {"nodes": [f"model.p.{d}" for d in depends_on]}}


def steps_of(nodes: dict, built: set[str]) -> list:
    return [step.dbt_names or step.python_model["name"] for step in left_out_steps(nodes, built)]


# summary (SQL, built by the `spark` selection) -> fits (Python) -> fits_mart (SQL) and values
# (Python, reads fits) -> customers (SQL); contracts (SQL, read by fits only, left out too).
NODES = {
    "model.p.summary": node("summary"),
    "model.p.contracts": node("contracts", ["summary"]),
    "model.p.fits": node("fits", ["summary", "contracts"], "python"),
    "model.p.fits_mart": node("fits_mart", ["fits"]),
    "model.p.values": node("values", ["fits", "summary"], "python"),
    "model.p.customers": node("customers", ["values", "summary"]),
    "test.p.unique_fits": node("unique_fits", ["fits"], kind="test"),
    "test.p.not_null_summary": node("not_null_summary", ["summary"], kind="test"),
}


def test_python_models_run_once_their_inputs_are_built_and_dbt_builds_the_rest_between():
    assert steps_of(NODES, {"model.p.summary"}) == [
        ("contracts",), "fits", ("fits_mart", "unique_fits"), "values", ("customers",)]


def test_a_python_model_that_reads_another_waits_for_it():
    nodes = {**NODES, "model.p.values": node("values", ["fits_mart"], "python")}
    assert steps_of(nodes, {"model.p.summary", "model.p.contracts"}) == [
        "fits", ("fits_mart", "unique_fits"), "values", ("customers",)]


def test_nothing_left_out_is_no_step():
    assert left_out_steps(NODES, set(NODES)) == []


def test_a_step_selects_its_nodes_instead_of_the_spark_selector():
    args = ["--no-use-colors", "build", "--selector", "spark", "--full-refresh", "--target", "spark"]
    assert reselected(args, ("a", "b")) == [
        "--no-use-colors", "build", "--select", "a", "b", "--full-refresh", "--target", "spark"]
