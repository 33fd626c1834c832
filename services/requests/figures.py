"""The rollups the requests stage counts into (services/common/rollups.py), one definition each.

Service-wide and importing no feature: orders, patrols and stats all count into the county report.
"""

from __future__ import annotations

from services.common.rollups import Rollup

# The county report's figures per township, each at the moment of its own event (docs/adr/0031).
ROLLOUT = Rollup("rollout", grain="day", stamped=True)
# Requests not yet closed, by the stage they wait in, per township (by the day they were submitted).
OPEN_REQUESTS = Rollup("open-requests", grain="day")
# Offers whose deadline passed with no answer, per township (by the day of the deadline).
OVERDUE_OFFERS = Rollup("overdue-offers", grain="day")
# Stored patrol reports by tier and status, per township (by the day they were filed).
PATROL_REPORTS = Rollup("patrol-reports", grain="day")
