"""The periodic pull backs off from a partner that keeps failing, and comes back to it."""

from __future__ import annotations

import datetime as dt

from sharing.models import PartnerSync
from sharing.sync_client import pull_due

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def state(failures: int, seconds_ago: float) -> PartnerSync:
    return PartnerSync(failures=failures, last_pull_at=NOW - dt.timedelta(seconds=seconds_ago))


def test_a_healthy_or_new_partner_is_pulled_every_period(settings) -> None:
    assert settings.SYNC_PULL_SECONDS == 30  # the default
    assert pull_due(None, NOW)
    assert pull_due(state(0, 0), NOW)


def test_a_failing_partner_waits_twice_as_long_after_each_failure() -> None:
    # Three failures: 240 s give or take 20% jitter.
    assert not pull_due(state(3, 180), NOW)
    assert pull_due(state(3, 300), NOW)
    # However many failures, a partner is tried again within 10 minutes (plus jitter).
    assert not pull_due(state(40, 400), NOW)
    assert pull_due(state(40, 721), NOW)
