"""Demo Product Holdings: purchases drawn from the BG/NBD and Gamma-Gamma stories.

Per customer a purchase rate lambda ~ Gamma(r, alpha), a dropout probability p ~ Beta(a, b) after
each purchase, and a spend scale nu ~ Gamma(q, gamma) with spend per purchase ~ Gamma(p_spend, nu).
These are the processes the CLV models assume, with parameters near the CDNOW estimates (Fader,
Hardie and Lee 2005; Fader and Hardie 2013), so frequency, recency and T look like real data
(many one-time buyers) and a model fit has something to recover.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from valuemarts.demo import ih
from valuemarts.demo.ih import ACTIONS, DAY_MS, EPOCH, pega_time

HISTORY = timedelta(days=730)  # holdings cover two years up to the end of the IH window
DEFAULT_END = ih.DEFAULT_START + timedelta(days=ih.DEFAULT_DAYS)
DEFAULT_START = DEFAULT_END - HISTORY
DEFAULT_CUSTOMERS = 20_000

BGNBD_R, BGNBD_ALPHA_DAYS = 0.243, 4.414 * 7  # CDNOW, rate per week converted to per day
BGNBD_A, BGNBD_B = 0.793, 2.426
SPEND_P, SPEND_Q, SPEND_GAMMA = 6.25, 3.74, 15.44
MEAN_SPEND = SPEND_P * SPEND_GAMMA / (SPEND_Q - 1)  # E[spend], to turn spend into a price multiplier

CONTROL_SHARE = 0.10
CONTROL_RATE_FACTOR = 0.85  # the business holdout buys less than customers who get NBA actions
PURCHASE_CHANNELS = ("Web", "Mobile", "Branch", "CallCenter", None)
PURCHASE_CHANNEL_SHARE = np.array([0.35, 0.30, 0.20, 0.10, 0.05])

PRODUCTS = ACTIONS.filter(pl.col("Issue").is_in(["Sales", "Grow"]))
"""What customers can hold: the Sales and Grow actions, at their price levels."""
# monthly margin and contract months per product group; 0 months = one-off product
RECURRING = {"CreditCards": (4.99, 12), "Loans": (22.5, 36), "Mortgages": (85.0, 240),
             "Insurance": (7.5, 12), "Savings": (0.0, 0), "Investments": (12.0, 12)}


def generate_holdings(seed: int = 42, customers: int | None = None, start: date = DEFAULT_START,
                      end: date = DEFAULT_END, shift_date: date | None = None,
                      shift_factor: float = 1.0) -> pl.DataFrame:
    """Holdings bought in [start, end) by `customers` customers (CUST-000001...), sorted by time.

    After `shift_date`, repeat-purchase rates and spend are multiplied by `shift_factor`, a drift
    for detection tests to find (1.0: no change); rows before `shift_date` stay exactly the same.
    """
    n = DEFAULT_CUSTOMERS if customers is None else customers
    span = (end - start).days
    if n < 1 or span < 1 or shift_factor <= 0:
        raise ValueError("customers, the date range and shift_factor must be positive")
    # Independent streams, so that a shift changes nothing before shift_date.
    people, events, thinning, extra, spends, products, channels = (
        np.random.default_rng(s) for s in np.random.SeedSequence([seed, 1]).spawn(7))
    shift = float(span) if shift_date is None else float(min(max((shift_date - start).days, 0), span))

    control = people.random(n) < CONTROL_SHARE
    rate = people.gamma(BGNBD_R, 1 / BGNBD_ALPHA_DAYS, n) * np.where(control, CONTROL_RATE_FACTOR, 1.0)
    repeats_before_dropout = people.geometric(people.beta(BGNBD_A, BGNBD_B, n)) - 1
    scale = people.gamma(SPEND_Q, 1 / SPEND_GAMMA, n)
    first = people.random(n) * span

    # Repeat purchases of customers who never drop out: Poisson processes after the first purchase,
    # thinned (factor < 1) or topped up (factor > 1) after the shift.
    owner, day = _poisson_events(events, rate, first, np.full(n, float(span)))
    kept = (day < shift) | (thinning.random(len(day)) < shift_factor)
    owner_x, day_x = _poisson_events(extra, rate * max(shift_factor - 1, 0), np.maximum(first, shift),
                                     np.full(n, float(span)))
    owner, day = np.concatenate([owner[kept], owner_x]), np.concatenate([day[kept], day_x])
    order = np.lexsort((day, owner))
    owner, day = owner[order], day[order]
    count = np.bincount(owner, minlength=n)
    nth = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
    alive = nth < repeats_before_dropout[owner]  # BG/NBD: a dropout ends the customer's purchases

    customer = np.concatenate([np.arange(n), owner[alive]])
    days = np.concatenate([first, day[alive]])
    order = np.lexsort((customer, days))  # draw per-purchase values in time order: same prefix before the shift
    customer, days = customer[order], days[order]
    time_ms = (start - EPOCH).days * DAY_MS + (days * DAY_MS).astype(np.int64)
    spend = spends.gamma(SPEND_P, 1 / scale[customer]) / MEAN_SPEND * np.where(days < shift, 1.0, shift_factor)
    weight = (PRODUCTS["CTR"] * PRODUCTS["ConversionRate"]).to_numpy()
    product = products.choice(PRODUCTS.height, len(customer), p=weight / weight.sum())
    channel = channels.choice(len(PURCHASE_CHANNELS), len(customer), p=PURCHASE_CHANNEL_SHARE)
    monthly, months = zip(*(RECURRING[g] for g in PRODUCTS["Group"]))
    return pl.DataFrame({
        "pxHoldingID": "HLD-" + pl.int_range(1, len(customer) + 1, eager=True).cast(pl.String).str.zfill(8),
        "CustomerID": "CUST-" + pl.Series(customer + 1).cast(pl.String).str.zfill(6),
        "pyName": PRODUCTS["Name"].gather(product),
        "pyIssue": PRODUCTS["Issue"].gather(product),
        "pyGroup": PRODUCTS["Group"].gather(product),
        "pyChannel": pl.Series(PURCHASE_CHANNELS, dtype=pl.String).gather(channel),
        "pyPurchasedDate": pega_time(time_ms),
        "OneTimeCost": np.round(PRODUCTS["Price"].to_numpy()[product] * spend, 2),
        "RecurringCost": np.array(monthly)[product],
        "RecurringPeriod": np.array(months, dtype=np.int64)[product],
        "ControlGroup": pl.Series(("Test", "Control"), dtype=pl.String).gather(control[customer].astype(np.int64)),
    })


def _poisson_events(rng: np.random.Generator, rate: np.ndarray, begin: np.ndarray,
                    end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Owner and day of the events of one Poisson process per customer on [begin, end)."""
    count = rng.poisson(rate * (end - begin))
    owner = np.repeat(np.arange(len(rate)), count)
    return owner, begin[owner] + rng.random(len(owner)) * (end - begin)[owner]
