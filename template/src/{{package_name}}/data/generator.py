"""A seeded synthetic card-transaction data set with a learnable fraud signal.

Fraud is more likely for amounts far above the customer's usual spend, abroad, at night and in
risky merchant categories. `Drift` shifts chosen inputs to simulate a changing world.

Customers carry an age band and a home region, the attributes a fairness review groups by.
`DataConfig.bias` (0 by default: no group is treated differently) makes the data unfair to the
customers of `BIASED_GROUP`: their fraud stops following the pattern the model learns from
everyone else (so the model misses it: recall falls) and their ordinary spending turns erratic
(so the model flags it: false alarms rise). Tests use it to prove the fairness gate bites.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import DataConfig
from . import schema as s

CATEGORIES = {  # merchant category: share of transactions
    "grocery": 0.25,
    "retail": 0.18,
    "restaurants": 0.15,
    "online": 0.13,
    "fuel": 0.12,
    "electronics": 0.07,
    "travel": 0.05,
    "entertainment": 0.05,
}
RISKY_CATEGORIES = ("electronics", "travel", "online")
HOME_COUNTRIES = ["US", "GB", "DE", "FR", "NL", "ES", "IT", "CA"]
ABROAD_COUNTRIES = [*HOME_COUNTRIES, "BR", "MX", "NG", "TR", "TH", "AE", "CN", "ZA"]
SEGMENTS = {"standard": 0.7, "premium": 0.2, "business": 0.1}
AGE_BANDS = {"18-29": 0.25, "30-44": 0.3, "45-64": 0.3, "65+": 0.15}
REGIONS = {"north": 0.3, "south": 0.3, "east": 0.2, "west": 0.2}
BIASED_GROUP = (s.AGE_BAND, "18-29")  # the customers `DataConfig.bias` treats unfairly
# separate random streams (batch numbers never reach them): the attributes and the bias leave
# every other generated value as it was
ATTRIBUTE_STREAM, BIAS_STREAM = 2**31 - 1, 2**31 - 2
# share of transactions per hour of day: quiet nights, busy afternoons
HOUR_WEIGHTS = np.array(
    [1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 9, 10, 9, 8, 8, 8, 9, 9, 8, 6, 4, 3, 2], float
)


@dataclass(frozen=True)
class Drift:
    """Shifts applied to generated transactions (the defaults change nothing)."""

    amount_scale: float = 1.0  # every amount is multiplied by this
    foreign_rate: float = 0.06  # share of transactions made abroad
    night_rate: float | None = None  # share of transactions between 00:00 and 05:59
    category_weights: dict[str, float] | None = None  # merchant category mix
    fraud_rate: float | None = None  # label drift: another share of fraud
    concept_shift: bool = False  # fraud no longer follows the learned pattern


@dataclass(frozen=True)
class RawData:
    customers: pd.DataFrame
    transactions: pd.DataFrame
    labels: pd.DataFrame


def generate(
    config: DataConfig,
    drift: Drift | None = None,
    *,
    batch: int = 0,
    n_transactions: int | None = None,
    days: int | None = None,
    end_date: str | None = None,
) -> RawData:
    """Customers, then transactions over `days` days ending before `end_date`, and fraud labels.

    Customers depend on `config.seed` only, so every batch belongs to the same customers;
    `batch` > 0 draws other transactions (ids prefixed `B<batch>-`) from a derived seed.
    """
    drift = drift or Drift()
    customers, typical_log_amount, activity = _customers(
        np.random.default_rng(config.seed), config.n_customers
    )
    customers = _with_attributes(customers, np.random.default_rng([config.seed, ATTRIBUTE_STREAM]))
    rng = np.random.default_rng([config.seed, batch])
    n = n_transactions or config.n_transactions
    days = days or config.days
    end = pd.Timestamp(end_date or config.end_date, tz="UTC")
    who = rng.choice(config.n_customers, size=n, p=activity / activity.sum())
    day_offset = rng.integers(0, days, size=n)
    hours = _hours(rng, n, drift.night_rate)
    seconds = rng.integers(0, 3600, size=n)
    event_ts = (
        end
        - pd.to_timedelta(day_offset + 1, unit="D")
        + pd.to_timedelta(hours, unit="h")
        + pd.to_timedelta(seconds, unit="s")
    )
    log_amount = typical_log_amount[who] + rng.normal(0.0, 0.6, size=n)
    amount = np.round(np.exp(log_amount) * drift.amount_scale, 2)
    mix = drift.category_weights or CATEGORIES
    categories = rng.choice(list(mix), size=n, p=np.array(list(mix.values())) / sum(mix.values()))
    home = customers[s.HOME_COUNTRY].to_numpy()[who]
    abroad = rng.random(n) < drift.foreign_rate
    country = np.where(abroad, _other_country(rng, home), home)

    # The fraud signal: abroad, at night and risky merchants raise the odds; fraudsters spend
    # well above the customer's usual amount, which the customer aggregates can reveal.
    # A concept shift turns the pattern around: fraud moves to domestic, daytime payments.
    risky = np.isin(categories, RISKY_CATEGORIES)
    if drift.concept_shift:
        risk = 1.8 * ~abroad + 1.3 * (hours >= 6) + 1.0 * ~risky
    else:
        risk = 1.8 * abroad + 1.3 * (hours < 6) + 1.0 * risky
    rate = config.fraud_rate if drift.fraud_rate is None else drift.fraud_rate
    unfair = _unfairly_treated(
        customers, who, config.bias, np.random.default_rng([config.seed, batch, BIAS_STREAM])
    )
    # their fraud no longer follows the pattern: the risks of their payments are shuffled among
    # them (the same fraud rate, for everyone else the same labels)
    risk[unfair.hidden] = unfair.rng.permutation(risk[unfair.hidden])
    is_fraud = rng.random(n) < _sigmoid(_intercept_for_rate(risk, rate) + risk)
    if not drift.concept_shift:
        bumped = np.round(amount * np.exp(rng.normal(1.0, 0.4, size=n)), 2)
        amount = np.where(is_fraud & ~unfair.hidden, bumped, amount)
    amount = np.round(amount * unfair.amount_factor, 2)

    prefix = "T" if batch == 0 else f"B{batch}-"
    transactions = pd.DataFrame(
        {
            s.TRANSACTION_ID: [f"{prefix}{i:09d}" for i in range(n)],
            s.CUSTOMER_ID: customers[s.CUSTOMER_ID].to_numpy()[who],
            s.EVENT_TS: event_ts,
            s.AMOUNT: amount,
            s.MERCHANT_CATEGORY: categories,
            s.COUNTRY: country,
        }
    )
    labels = pd.DataFrame(
        {
            s.TRANSACTION_ID: transactions[s.TRANSACTION_ID],
            s.IS_FRAUD: is_fraud.astype("int32"),
            s.LABEL_TS: event_ts + pd.to_timedelta(rng.integers(1, 30, size=n), unit="D"),
        }
    )
    transactions = _break_some_rows(rng, transactions, config.bad_row_rate)
    order = transactions[s.EVENT_TS].argsort(kind="stable")
    return RawData(
        customers,
        transactions.iloc[order].reset_index(drop=True),
        labels.iloc[order].reset_index(drop=True),
    )


def _customers(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    customers = pd.DataFrame(
        {
            s.CUSTOMER_ID: [f"C{i:07d}" for i in range(n)],
            s.HOME_COUNTRY: rng.choice(HOME_COUNTRIES, size=n),
            s.SEGMENT: rng.choice(list(SEGMENTS), size=n, p=list(SEGMENTS.values())),
        }
    )
    typical_log_amount = rng.normal(3.4, 0.6, size=n)  # about 30 in the account's currency
    activity = rng.gamma(2.0, 1.0, size=n)
    return customers, typical_log_amount, activity


def _with_attributes(customers: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(customers)
    return customers.assign(
        **{
            s.AGE_BAND: rng.choice(list(AGE_BANDS), size=n, p=list(AGE_BANDS.values())),
            s.REGION: rng.choice(list(REGIONS), size=n, p=list(REGIONS.values())),
        }
    )


@dataclass(frozen=True)
class _Unfairness:
    hidden: np.ndarray  # payments whose fraud label ignores the learnable pattern
    amount_factor: np.ndarray  # multiplies each amount (1.0: unchanged)
    rng: np.random.Generator


def _unfairly_treated(
    customers: pd.DataFrame, who: np.ndarray, bias: float, rng: np.random.Generator
) -> _Unfairness:
    """Per payment: which ones of `BIASED_GROUP`'s customers `bias` (0 to 1) hides the fraud
    pattern of, and how erratic it makes their amounts (ordinary spending that looks unusual)."""
    column, group = BIASED_GROUP
    n = who.shape[0]
    if bias == 0:
        return _Unfairness(np.zeros(n, bool), np.ones(n), rng)
    in_group = customers[column].to_numpy()[who] == group
    hidden = in_group & (rng.random(n) < bias)
    erratic = np.exp(np.where(in_group, rng.normal(0.0, 1.2 * bias, size=n), 0.0))
    return _Unfairness(hidden, erratic, rng)


def _hours(rng: np.random.Generator, n: int, night_rate: float | None) -> np.ndarray:
    weights = HOUR_WEIGHTS.copy()
    if night_rate is not None:
        night, day = weights[:6].sum(), weights[6:].sum()
        weights[:6] *= night_rate / night
        weights[6:] *= (1 - night_rate) / day
    return rng.choice(24, size=n, p=weights / weights.sum())


def _other_country(rng: np.random.Generator, home: np.ndarray) -> np.ndarray:
    picks = rng.choice(ABROAD_COUNTRIES, size=home.shape[0])
    clash = picks == home
    picks[clash] = rng.choice(ABROAD_COUNTRIES[len(HOME_COUNTRIES) :], size=int(clash.sum()))
    return picks


def _intercept_for_rate(risk: np.ndarray, rate: float) -> float:
    """The logit intercept that makes the mean fraud probability equal `rate` (bisection)."""
    low, high = -20.0, 5.0
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if _sigmoid(mid + risk).mean() < rate else (low, mid)
    return (low + high) / 2


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _break_some_rows(rng: np.random.Generator, df: pd.DataFrame, rate: float) -> pd.DataFrame:
    """Real feeds carry broken rows: give the data contract something to catch."""
    broken = df.copy()
    rows = np.flatnonzero(rng.random(len(df)) < rate)
    kinds = rng.integers(0, 4, size=rows.size)
    broken[s.CUSTOMER_ID] = broken[s.CUSTOMER_ID].astype(object)
    broken.loc[rows[kinds == 0], s.AMOUNT] = -broken.loc[rows[kinds == 0], s.AMOUNT]
    broken.loc[rows[kinds == 1], s.AMOUNT] = np.nan
    broken.loc[rows[kinds == 2], s.MERCHANT_CATEGORY] = "unknown"
    broken.loc[rows[kinds == 3], s.CUSTOMER_ID] = None
    return broken
