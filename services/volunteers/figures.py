"""The rollups the volunteers stage counts into (services/common/rollups.py), one definition each.

Service-wide and importing no feature: people, organisation, hours and pairing count into them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.common.rollups import Rollup

# The organisation's counts per township (stations by kind, teams covering it, volunteers) and, in
# the group "county", teams by kind. Population, not history: every member counts at one moment.
ORGANISATION = Rollup("organisation", grain="month")
POPULATION_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
COUNTY = "county"
# A volunteer's hours after corrections, and the tasks credited, per volunteer (by month).
HOURS = Rollup("hours", grain="month")
# Pairing visits by status, per township (by the day they fell due).
VISITS = Rollup("visits", grain="day")
