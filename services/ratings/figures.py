"""The rollups the ratings stage counts into (services/common/rollups.py)."""

from __future__ import annotations

from services.common.rollups import Rollup

# Follow-ups still open, per township (by the day they were opened).
OPEN_FOLLOWUPS = Rollup("open-followups", grain="day")
