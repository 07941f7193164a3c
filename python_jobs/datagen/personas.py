"""Customer personas planted in the synthetic data.

Each customer belongs to exactly one persona. A persona fixes when a
customer is active (its order window), how many orders it places, on which
weekdays, how large its baskets are, which products it picks and how often
it returns goods. The personas are built to differ on several customer-level
features at once (recency, frequency, order value, items per order, weekend
share, return rate, tenure) while every quantity still varies randomly
within a persona.

The data also plant what misleads a clustering on per-order ratios: the
one-order customers shop on any weekday (so a weekend share computed from
one order is 0 or 1 at random), personas overlap in some features (the
lapsed regulars and the weekend gift shoppers place as many orders; new
customers spend per order what loyal ones do; wholesalers and loyal
customers reach the same totals) and returns are uneven (a personal
propensity per customer, see :func:`datagen.orders.returns`). What tells the
personas apart is recency, frequency, value and tenure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "COUNTRIES",
    "GUEST",
    "PERSONAS",
    "Customers",
    "OrderWindows",
    "PersonaSpec",
    "draw_customers",
    "order_windows",
]


@dataclass(frozen=True)
class PersonaSpec:
    """Shopping behaviour of one persona.

    Attributes
    ----------
    name : str
        Identifier written to the ground truth.
    share : float
        Share of customers with this persona.
    summary : str
        What distinguishes the persona, for documentation.
    weekend_weight : float
        Relative weight of a Saturday or Sunday against a weekday (1.0).
    lines_median, lines_sigma : float
        Lognormal number of product lines drawn per order.
    lines_max : int
        Cap on the product lines of one order.
    qty_median, qty_sigma : float
        Lognormal quantity per line, before rounding to pack sizes.
    pool : str
        Product pool, see :meth:`~datagen.catalogue.Catalogue.pool`.
    return_prob : float
        Probability that an order is followed by a return (cancellation).
    return_extra_lines : float
        Mean number of returned lines beyond the first (Poisson).
    cadence_days : float
        Median personal re-order cadence (days between orders); each
        customer's cadence is lognormal around it.
    orders_range : tuple of int
        Bounds on a customer's number of orders.
    """

    name: str
    share: float
    summary: str
    weekend_weight: float
    lines_median: float
    lines_sigma: float
    lines_max: int
    qty_median: float
    qty_sigma: float
    pool: str
    return_prob: float
    return_extra_lines: float
    cadence_days: float = 0.0
    orders_range: tuple[int, int] = (1, 1)


PERSONAS: tuple[PersonaSpec, ...] = (
    PersonaSpec(
        name="loyal_high_spender",
        share=0.10,
        summary=(
            "all year at a ~22-day cadence (~17 orders), last order in "
            "the final 10 days; ~9 lines x ~12 units (~480 per order)"
        ),
        weekend_weight=0.10,
        lines_median=9,
        lines_sigma=0.45,
        lines_max=60,
        qty_median=12,
        qty_sigma=0.6,
        pool="all",
        return_prob=0.03,
        return_extra_lines=3.0,
        cadence_days=22.0,
        orders_range=(6, 60),
    ),
    PersonaSpec(
        name="bulk_wholesaler",
        share=0.10,
        summary=(
            "~4 orders ~100 days apart, the last 7 to 18 weeks before "
            "the end, of ~9 cheap products (<= 1.25) in bulk (~180 units "
            "a line): ~950 per order, a total near the loyal customers'"
        ),
        weekend_weight=0.05,
        lines_median=9,
        lines_sigma=0.4,
        lines_max=30,
        qty_median=180,
        qty_sigma=0.5,
        pool="cheap",
        return_prob=0.03,
        return_extra_lines=2.0,
        cadence_days=100.0,
        orders_range=(2, 6),
    ),
    PersonaSpec(
        name="one_time_buyer",
        share=0.24,
        summary=(
            "a single small order (~4 lines x ~2 units, ~25) on any "
            "day of the week, never in the last 60 days"
        ),
        weekend_weight=1.0,
        lines_median=4,
        lines_sigma=0.5,
        lines_max=25,
        qty_median=2,
        qty_sigma=0.6,
        pool="all",
        return_prob=0.005,
        return_extra_lines=1.0,
        cadence_days=0.0,
        orders_range=(1, 1),
    ),
    PersonaSpec(
        name="lapsed_regular",
        share=0.18,
        summary=(
            "~8 orders ~10 days apart within the first 2-4 months, "
            "then nothing: last order 8+ months before the end"
        ),
        weekend_weight=0.10,
        lines_median=9,
        lines_sigma=0.5,
        lines_max=40,
        qty_median=8,
        qty_sigma=0.6,
        pool="all",
        return_prob=0.02,
        return_extra_lines=2.5,
        cadence_days=10.0,
        orders_range=(3, 30),
    ),
    PersonaSpec(
        name="new_recent",
        share=0.16,
        summary=(
            "first order in the last 6 weeks, 2-4 orders ~10 days "
            "apart; ~12 lines x ~6 units (~290 per order)"
        ),
        weekend_weight=0.15,
        lines_median=12,
        lines_sigma=0.45,
        lines_max=50,
        qty_median=6,
        qty_sigma=0.6,
        pool="all",
        return_prob=0.01,
        return_extra_lines=1.0,
        cadence_days=10.0,
        orders_range=(2, 4),
    ),
    PersonaSpec(
        name="weekend_gift_shopper",
        share=0.22,
        summary=(
            "~7 small orders ~45 days apart, ~85% on Saturday or "
            "Sunday; ~4 gift items (>= 2.50) x ~2 units (~50); most returns"
        ),
        weekend_weight=15.0,
        lines_median=4,
        lines_sigma=0.45,
        lines_max=15,
        qty_median=2,
        qty_sigma=0.5,
        pool="gift",
        return_prob=0.06,
        return_extra_lines=1.5,
        cadence_days=45.0,
        orders_range=(3, 20),
    ),
)

#: Behaviour of anonymous (guest) invoices, which carry no CustomerID.
GUEST = PersonaSpec(
    name="guest",
    share=0.0,
    summary="anonymous invoices without CustomerID",
    weekend_weight=0.30,
    lines_median=16,
    lines_sigma=1.0,
    lines_max=400,
    qty_median=2,
    qty_sigma=0.8,
    pool="all",
    return_prob=0.15,
    return_extra_lines=3.0,
)

#: Countries with their customer weights and postage price in pence; the
#: first is the home market. EIRE pays carriage (C2) instead of postage.
COUNTRIES: tuple[tuple[str, float, int], ...] = (
    ("United Kingdom", 88.0, 0),
    ("Germany", 2.2, 1800),
    ("France", 2.0, 1800),
    ("EIRE", 1.6, 0),
    ("Spain", 0.8, 2800),
    ("Netherlands", 0.7, 1500),
    ("Belgium", 0.7, 1500),
    ("Switzerland", 0.6, 4000),
    ("Portugal", 0.6, 2800),
    ("Norway", 0.5, 4000),
    ("Italy", 0.5, 2800),
    ("Finland", 0.4, 4000),
    ("Sweden", 0.4, 4000),
    ("Denmark", 0.5, 2800),
    ("Austria", 0.5, 2800),
)


@dataclass(frozen=True)
class Customers:
    """The registered customers.

    Attributes
    ----------
    ids : numpy.ndarray
        Integer customer ids (five digits up to ~85,000 customers).
    persona : numpy.ndarray
        Index into :data:`PERSONAS` of each customer.
    country : numpy.ndarray
        Index into :data:`COUNTRIES` of each customer.
    """

    ids: np.ndarray
    persona: np.ndarray
    country: np.ndarray


def persona_counts(n_customers: int) -> np.ndarray:
    """Split a number of customers over the personas by their shares.

    Parameters
    ----------
    n_customers : int
        Number of customers.

    Returns
    -------
    numpy.ndarray
        Customers per persona (largest remainder rounding, sums exactly).
    """
    shares = np.array([p.share for p in PERSONAS])
    exact = shares / shares.sum() * n_customers
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n_customers - counts.sum()]] += 1
    return counts


def draw_customers(rng: np.random.Generator, n_customers: int) -> Customers:
    """Draw customer ids, personas and countries.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    n_customers : int
        Number of customers, at least 1.

    Returns
    -------
    Customers
        Customers sorted by id.
    """
    if n_customers <= 30_000:
        low, high = 12_000, 12_000 + max(6_000, int(n_customers * 2.5))
    elif n_customers <= 85_000:
        low, high = 10_000, 100_000
    else:
        low, high = 100_000, 100_000 + 2 * n_customers
    ids = np.sort(rng.choice(high - low, size=n_customers, replace=False)) + low
    persona = np.repeat(
        np.arange(len(PERSONAS), dtype=np.int8), persona_counts(n_customers)
    )
    persona = persona[rng.permutation(n_customers)]
    weights = np.array([w for _, w, _ in COUNTRIES])
    country = rng.choice(len(COUNTRIES), size=n_customers, p=weights / weights.sum())
    return Customers(
        ids=ids.astype(np.int64), persona=persona, country=country.astype(np.int16)
    )


@dataclass(frozen=True)
class OrderWindows:
    """When the customers of one persona order.

    Attributes
    ----------
    first, last : numpy.ndarray
        First and last day index (inclusive) of each customer's window.
    n_orders : numpy.ndarray
        Number of orders of each customer.
    pin_ends : bool
        Whether the first and the last order sit at the window's ends (so
        the days between orders follow the customer's cadence).
    """

    first: np.ndarray
    last: np.ndarray
    n_orders: np.ndarray
    pin_ends: bool


def order_windows(
    rng: np.random.Generator, spec: PersonaSpec, n: int, n_days: int
) -> OrderWindows:
    """Draw the order windows and order counts of one persona.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    spec : PersonaSpec
        The persona.
    n : int
        Number of customers with this persona.
    n_days : int
        Number of calendar days in the period (start and end included).

    Returns
    -------
    OrderWindows
        Windows as day indices in ``[0, n_days - 1]``.
    """
    name = spec.name
    end = n_days - 1
    span = float(end)

    def days(low: float, high: float) -> np.ndarray:
        return rng.integers(int(low), max(int(low) + 1, int(high) + 1), size=n)

    # When each persona is active; the number of orders then follows from
    # the window and a personal re-order cadence.
    if name == "loyal_high_spender":
        first, last = days(0, 0.08 * span), end - days(0, 10)
    elif name == "bulk_wholesaler":
        first, last = days(0, 0.15 * span), end - days(0.13 * span, 0.35 * span)
    elif name == "one_time_buyer":
        first = np.zeros(n, dtype=np.int64)
        last = np.full(n, max(7, end - max(30, round(0.16 * span))))
    elif name == "lapsed_regular":
        first = days(0, 0.06 * span)
        last = first + days(0.13 * span, 0.27 * span)
    elif name == "new_recent":
        window = min(42, max(7, round(0.12 * span)))
        first = end - days(1, window)
        last = np.maximum(first, end - days(0, 7))
    elif name == "weekend_gift_shopper":
        first, last = days(0, 0.25 * span), end - days(0, 0.3 * span)
    else:
        raise ValueError(f"unknown persona {name!r}")
    low, high = spec.orders_range
    if high > 1:
        cadence = spec.cadence_days * rng.lognormal(0.0, 0.25, size=n)
        n_orders = np.clip(1 + np.rint((last - first) / cadence), low, high)
    else:
        n_orders = np.ones(n)
    pin = high > 1
    first = np.clip(first, 0, end)
    last = np.clip(np.maximum(last, first), 0, end)
    return OrderWindows(
        first=first.astype(np.int64),
        last=last.astype(np.int64),
        n_orders=n_orders.astype(np.int64),
        pin_ends=pin,
    )
