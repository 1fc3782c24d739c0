"""The order a Spark build finishes in: the models the `spark` selector leaves out (dbt Python
models, which dbt-spark's session method can't run, and what is built from them), from dbt's
manifest.

The launcher builds the `spark` selection with dbt first; what that left out is then built in
steps: every SQL model and test that no pending Python model feeds in one dbt invocation, then
the Python models whose inputs are all built (valuemarts.spark.python_models), and again until
none is left. The selector (selectors.yml) stays the one place that says what dbt-spark builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Step:
    """One step of the rest of a build: either `dbt_names`, models and tests dbt builds in one
    invocation (`--select` by name), or `python_model`, the manifest node valuemarts runs."""

    dbt_names: tuple[str, ...] = ()
    python_model: dict[str, Any] | None = None


def left_out_steps(nodes: dict[str, dict[str, Any]], built: set[str]) -> list[Step]:
    """The steps that build every model of `nodes` not in `built`, and the tests on them, in
    dependency order.

    Parameters
    ----------
    nodes : dict
        manifest.json's `nodes`: unique id -> node (resource_type, language, depends_on, name).
    built : set of str
        Unique ids of the nodes the first dbt invocation built (its run results).

    Returns
    -------
    list of Step
        Alternating dbt and Python steps; empty when nothing was left out.

    Raises
    ------
    ValueError
        The nodes' dependencies form a cycle (dbt would have refused the project).

    Examples
    --------
    >>> nodes = {"model.p.a": {"name": "a", "resource_type": "model", "language": "python",
    ...                        "depends_on": {"nodes": ["model.p.s"]}},
    ...          "model.p.b": {"name": "b", "resource_type": "model", "language": "sql",
    ...                        "depends_on": {"nodes": ["model.p.a"]}},
    ...          "model.p.s": {"name": "s", "resource_type": "model", "language": "sql",
    ...                        "depends_on": {"nodes": []}}}
    >>> [step.dbt_names or step.python_model["name"] for step in left_out_steps(nodes, {"model.p.s"})]
    ['a', ('b',)]
    """
    models = {uid for uid, node in nodes.items() if node["resource_type"] == "model" and uid not in built}
    tests = {uid for uid, node in nodes.items()
             if node["resource_type"] == "test" and models.intersection(node["depends_on"]["nodes"])}
    pending = models | tests
    steps: list[Step] = []
    while pending:
        python = {uid for uid in pending if nodes[uid].get("language") == "python"}
        blocked = python | _downstream(python, pending, nodes)
        batch = sorted(nodes[uid]["name"] for uid in pending - blocked)
        if batch:
            steps.append(Step(dbt_names=tuple(batch)))
        pending &= blocked
        ready = sorted((uid for uid in python if not pending.intersection(nodes[uid]["depends_on"]["nodes"])),
                       key=lambda uid: nodes[uid]["name"])
        if not batch and not ready:
            raise ValueError(f"no buildable node among {sorted(pending)}: a dependency cycle")
        for uid in ready:
            steps.append(Step(python_model=nodes[uid]))
            pending.discard(uid)
    return steps


def _downstream(sources: set[str], among: set[str], nodes: dict[str, dict[str, Any]]) -> set[str]:
    """The nodes of `among` that depend, directly or not, on one of `sources`."""
    found: set[str] = set()
    frontier = set(sources)
    while frontier:
        frontier = {uid for uid in among - found if frontier.intersection(nodes[uid]["depends_on"]["nodes"])}
        found |= frontier
    return found
