"""Demo Interaction History: a CDH-like decision process with signal the metric tests can measure.

Each decision shows a subject k actions, ranked by priority in the model Test arm and at random in
the Control arm (Pega's "random action" group), and records Pega's outcome rows for what was
pending, shown, clicked and converted. What the metrics must find is planted here on purpose:
propensities that rank clicks (AUC 0.6-0.8 per model), lift over random actions, experiment arms
with different CTRs, exact duplicate rows (some in the next day's file) and responses that land on
the next day.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import date, timedelta

import numpy as np
import polars as pl

EPOCH = date(1970, 1, 1)
DAY_MS = 86_400_000
DEFAULT_START = date(2024, 7, 1)
DEFAULT_DAYS = 90
FILE_DAY = "FileDay"
"""Column naming the day file a row is exported in; writers consume it and never write it."""

MODELS = ("Bayesian", "Gradient boosting")
MODEL_NOISE = np.array([1.6, 0.9])  # logit-scale error of each model's propensity estimate
MODEL_EVIDENCE = np.array([4_000.0, 20_000.0])  # Thompson-sampling evidence behind FinalPropensity
BAYES, GBM = 0, 1

# issue, group, model, base CTR, action value, conversion rate per click, revenue level, actions
_GROUPS = (
    ("Sales", "CreditCards", GBM, 0.0095, 1.4, 0.20, 150.0,
     ("RewardsCard", "CashbackCard", "TravelCard", "StudentCard", "PlatinumCard")),
    ("Sales", "Loans", BAYES, 0.0057, 2.0, 0.12, 900.0,
     ("PersonalLoan", "CarLoan", "DebtConsolidation", "HomeImprovementLoan")),
    ("Sales", "Mortgages", GBM, 0.0033, 3.0, 0.06, 2500.0, ("FirstHomeMortgage", "Remortgage", "BuyToLet")),
    ("Sales", "Insurance", BAYES, 0.0071, 1.2, 0.25, 240.0,
     ("TravelInsurance", "HomeInsurance", "LifeInsurance", "PetInsurance")),
    ("Grow", "Savings", GBM, 0.0086, 1.0, 0.30, 400.0, ("EasyAccessSaver", "FixedRateBond", "CashISA", "KidsSaver")),
    ("Grow", "Investments", BAYES, 0.0043, 1.8, 0.10, 1200.0, ("ManagedPortfolio", "PensionTopUp", "StocksAndShares")),
    ("Retention", "Loyalty", BAYES, 0.0133, 0.8, 0.35, 25.0,
     ("BonusPoints", "AnniversaryGift", "PartnerDiscount", "FeeWaiver")),
    ("Retention", "Pricing", GBM, 0.0105, 1.1, 0.30, 60.0, ("RateMatch", "LoyaltyRate", "FeeRefund")),
    ("Service", "Digital", GBM, 0.0152, 0.6, 0.50, 5.0,
     ("PaperlessBilling", "MobileAppSetup", "CardControls", "BiometricLogin")),
    ("Service", "Support", BAYES, 0.0119, 0.5, 0.40, 10.0,
     ("AddressUpdate", "FraudAlerts", "BudgetCoach", "BranchAppointment")),
)
_WITHIN_GROUP = np.array([1.35, 1.0, 0.8, 0.65, 0.5])  # CTR spread of a group's actions, best first


def _taxonomy() -> pl.DataFrame:
    rows = [
        {"Issue": issue, "Group": group, "Name": name, "Model": model, "CTR": ctr * _WITHIN_GROUP[i],
         "Value": value * (1.0 + 0.1 * i), "ConversionRate": conv, "Price": price * (1.0 + 0.15 * i)}
        for issue, group, model, ctr, value, conv, price, names in _GROUPS
        for i, name in enumerate(names)
    ]
    return pl.DataFrame(rows)


ACTIONS = _taxonomy()
"""One row per action: taxonomy plus the levels the simulation draws around (holdings reuse it)."""
_PER_ACTION = {c: ACTIONS[c].to_numpy() for c in ("Model", "CTR", "Value", "ConversionRate", "Price")}

CHANNELS = ("Web", "Mobile", "Email", "CallCenter")
CHANNEL_SHARE = np.array([0.40, 0.33, 0.17, 0.10])
PLACEMENTS = ("Hero", "Tile", "Banner", "Push", "Email", None)  # the call center has no placement
HERO, TILE, BANNER, PUSH, EMAIL, SCRIPT = range(6)
PLACEMENT_GIVEN_CHANNEL = np.array([
    [0.30, 0.45, 0.25, 0.00, 0.00, 0.00],
    [0.00, 0.50, 0.30, 0.20, 0.00, 0.00],
    [0.00, 0.00, 0.00, 0.00, 1.00, 0.00],
    [0.00, 0.00, 0.00, 0.00, 0.00, 1.00],
])
PLACEMENT_CTR = np.array([1.4, 1.0, 0.8, 1.2, 1.6, 4.0])
OUTBOUND = np.array([False, False, False, True, True, False])
K_GIVEN_PLACEMENT = np.array([  # P(k = 1..4 actions shown)
    [0.7, 0.3, 0.0, 0.0],
    [0.1, 0.2, 0.3, 0.4],
    [1.0, 0.0, 0.0, 0.0],
    [1.0, 0.0, 0.0, 0.0],
    [0.4, 0.4, 0.2, 0.0],
    [0.5, 0.3, 0.2, 0.0],
])
RANK_CTR = np.array([1.0, 0.75, 0.6, 0.5])  # position bias, unknown to the models
CANDIDATES = 8  # eligible actions arbitrated per decision

# Experiments by subject: PriorityWeights on Hero/Tile changes the propensity weight in priority,
# BannerColour on banners changes the click rate itself.
EXPERIMENT_ARMS = (None, "Control", "WeightA", "WeightB", "Control", "Orange")
EXPERIMENT_OF_ARM = (None, "PriorityWeights", "PriorityWeights", "PriorityWeights", "BannerColour", "BannerColour")
PROPENSITY_WEIGHT = np.array([1.0, 0.5, 1.2, 0.2, 1.0, 1.0])
ARM_CLICK_FACTOR = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.6])

CUSTOMER_TYPES = ("Retail", "Premier", "Business")
CUSTOMER_TYPE_SHARE = np.array([0.80, 0.15, 0.05])
OUTCOMES = ("Pending", "Impression", "Clicked", "Conversion")
PENDING, IMPRESSION, CLICKED, CONVERSION = range(4)

TRUE_PROPENSITY_SHAPE = 1.3  # Beta shape a of true click propensities: most far below 0.05
CONTROL_SHARE = 0.10
DELIVERED_SHARE = 0.97  # outbound offers that reach the customer
DUPLICATE_SHARE = 0.005
NEXT_DAY_DUPLICATE_SHARE = 0.4
ASSISTED_SHARE = 0.3  # conversions also credited to an earlier offer of the same action
ROWS_PER_DECISION = 2.2  # a slight over-estimate, so one simulation pass usually suffices
FIRST_INTERACTION = 6_800_000_000_000_000_000
DAY_INTERACTIONS = 10**15  # interaction-ID space of one day in day-by-day generation
MAX_DAY_ROWS = 2_000_000  # keeps a day's IDs (a cumsum of steps below 1e9) inside DAY_INTERACTIONS
SPILL_DAYS = 6  # late responses (clicks, conversions up to 5 days on) a day's decisions may add to later files


def generate_ih(rows: int, seed: int = 42, days: int = DEFAULT_DAYS, start: date = DEFAULT_START) -> pl.DataFrame:
    """`rows` raw IH rows (exactly) over `days` days from `start`, plus the FILE_DAY column.

    Deterministic for a seed. Rows are sorted by file day, then outcome time.
    """
    if rows < 100 or days < 1:
        raise ValueError("rows must be at least 100 and days positive")
    return _generate(seed, rows, _subjects(rows), days, start)


def _generate(seed: int | np.random.SeedSequence, rows: int, n_subjects: int, days: int, start: date,
              population: dict[str, np.ndarray] | None = None, horizon_days: int | None = None,
              first_interaction: int = FIRST_INTERACTION) -> pl.DataFrame:
    """`rows` rows of decisions made on `days` days from `start`, responses kept up to `horizon_days`.

    The body of `generate_ih`; day-by-day generation calls it once per day with its own seed, the
    customers' traits drawn once (`population`), a horizon past the day for late responses and
    the day's own block of interaction IDs.
    """
    n_dup = round(rows * DUPLICATE_SHARE)
    target = rows - n_dup
    n_decisions = math.ceil(target / ROWS_PER_DECISION) + 20
    while True:
        rng = np.random.default_rng(seed)
        sim = _simulate(rng, n_decisions, n_subjects, days, start, population, horizon_days, first_interaction)
        if len(sim["offer"]) >= target:
            break
        n_decisions = math.ceil(n_decisions * 1.3 * target / max(len(sim["offer"]), 1))
    kept = _trim(rng, sim, target)
    frame = _frame(rng, sim, kept)
    return _with_duplicates(rng, frame, rows - frame.height, start, horizon_days or days)


def daily_rows(rows: int, days: int) -> list[int]:
    """`rows` split over `days` as evenly as whole rows allow."""
    edges = [round(rows * d / days) for d in range(days + 1)]
    return [b - a for a, b in zip(edges, edges[1:])]


def generate_ih_day(day: int, rows: int, seed: int, n_subjects: int, population: dict[str, np.ndarray],
                    start: date, horizon_days: int) -> pl.DataFrame:
    """`rows` rows of the decisions made on day `day` (0-based) after `start`, plus FILE_DAY.

    Each day has its own random stream and block of interaction IDs, so a day can be generated
    alone (the next day of an append) and IDs stay unique across days; conversion-event IDs carry
    the day. Late responses and re-exported duplicates land in later files, up to `horizon_days`.
    """
    if not 0 < rows <= MAX_DAY_ROWS:
        raise ValueError(f"rows per day must be between 1 and {MAX_DAY_ROWS}; use more days")
    day_start = start + timedelta(days=day)
    frame = _generate(np.random.SeedSequence([seed, 3, day]), rows, n_subjects, 1, day_start, population,
                      horizon_days, FIRST_INTERACTION + day * DAY_INTERACTIONS)
    return frame.with_columns(pl.col("ConversionEventID").str.replace("CNV-", f"CNV-{day_start:%Y%m%d}-", literal=True))


def ih_day_chunks(rows: int, seed: int = 42, days: int = DEFAULT_DAYS,
                  start: date = DEFAULT_START) -> Iterator[pl.DataFrame]:
    """Day-by-day generation: per day, the rows of that day's decisions (`generate_ih_day`).

    Memory is bounded by one day, so tens of millions of rows can be written; the rows differ
    from `generate_ih`'s, which simulates the whole window at once. Late responses stay inside
    the window, so the days hold exactly `rows` rows.
    """
    if days < 1 or rows < 100 * days:
        raise ValueError("days must be positive, with at least 100 rows per day")
    n_subjects = _subjects(rows)
    population = subject_population(seed, n_subjects)
    for day, n in enumerate(daily_rows(rows, days)):
        yield generate_ih_day(day, n, seed, n_subjects, population, start, min(SPILL_DAYS, days - day))


def ih_by_day(chunks: Iterable[pl.DataFrame], start: date = DEFAULT_START) -> Iterator[tuple[date, pl.DataFrame]]:
    """Each file day's rows from `ih_day_chunks`, as soon as no later chunk can add to it.

    Rows a day's decisions left for later days are carried until their day comes; a day's rows
    are sorted by outcome time, earlier days' rows first among equal times, as a sort of all
    chunks concatenated would order them.
    """
    carried: pl.DataFrame | None = None
    for day, chunk in enumerate(chunks):
        today = start + timedelta(days=day)
        rows = chunk if carried is None else pl.concat([carried, chunk])
        yield today, rows.filter(pl.col(FILE_DAY) == today).sort("pxOutcomeTime", maintain_order=True)
        carried = rows.filter(pl.col(FILE_DAY) > today)


def generate_ih_next_day(rows: int, seed: int = 42, days: int = DEFAULT_DAYS,
                         start: date = DEFAULT_START) -> pl.DataFrame:
    """The day after the window of `ih_day_chunks(rows, seed, days, start)`: an average day of
    decisions by the same customers, their responses kept within that day. What an append adds."""
    n_subjects = _subjects(rows)
    return generate_ih_day(days, round(rows / days), seed, n_subjects, subject_population(seed, n_subjects), start, 1)


def _subjects(rows: int) -> int:
    """About 20 rows per customer over the period, within the 6-digit ID space."""
    return min(999_999, max(200, rows // 20))


def _draw(rng: np.random.Generator, probs: np.ndarray, row: np.ndarray) -> np.ndarray:
    """One categorical draw per element, from the probability row `probs[row]`."""
    cum = np.cumsum(probs, axis=1)[row]
    return (rng.random(len(row))[:, None] >= cum[:, :-1]).sum(axis=1)


def _lognormal_ms(rng: np.random.Generator, median_s: float, sigma: float, n: int) -> np.ndarray:
    return (rng.lognormal(math.log(median_s), sigma, n) * 1000).astype(np.int64)


def subject_population(seed: int, n_subjects: int) -> dict[str, np.ndarray]:
    """Each customer's activity, experiment arms and type, drawn once for day-by-day generation.

    `generate_ih` draws these inside its one simulation; generating day by day draws them here,
    so that a customer keeps their arms and type from one day's file to the next.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
    return {"activity": rng.gamma(0.8, size=n_subjects), "arm_pw": 1 + rng.integers(0, 3, n_subjects),
            "arm_bc": 4 + rng.integers(0, 2, n_subjects),
            "customer_type": rng.choice(len(CUSTOMER_TYPES), n_subjects, p=CUSTOMER_TYPE_SHARE)}


def _decisions(rng: np.random.Generator, n: int, n_subjects: int, days: int, start: date,
               population: dict[str, np.ndarray] | None = None,
               first_interaction: int = FIRST_INTERACTION) -> dict[str, np.ndarray]:
    """Who was decided for, where, when, how many actions, and in which arms.

    Customer traits come from `population` when given, else are drawn here (in `generate_ih`'s order).
    """
    activity = rng.gamma(0.8, size=n_subjects) if population is None else population["activity"]
    subject = rng.choice(n_subjects, n, p=activity / activity.sum())
    channel = rng.choice(len(CHANNELS), n, p=CHANNEL_SHARE)
    placement = _draw(rng, PLACEMENT_GIVEN_CHANNEL, channel)
    k = _draw(rng, K_GIVEN_PLACEMENT, placement) + 1

    weekday = (np.arange(days) + start.weekday()) % 7
    day_weight = np.where(weekday >= 5, 0.75, 1.0) * (1.0 + 0.1 * np.arange(days) / days)
    day = rng.choice(days, n, p=day_weight / day_weight.sum())
    evening = rng.random(n) < 0.4
    inbound_h = np.where(evening, rng.normal(20.0, 2.0, n), rng.normal(13.0, 3.0, n)) % 24.0
    hour = np.select([placement == EMAIL, placement == PUSH], [6.0 + 1.5 * rng.random(n), 10.0 + rng.random(n)],
                     inbound_h)
    time_ms = ((start - EPOCH).days + day) * DAY_MS + (hour * 3_600_000).astype(np.int64)

    # PriorityWeights and BannerColour arms of every subject
    arm_pw = 1 + rng.integers(0, 3, n_subjects) if population is None else population["arm_pw"]
    arm_bc = 4 + rng.integers(0, 2, n_subjects) if population is None else population["arm_bc"]
    pw = ((channel == 0) | (channel == 1)) & ((placement == HERO) | (placement == TILE))
    arm = np.select([pw, placement == BANNER], [arm_pw[subject], arm_bc[subject]], 0)

    order = np.argsort(time_ms, kind="stable")  # interaction IDs grow with time, as Pega's do
    interaction = np.empty(n, np.int64)
    interaction[order] = first_interaction + np.cumsum(rng.integers(1, 1_000_000_000, n))
    return {
        "subject": subject, "channel": channel, "placement": placement, "k": k, "time_ms": time_ms,
        "arm": arm, "control": rng.random(n) < CONTROL_SHARE, "interaction": interaction,
        "customer_type": (rng.choice(len(CUSTOMER_TYPES), n_subjects, p=CUSTOMER_TYPE_SHARE)
                          if population is None else population["customer_type"])[subject],
    }


def _offers(rng: np.random.Generator, dec: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Arbitrate CANDIDATES random eligible actions per decision and keep the top k.

    Test ranks by priority = FinalPropensity^w * Value; Control ranks at random. A model's
    propensity is the true click propensity seen through logit noise, so it ranks clicks well
    but not perfectly.
    """
    n = len(dec["k"])
    cand = np.concatenate([  # CANDIDATES distinct actions per decision, in chunks to bound memory
        np.argpartition(rng.random((m, len(ACTIONS)), dtype=np.float32), CANDIDATES, axis=1)[:, :CANDIDATES]
        for m in np.diff(np.r_[0:n:262_144, n])
    ]).astype(np.int16)
    mu = np.minimum(_PER_ACTION["CTR"][cand] * PLACEMENT_CTR[dec["placement"]][:, None], 0.4)
    true_p = rng.beta(TRUE_PROPENSITY_SHAPE, TRUE_PROPENSITY_SHAPE * (1 - mu) / mu)
    model = _PER_ACTION["Model"][cand]
    logit = np.log(true_p / (1 - true_p)) + MODEL_NOISE[model] * rng.standard_normal(cand.shape)
    propensity = 1 / (1 + np.exp(-logit))
    evidence = MODEL_EVIDENCE[model]
    final = rng.beta(propensity * evidence + 1, (1 - propensity) * evidence + 1)
    priority = final ** PROPENSITY_WEIGHT[dec["arm"]][:, None] * _PER_ACTION["Value"][cand]

    ranked = np.where(dec["control"][:, None], np.argsort(rng.random(cand.shape), axis=1),
                      np.argsort(-priority, axis=1))
    decision, slot = np.nonzero(np.arange(CANDIDATES)[None, :] < dec["k"][:, None])
    pick = ranked[decision, slot]
    return {
        "decision": decision, "rank": slot + 1, "action": cand[decision, pick], "mu": mu[decision, pick],
        "true_p": true_p[decision, pick], "propensity": propensity[decision, pick],
        "final": final[decision, pick], "priority": priority[decision, pick],
    }


def _simulate(rng: np.random.Generator, n_decisions: int, n_subjects: int, days: int, start: date,
              population: dict[str, np.ndarray] | None = None, horizon_days: int | None = None,
              first_interaction: int = FIRST_INTERACTION) -> dict[str, np.ndarray]:
    """Decisions on `days` days, their offers, and one entry per outcome row inside the export
    window, which ends `horizon_days` (default `days`) after `start`."""
    dec = _decisions(rng, n_decisions, n_subjects, days, start, population, first_interaction)
    off = _offers(rng, dec)
    n = len(off["rank"])
    d = off["decision"]
    placement = dec["placement"][d]
    outbound = OUTBOUND[placement]
    base = np.where(dec["control"][d], off["mu"], off["true_p"])  # Control: propensity says nothing
    p_click = np.minimum(base * RANK_CTR[off["rank"] - 1] * ARM_CLICK_FACTOR[dec["arm"][d]], 0.95)
    delivered = ~outbound | (rng.random(n) < DELIVERED_SHARE)
    clicked = delivered & (rng.random(n) < p_click)
    converted = clicked & (rng.random(n) < _PER_ACTION["ConversionRate"][off["action"]])

    t_dec = dec["time_ms"][d]
    t_pending = t_dec + rng.integers(5, 200, n)
    t_shown = t_dec + np.where(outbound, _lognormal_ms(rng, 900, 0.8, n), rng.integers(20, 900, n))
    click_delay = np.select([placement == EMAIL, placement == PUSH],
                            [_lognormal_ms(rng, 10_800, 1.0, n), _lognormal_ms(rng, 480, 1.0, n)],
                            _lognormal_ms(rng, 40, 1.2, n))
    t_click = t_shown + click_delay
    t_conv = t_click + np.minimum(_lognormal_ms(rng, 5_400, 1.5, n), 5 * DAY_MS)
    price = _PER_ACTION["Price"][off["action"]]
    revenue = np.round(price * rng.lognormal(-0.1, 0.45, n), 2)

    shown, click, conv = np.flatnonzero(delivered), np.flatnonzero(clicked), np.flatnonzero(converted)
    pending = np.flatnonzero(outbound)
    assisted, assisted_event = _assisting_offers(rng, dec, off, shown, conv)
    nothing = np.full(len(pending) + len(shown) + len(click), np.nan)
    sim = {
        "offer": np.concatenate([pending, shown, click, conv, assisted]),
        "outcome": np.repeat(np.array([PENDING, IMPRESSION, CLICKED, CONVERSION, CONVERSION], np.int8),
                             [len(pending), len(shown), len(click), len(conv), len(assisted)]),
        "time_ms": np.concatenate([t_pending[pending], t_shown[shown], t_click[click], t_conv[conv],
                                   t_conv[conv][assisted_event]]),
        # revenue goes to the last touch; assisting touches record 0
        "revenue": np.concatenate([nothing, revenue[conv], np.zeros(len(assisted))]),
        "event": np.concatenate([np.full(len(nothing), -1), np.arange(len(conv)), assisted_event]),
    }
    inside = sim["time_ms"] < ((start - EPOCH).days + (horizon_days or days)) * DAY_MS
    return {key: v[inside] for key, v in sim.items()} | {"dec": dec, "off": off}


def _assisting_offers(rng: np.random.Generator, dec: dict[str, np.ndarray], off: dict[str, np.ndarray],
                      shown: np.ndarray, conv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For some conversions, the latest earlier offer of the same action to the same subject.

    Pega credits a conversion event to every interaction that touched it, so these offers get a
    Conversion row with the same ConversionEventID: the touchpoints of the conversion metric.
    """
    d = off["decision"]
    key = {"subject": dec["subject"][d], "action": off["action"], "t": dec["time_ms"][d]}
    left = pl.DataFrame({c: v[conv] for c, v in key.items()} | {"event": np.arange(len(conv))}).sort("t", "event")
    right = pl.DataFrame({c: v[shown] for c, v in key.items()} | {"touch": shown}).sort("t", "touch")
    joined = left.join_asof(right, on="t", by=["subject", "action"], strategy="backward",
                            allow_exact_matches=False, check_sortedness=False)
    joined = joined.filter(pl.Series(rng.random(joined.height) < ASSISTED_SHARE) & pl.col("touch").is_not_null())
    return joined["touch"].to_numpy(), joined["event"].to_numpy()


def _trim(rng: np.random.Generator, sim: dict, target: int) -> np.ndarray:
    """Indices of the rows of randomly chosen whole decisions, at most `target` rows in all."""
    row_dec = sim["off"]["decision"][sim["offer"]]
    n_dec = len(sim["dec"]["k"])
    order = rng.permutation(n_dec)
    total = np.cumsum(np.bincount(row_dec, minlength=n_dec)[order])
    keep = np.zeros(n_dec, bool)
    keep[order[total <= target]] = True
    return np.flatnonzero(keep[row_dec])


def _labels(values: tuple, index: np.ndarray) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(index)


def pega_time(ms: np.ndarray) -> pl.Series:
    """Epoch milliseconds as Pega writes timestamps: `20241010T145658.123 GMT`."""
    return pl.Series(ms).cast(pl.Datetime("ms")).dt.strftime("%Y%m%dT%H%M%S%.3f GMT")


def _frame(rng: np.random.Generator, sim: dict, kept: np.ndarray) -> pl.DataFrame:
    """The kept rows as raw Pega columns, sorted by outcome time."""
    kept = kept[np.lexsort((sim["outcome"][kept], sim["offer"][kept], sim["time_ms"][kept]))]
    dec, off = sim["dec"], sim["off"]
    o = sim["offer"][kept]
    d = off["decision"][o]
    action = off["action"][o]
    placement = dec["placement"][d]
    subject = dec["subject"][d]
    t_ms = sim["time_ms"][kept]
    model = _PER_ACTION["Model"][action]
    n = len(kept)
    return pl.DataFrame({
        "pxInteractionID": pl.Series(dec["interaction"][d]).cast(pl.String),
        "pySubjectID": "CUST-" + pl.Series(subject + 1).cast(pl.String).str.zfill(6),
        "pxFactID": pl.Series(-9_100_000_000_000_000_000 + np.cumsum(rng.integers(1, 1_000_000_000, n))).cast(pl.String),
        "pyApplication": pl.repeat("CDHBanking", n, eager=True),
        "pxStreamPartition": subject % 16,
        "pyName": ACTIONS["Name"].gather(action),
        "pyIssue": ACTIONS["Issue"].gather(action),
        "pyGroup": ACTIONS["Group"].gather(action),
        "pyTreatment": ACTIONS["Name"].gather(action) + "_" + _labels(PLACEMENTS[:-1] + ("Script",), placement),
        "pyChannel": _labels(CHANNELS, dec["channel"][d]),
        "pyDirection": _labels(("Inbound", "Outbound"), OUTBOUND[placement].astype(np.int64)),
        "PlacementType": _labels(PLACEMENTS, placement),
        "pyOutcome": _labels(OUTCOMES, sim["outcome"][kept]),
        "pxOutcomeTime": pega_time(t_ms),
        "pxDecisionTime": pega_time(dec["time_ms"][d]),
        "pyPropensity": off["propensity"][o],
        "FinalPropensity": off["final"][o],
        "pxPriority": off["priority"][o],
        "pxRank": off["rank"][o].astype(np.int64),
        "ModelControlGroup": _labels(("Test", "Control"), dec["control"][d].astype(np.int64)),
        "pyModelCategory": _labels(MODELS, model),
        "PropensitySource": _labels(MODELS, model),
        "ExperimentName": _labels(EXPERIMENT_OF_ARM, dec["arm"][d]),
        "ExperimentGroup": _labels(EXPERIMENT_ARMS, dec["arm"][d]),
        "Revenue": pl.Series(sim["revenue"][kept], nan_to_null=True),
        "ConversionEventID": _event_ids(sim["event"][kept], t_ms),
        "CustomerType": _labels(CUSTOMER_TYPES, dec["customer_type"][d]),
        FILE_DAY: pl.Series(t_ms // DAY_MS).cast(pl.Int32).cast(pl.Date),
    })


def _event_ids(event: np.ndarray, t_ms: np.ndarray) -> pl.Series:
    """`CNV-00000001`... numbered by conversion time over the kept rows; null off Conversion rows."""
    has = event >= 0
    ids, inverse = np.unique(event[has], return_inverse=True)
    first = np.full(len(ids), np.iinfo(np.int64).max)
    np.minimum.at(first, inverse, t_ms[has])
    number = np.empty(len(ids), np.int64)
    number[np.lexsort((ids, first))] = np.arange(1, len(ids) + 1)
    labels = np.full(len(event), np.nan)
    labels[has] = number[inverse]
    return "CNV-" + pl.Series(labels, nan_to_null=True).cast(pl.Int64).cast(pl.String).str.zfill(8)


def _with_duplicates(rng: np.random.Generator, frame: pl.DataFrame, n_dup: int, start: date, days: int) -> pl.DataFrame:
    """Append `n_dup` exact copies of random rows; some go to the next day's file (re-exports)."""
    pick = np.sort(rng.choice(frame.height, n_dup, replace=False))
    last_day = pl.lit(start + timedelta(days=days - 1))
    copies = frame[pick].with_columns(
        pl.when(pl.Series(rng.random(n_dup) < NEXT_DAY_DUPLICATE_SHARE) & (pl.col(FILE_DAY) < last_day))
        .then(pl.col(FILE_DAY) + pl.duration(days=1)).otherwise(pl.col(FILE_DAY)).alias(FILE_DAY)
    )
    order = pl.concat([pl.int_range(frame.height, eager=True), pl.Series(pick)])
    both = pl.concat([frame, copies]).with_columns(_order=order)
    return both.sort(FILE_DAY, "pxOutcomeTime", "_order", maintain_order=True).drop("_order")
