"""What staging knows about Pega columns: renamed names, the types staging promises, and
which columns every IH export must carry. Unknown columns pass through with their read type."""

from __future__ import annotations

import re

# Technical IH columns the reference system drops before anything else (docs/metrics.md#staging-rules).
DROP_IH_COLUMNS: tuple[str, ...] = (
    "pxFactID", "pyLabel", "pxUpdateDateTime", "pxStreamPartition", "EvaluationCriteria",
    "pyOrganization", "pyUnit", "pyDivision", "pyComponent", "pyApplicationVersion", "pyStrategy",
    "pyApplication", "pyFulfilled", "IPAddress", "pyInteraction", "pyLatitude", "pyLongitude",
    "pyOperator", "pyPartitionKey", "pyWorkID", "WorkID", "pyBehaviour", "pyIsPropositionActive",
    "pyISFactID", "pyInternalTags", "pxStreamPosition", "ReferrerUrl",
)

# Fields staging derives; a raw column of the same name (e.g. a hive partition `Day`) is dropped.
IH_DERIVED_COLUMNS: tuple[str, ...] = ("ActionID", "Day", "Month", "Year", "Quarter", "ResponseTime")

# Types of the fields staging derives.
IH_DERIVED_TYPES: dict[str, str] = {
    "ActionID": "VARCHAR", "Day": "DATE", "Month": "VARCHAR", "Year": "SMALLINT", "Quarter": "VARCHAR",
    "ResponseTime": "DOUBLE",
}

IH_COLUMN_TYPES: dict[str, str] = {
    **{name: "VARCHAR" for name in (
        "InteractionID", "SubjectID", "Name", "Issue", "Group", "Channel", "Direction",
        "PlacementType", "Outcome", "ModelControlGroup", "ModelCategory", "PropensitySource",
        "ExperimentName", "ExperimentGroup", "ConversionEventID", "Treatment",
    )},
    "Rank": "BIGINT",
    **{name: "DOUBLE" for name in (
        "Propensity", "FinalPropensity", "Priority", "Revenue", "Value", "Weight", "OutcomeWeight",
    )},
    "OutcomeTime": "TIMESTAMPTZ",
    "DecisionTime": "TIMESTAMPTZ",
}

# Without these no IH metric can be computed; everything else may be absent (it stages as NULL).
IH_REQUIRED_COLUMNS: tuple[str, ...] = ("InteractionID", "SubjectID", "Name", "Outcome", "OutcomeTime")

HOLDINGS_COLUMN_TYPES: dict[str, str] = {
    **{name: "VARCHAR" for name in (
        "CustomerID", "SubjectID", "HoldingID", "ControlGroup", "Channel", "Name", "Issue", "Group",
        # a Pega timestamp string; the config's derived columns parse it (PurchasedDateTime)
        "PurchasedDate",
    )},
    **{name: "DOUBLE" for name in ("OneTimeCost", "RecurringCost", "RecurringPeriod")},
}

_PREFIX = re.compile(r"^p[xyz]")


def group_column_type(name: str, source: str) -> str:
    """The type a grouping column has in state and marts: its staged type when staging knows it,
    else VARCHAR (grouping columns are categories), so mart contracts don't depend on the data."""
    if source == "ih":
        known = {**IH_COLUMN_TYPES, **IH_DERIVED_TYPES}
    else:
        known = dict(HOLDINGS_COLUMN_TYPES)
    data_type = known.get(name, "VARCHAR")
    return "VARCHAR" if data_type == "TIMESTAMPTZ" else data_type


def pega_column_name(raw: str, raw_names: set[str] | frozenset[str]) -> str:
    """The reference system's rename rule (docs/metrics.md#staging-rules).

    Strip a leading px/py/pz unless the stripped name is itself one of the original columns,
    then upper-case the first letter. Mirrors the `pega_column_name` dbt macro; a test keeps
    the two in step.
    """
    stripped = _PREFIX.sub("", raw)
    kept = raw if stripped != raw and stripped in raw_names else stripped
    return kept[:1].upper() + kept[1:]


def renamed_columns(raw_names: list[str]) -> dict[str, str]:
    """Raw name -> staged name for one set of columns (first raw name wins a collision)."""
    names = set(raw_names)
    out: dict[str, str] = {}
    taken: set[str] = set()
    for raw in raw_names:
        new = pega_column_name(raw, names)
        if new not in taken:
            out[raw] = new
            taken.add(new)
    return out
