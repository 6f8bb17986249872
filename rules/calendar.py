"""The regulators' calendar: statutory clocks count whole days in China Standard Time.

A penalty decided on 1 March stops counting on the same day three years later, in
Beijing: an event at 07:00 on that day (23:00 UTC the day before) is already on it.
Event times are kept in UTC (they compare as text); this is the one place that turns
them into days and days back into instants. China has kept UTC+8 all year since 1991,
so a fixed offset is exact.
"""

from __future__ import annotations

import calendar
import functools
from datetime import UTC, date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")


# the rules ask for the day of the same few instants (a state's clock) again and again
@functools.lru_cache(maxsize=1 << 16)
def local_day(at: str) -> date:
    """The day (China Standard Time) of an ISO instant; a naive one is taken as UTC.

    >>> local_day("2029-02-28T23:00:00+00:00"), local_day("2029-02-28T15:59:59+00:00")
    (datetime.date(2029, 3, 1), datetime.date(2029, 2, 28))
    """
    moment = datetime.fromisoformat(at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA).date()


def local_time(at: str) -> str:
    """An ISO instant as China Standard Time to the second, for people to read; a naive
    one is taken as UTC, text that is no instant is given back as it is.

    >>> local_time("2029-02-28T16:00:00.123+00:00"), local_time("soon")
    ('2029-03-01 00:00:00', 'soon')
    """
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def day_start(day: date) -> str:
    """The instant a day begins (00:00 in Beijing), as UTC ISO text.

    >>> day_start(date(2029, 3, 1))
    '2029-02-28T16:00:00+00:00'
    """
    return datetime(day.year, day.month, day.day, tzinfo=CHINA).astimezone(UTC).isoformat()


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the end of the month where that day does not exist
    (31 August + 6 months = 28 or 29 February).

    >>> add_months(date(2026, 8, 31), 6), add_months(date(2027, 8, 31), 6)
    (datetime.date(2027, 2, 28), datetime.date(2028, 2, 29))
    >>> add_months(date(2028, 2, 29), 36)
    datetime.date(2031, 2, 28)
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
