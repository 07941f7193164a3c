"""The trading calendar of the synthetic shop: open days, weekends, season."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

__all__ = ["Calendar", "build_calendar"]


@dataclass(frozen=True)
class Calendar:
    """Days of the period and which of them the shop trades on.

    Attributes
    ----------
    start : numpy.datetime64
        First day.
    n_days : int
        Number of calendar days (start and end included).
    is_open : numpy.ndarray
        Whether the shop trades that day (closed from 24 Dec to 3 Jan).
    is_weekend : numpy.ndarray
        Saturday or Sunday.
    season : numpy.ndarray
        Seasonal demand factor (a pre-Christmas peak in November).
    """

    start: np.datetime64
    n_days: int
    is_open: np.ndarray
    is_weekend: np.ndarray
    season: np.ndarray

    def cumulative(self, weekend_weight: float) -> np.ndarray:
        """Cumulative day weights for a given weekend preference.

        Parameters
        ----------
        weekend_weight : float
            Weight of a weekend day relative to a weekday.

        Returns
        -------
        numpy.ndarray
            ``n_days + 1`` values, ``c[i]`` the weight of days before ``i``.
        """
        weights = self.is_open * self.season
        weights = weights * np.where(self.is_weekend, weekend_weight, 1.0)
        return np.concatenate([[0.0], np.cumsum(weights)])

    def next_open(self) -> np.ndarray:
        """Index of the first trading day on or after each day.

        Returns
        -------
        numpy.ndarray
            ``n_days + 1`` values; ``n_days`` where no trading day follows.
        """
        result = np.full(self.n_days + 1, self.n_days, dtype=np.int64)
        following = self.n_days
        for i in range(self.n_days - 1, -1, -1):
            if self.is_open[i]:
                following = i
            result[i] = following
        return result

    def day_name(self, day: int) -> str:
        """ISO date (``YYYY-MM-DD``) of a day index."""
        return str(self.start + np.timedelta64(day, "D"))


def build_calendar(start: dt.date, end: dt.date) -> Calendar:
    """Build the trading calendar between two dates.

    Parameters
    ----------
    start, end : datetime.date
        First and last day, both included.

    Returns
    -------
    Calendar
        The calendar.
    """
    first = np.datetime64(start, "D")
    n_days = (end - start).days + 1
    days = first + np.arange(n_days)
    weekday = (days.astype(np.int64) + 3) % 7  # 0 = Monday
    months = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day_of_month = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    closed = ((months == 12) & (day_of_month >= 24)) | (
        (months == 1) & (day_of_month <= 3)
    )
    day_of_year = (days - days.astype("datetime64[Y]")).astype(np.int64) + 1
    season = 1.0 + 0.7 * np.exp(-(((day_of_year - 320) / 35.0) ** 2))
    return Calendar(
        start=first,
        n_days=n_days,
        is_open=~closed,
        is_weekend=weekday >= 5,
        season=season,
    )
