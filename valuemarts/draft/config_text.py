"""The drafted config: TOML in the reference system's format, every choice commented.

Everything taken from the samples (labels, paths) is data: values are written as escaped TOML
strings and comments are kept to one line, so no sample content can add a key.
"""

from __future__ import annotations

import re
from pathlib import Path

from valuemarts.draft.profile import SideProfile

# Pega's standard outcomes (the reference template's lists, plus the other standard responses).
POSITIVE_ENGAGEMENT = ("Clicked", "Accepted")
EMAIL_POSITIVE = "Opened"           # email's engagement when nothing is clicked or accepted
NEGATIVE_ENGAGEMENT = ("Impression", "Pending", "Rejected", "NoResponse")
CONVERSION = "Conversion"
# Dimensions to slice by, in the template's order, where the sample has them.
DIMENSIONS = ("Channel", "Direction", "PlacementType", "PropensitySource", "Issue", "Group")
TIME_GRAIN = ("Day", "Month", "Year", "Quarter")
# What the metrics read, with the reference template's value for a column the sample lacks.
IH_DEFAULTS = {
    "ModelControlGroup": ("Test", "no Control arm in the data: engagement lift stays empty"),
    "FinalPropensity": (0.0, "the model-quality property FinalPropensity is constant"),
    "Priority": (1e-10, None),
    "Revenue": (0.0, "conversion revenue is 0"),
    "Value": (0.0, None),
    "Weight": (0.0, None),
    "OutcomeWeight": (0.0, None),
    "ConversionEventID": ("", "the rule in [ih.extensions] then takes the action Name"),
}
DESCRIBED = ("Propensity", "FinalPropensity", "Priority", "Weight", "OutcomeWeight")
_CONVERSION_EVENT_RULE = ('[pl.when(pl.col("ConversionEventID") != "").then(pl.col("ConversionEventID"))'
                          '.otherwise(pl.col("Name")).alias("ConversionEventID")]')
_PURCHASE_DATE_RULES = {
    "pega": "pl.col('PurchasedDate').str.strptime(pl.Datetime, \"%Y%m%dT%H%M%S%.3f %Z\").dt.date()",
    "%Y-%m-%d %H:%M:%S": "pl.col('PurchasedDate').str.strptime(pl.Datetime, \"%Y-%m-%d %H:%M:%S\").dt.date()",
    "%Y-%m-%d": "pl.col('PurchasedDate').str.strptime(pl.Date, \"%Y-%m-%d\")",
}


def config_text(sides: dict[str, SideProfile], samples: list[Path]) -> str:
    """The whole config for the profiled sides."""
    out = _Toml()
    out.comment(f"Drafted by `valuemarts init-config` from {', '.join(str(s) for s in samples)}.")
    out.comment("Every choice is explained beside it; review, then run `valuemarts build --config` on it.")
    out.table("copyright")
    out.key("name", "CDH Value Dashboard Application")
    out.key("version", "1.0")
    out.table("variants")
    out.key("name", "Drafted")
    out.key("description", "Drafted from a sample by valuemarts init-config")
    ih, holdings = sides.get("ih"), sides.get("holdings")
    if ih is not None:
        _ih(out, ih)
    if holdings is not None:
        _holdings(out, holdings)
    return out.text()


def _files(out: _Toml, section: str, profile: SideProfile, group_key: str) -> None:
    pattern, hive = profile.group_pattern
    out.table(section)
    out.key("file_type", profile.file_type, f"the samples are {profile.extension} files")
    out.key("file_pattern", f"**/*{profile.extension}")
    why = {"Day=([^/]+)": "one group per Day= folder", "(.*)": "one group per file"}.get(
        pattern, "one group per day, from Pega's export file names")
    out.key(group_key, pattern, why)
    out.key("hive_partitioning", hive)


def _ih(out: _Toml, ih: SideProfile) -> None:
    columns = ih.columns
    _files(out, "ih", ih, "ih_group_pattern")
    out.table("ih.extensions")
    out.key("filter", "")
    out.key("columns", _CONVERSION_EVENT_RULE, "a conversion without its own event id is counted for its action")
    defaults = {name: value for name, value in IH_DEFAULTS.items() if name not in columns}
    out.table("ih.extensions.default_values")
    out.comment("Columns the metrics read that the sample lacks:" if defaults else
                "The sample has every column the metrics read.")
    for name, (value, effect) in defaults.items():
        out.key(name, value, effect)

    labels = set(ih.outcomes)
    positives = [o for o in POSITIVE_ENGAGEMENT if o in labels] or ([EMAIL_POSITIVE] if EMAIL_POSITIVE in labels else [])
    negatives = [o for o in NEGATIVE_ENGAGEMENT if o in labels]
    placed = set(positives) | set(negatives) | ({CONVERSION} & labels)
    dims = [d for d in DIMENSIONS if d in columns]
    out.table("metrics")
    out.comment(f"Outcome labels found: {_counts(ih)}.")
    unplaced = sorted(labels - placed)
    if unplaced:
        out.comment(f"Labels not placed in any metric (add them to a positive or negative list if they count): "
                    f"{', '.join(unplaced)}.")
    out.key("global_filters", [d for d in ("Channel", "Year", "PlacementType", "Issue", "PropensitySource")
                               if d == "Year" or d in columns])
    group_by = [*TIME_GRAIN, *dims]
    metrics = []
    if positives and negatives:
        metrics.append("engagement")
        _labelled_metric(out, "engagement", group_by, ["CTR", "Lift", "Lift_Z_Score", "Lift_P_Val", "Positives",
                                                       "Negatives", "Count"], positives, negatives)
        if "Propensity" in columns:
            metrics.append("model_ml_scores")
            _labelled_metric(out, "model_ml_scores", group_by, ["roc_auc", "average_precision", "personalization",
                                                                "novelty"], positives, negatives,
                             extra={"use_t_digest": "true"})
        if ih.experiments and {"ExperimentName", "ExperimentGroup"} <= columns.keys():
            metrics.append("experiment")
            _labelled_metric(out, "experiment", ["Year", *dims], ["z_score", "z_p_val", "g_stat", "g_p_val",
                                                                 "chi2_stat", "chi2_p_val"], positives, negatives,
                             extra={"experiment_name": "ExperimentName", "experiment_group": "ExperimentGroup",
                                    "randomization_unit": "SubjectID"},
                             note="arms are assumed assigned per customer (SubjectID) in equal shares; set "
                                  "expected_split = { Arm = share, ... } if not")
    else:
        out.comment("No engagement, model-quality or experiment metric: the sample has no "
                    + ("negative" if positives else "positive") + " outcome among the standard ones.")
    if CONVERSION in labels and (negatives or positives):
        metrics.append("conversion")
        _labelled_metric(out, "conversion", group_by, ["ConversionRate", "Revenue"], [CONVERSION],
                         ["Impression"] if "Impression" in labels else negatives or positives)
    described = ["Outcome", *[c for c in DESCRIBED if c in columns]]
    if "DecisionTime" in columns:
        described.insert(2 if "Propensity" in columns else 1, "ResponseTime")
    metrics.append("descriptive")
    out.table("metrics.descriptive")
    out.key("group_by", [*group_by, "Outcome"])
    out.key("use_t_digest", "true")
    out.key("columns", described, "the numeric columns the sample has, and Outcome")
    out.key("scores", ["Count", "Sum", "Mean", "Median", "p25", "p75", "p90", "p95", "Std", "Var", "Min", "Max"])
    _ih_reports(out, metrics, dims, described)


def _labelled_metric(out: _Toml, name: str, group_by: list[str], scores: list[str], positives: list[str],
                     negatives: list[str], extra: dict | None = None, note: str | None = None) -> None:
    out.table(f"metrics.{name}")
    out.key("group_by", group_by)
    out.key("filter", "")
    out.key("scores", scores)
    out.key("positive_model_response", positives)
    out.key("negative_model_response", negatives)
    for key, value in (extra or {}).items():
        out.key(key, value)
    if note:
        out.comment(note)


def _ih_reports(out: _Toml, metrics: list[str], dims: list[str], described: list[str]) -> None:
    color = dims[0] if dims else None
    by_day = ["Day", *([color] if color else [])]
    reports = {
        "engagement": ("daily_ctr", {"type": "line", "description": "Daily click-through rate", "group_by": by_day,
                                     "x": "Day", "y": "CTR", **({"color": color} if color else {})}),
        "conversion": ("daily_conversion", {"type": "line", "description": "Daily conversion rate",
                                            "group_by": by_day, "x": "Day", "y": "ConversionRate",
                                            **({"color": color} if color else {})}),
        "model_ml_scores": ("daily_roc_auc", {"type": "line", "description": "Daily model ROC AUC",
                                              "group_by": by_day, "x": "Day", "y": "roc_auc",
                                              **({"color": color} if color else {})}),
        "experiment": ("experiment_z_score", {"type": "line", "description": "Experiment z-test",
                                              "group_by": ["ExperimentName"], "x": "z_score", "y": "ExperimentName"}),
        "descriptive": ("describe_outcomes", {"type": "heatmap", "description": "Outcomes by month",
                                              "group_by": ["Month", "Outcome"], "x": "Month", "y": "Outcome",
                                              "property": "Outcome", "score": "Count"}),
    }
    for metric in metrics:
        name, settings = reports[metric]
        out.table(f"reports.{name}")
        out.key("metric", metric)
        for key, value in settings.items():
            out.key(key, value)
    if "engagement" in metrics:
        out.table("reports.generic_engagement")
        out.key("metric", "engagement")
        out.key("type", "generic")
        out.key("description", "Engagement by any dimension")
        out.key("group_by", [])


def _holdings(out: _Toml, holdings: SideProfile) -> None:
    columns = holdings.columns
    _files(out, "holdings", holdings, "file_group_pattern")
    rule = _PURCHASE_DATE_RULES.get(holdings.purchase_date_format or "")
    out.table("holdings.extensions")
    out.key("filter", "")
    customer = "CustomerID" if "CustomerID" in columns else "SubjectID" if "SubjectID" in columns else None
    missing = [c for c, present in (("a customer id (CustomerID or SubjectID)", customer), ("HoldingID", "HoldingID" in columns),
                                    ("OneTimeCost", "OneTimeCost" in columns), ("a PurchasedDate it can parse", rule))
               if not present]
    if missing:
        out.key("columns", [])
        out.comment(f"No CLV metric: the holdings sample lacks {', '.join(missing)}.")
        return
    out.key("columns", [f"[{rule}.alias('PurchasedDateTime')]"],
            "PurchasedDate parsed" + (" from Pega's timestamp text" if holdings.purchase_date_format == "pega"
                                      else f" as {holdings.purchase_date_format}"))
    out.table("metrics.clv")
    out.key("filter", "")
    out.key("group_by", ["ControlGroup"] if "ControlGroup" in columns else [])
    out.key("scores", ["recency", "frequency", "monetary_value", "tenure", "lifetime_value"])
    out.key("order_id_col", "HoldingID")
    out.key("customer_id_col", customer)
    out.key("monetary_value_col", "OneTimeCost")
    out.key("purchase_date_col", "PurchasedDateTime")
    contractual = {"RecurringPeriod", "RecurringCost"} <= columns.keys()
    out.key("model", "non-contractual", "contractual (RecurringPeriod, RecurringCost) is the other choice"
            if contractual else "the sample has no RecurringPeriod/RecurringCost for a contractual model")
    if contractual:
        out.key("recurring_period", "RecurringPeriod")
        out.key("recurring_cost", "RecurringCost")
    out.key("lifespan", 9)
    out.key("rfm_segment_config", "retail_banking", "or telco, e-commerce")
    out.table("reports.clv_exposure")
    out.key("metric", "clv")
    out.key("type", "exposure")
    out.key("description", "Customer exposure")
    out.key("group_by", [])
    out.table("reports.clv_frequency_hist")
    out.key("metric", "clv")
    out.key("type", "histogram")
    out.key("description", "Purchase frequency")
    out.key("group_by", [])
    out.key("x", "frequency")


def _counts(profile: SideProfile) -> str:
    return ", ".join(f"{label} ({count})" for label, count in profile.outcomes.most_common()) or "none"


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class _Toml:
    """A TOML writer for the few value kinds a config holds, escaping every string."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    def comment(self, text: str) -> None:
        self.lines.append("# " + _one_line(text))

    def table(self, name: str) -> None:
        self.lines += ["", f"[{'.'.join(_key(part) for part in name.split('.'))}]"]

    def key(self, name: str, value: object, why: str | None = None) -> None:
        self.lines.append(f"{_key(name)} = {_value(value)}" + (f"  # {_one_line(why)}" if why else ""))


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else _string(name)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def _string(text: str) -> str:
    """A TOML basic string: quotes and backslashes escaped, control characters as \\uXXXX."""
    escaped = []
    for ch in text:
        if ch in '"\\':
            escaped.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            escaped.append(f"\\u{ord(ch):04X}")
        else:
            escaped.append(ch)
    return '"' + "".join(escaped) + '"'


def _one_line(text: str) -> str:
    """Comment text with line breaks and other control characters shown escaped."""
    return "".join(ch if ord(ch) >= 0x20 and ord(ch) != 0x7F else f"\\u{ord(ch):04X}" for ch in text)
