"""The requests stage's metrics: the loop's stages, the county's rollout figures, patrol reports.

Declared here, once, for the whole service; each feature counts its own (lifecycle, stats, patrols).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

STAGE_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200, 604800)

TRANSITIONS = Counter(
    "civicloop_request_transitions_total",
    "Requests reaching a stage of the loop.",
    ["township", "category", "stage"],
)
STAGE_SECONDS = Histogram(
    "civicloop_stage_duration_seconds",
    "Time between two stages of one request (submit_to_dispatch, dispatch_to_accept, ...).",
    ["township", "category", "interval"],
    buckets=STAGE_BUCKETS,
)
RATING_SCORES = Counter(
    "civicloop_ratings_total",
    "Ratings given by residents, by score.",
    ["township", "category", "score"],
)
OPEN_REQUESTS = Gauge(
    "civicloop_open_requests",
    "Requests not yet closed, by the stage they wait in.",
    ["township", "stage"],
    multiprocess_mode="livemax",
)

# --- the county's rollout figures (docs/adr/0030): counted once per event, where events land --------
OFFERS = Counter(
    "civicloop_offers_total",
    "Tasks offered to a volunteer or team (the response rate's denominator).",
    ["township", "category"],
)
OFFERS_IN_TIME = Counter(
    "civicloop_offers_accepted_in_time_total",
    "Offers accepted before their deadline (the response rate's numerator).",
    ["township", "category"],
)
OFFERS_OVERDUE = Gauge(
    "civicloop_offers_overdue",
    "Offers whose deadline has passed with no answer, now.",
    ["township"],
    multiprocess_mode="livemax",
)
VOLUNTEER_HOURS = Counter(
    "civicloop_volunteer_hours_total",
    "Volunteer hours of completed services (sum over participants).",
    ["township", "category"],
)
PARTICIPATIONS = Counter(
    "civicloop_volunteer_participations_total",
    "Volunteer participations (人次) in completed services.",
    ["township", "category"],
)
PEOPLE_SERVED = Counter(
    "civicloop_people_served_total",
    "People served (人次) by completed services.",
    ["township", "category"],
)


PATROL_REPORTS = Counter(
    "civicloop_patrol_reports_total",
    "Patrol reports filed by alley stewards, by resolution tier.",
    ["township", "tier"],
)

PATROL_REPORTS_STORED = Gauge(
    "civicloop_patrol_reports_stored",
    "Patrol reports on record, by township, resolution tier and status (set by the requests worker).",
    ["township", "tier", "status"],
    multiprocess_mode="max",
)
