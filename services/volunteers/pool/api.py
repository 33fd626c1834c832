"""HTTP entrypoints of the claim pool: the open requests (claiming one, which makes a task, is in tasks)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, Role, require
from services.common.schemas import ERROR_RESPONSES
from services.volunteers.people import usecases as people
from services.volunteers.pool import usecases
from services.volunteers.pool.schemas import PoolQuery, PoolView, pool_entry_view

POOL_TAG = Tag(name="pool", description="抢单: requests open for volunteers to claim")
pool_api = APIBlueprint(
    "pool",
    __name__,
    url_prefix="/api/v1/pool",
    abp_tags=[POOL_TAG],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


@pool_api.get("", responses={200: PoolView})
def list_pool(query: PoolQuery) -> PoolView:
    """Open requests the caller could serve (volunteers), or all of them (staff)."""
    principal = require(Role.VOLUNTEER, *STAFF)
    if principal.is_staff:
        found = usecases.open_entries(None, principal.township, query.limit)
    else:
        volunteer = people.get_volunteer(principal.sub)
        found = (
            usecases.open_entries(volunteer.skills, volunteer.township, query.limit)
            if volunteer.active
            else []
        )
    return PoolView(items=[pool_entry_view(entry) for entry in found])
