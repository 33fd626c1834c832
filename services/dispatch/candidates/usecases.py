"""The read-model of volunteers and teams: kept from their events, and the fast path the engine searches.

Each change is read-modify-write of one view document under its lease (FerretDB's conditional
updates are not atomic, ADR 0005), through the pure functions of domain.py. Decisions search
an in-process CandidateIndex of profiles (township, skill) and then read the few shortlisted
views fresh from the database, so load and activity are never stale even with several workers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from services.common import contracts, locks
from services.common.events import Envelope
from services.dispatch.candidates import domain as readmodel
from services.dispatch.candidates.models import TeamDocument, VolunteerDocument
from services.dispatch.engine.eligibility import Candidate
from services.dispatch.engine.index import CandidateIndex
from services.dispatch.policy.domain import Policy

INDEX_MAX_AGE_SECONDS = 5.0
PROFILE_FIELDS = {
    "_id": 1,
    "kind": 1,
    "township": 1,
    "station_id": 1,
    "skills": 1,
    "active": 1,
    "profile_version": 1,
}


def _collection(kind: str) -> Any:
    return (TeamDocument if kind == "team" else VolunteerDocument)._get_collection()


def change(kind: str, view_id: str, how: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    """Apply a pure change to one view document, under its lease; return the new view."""
    collection = _collection(kind)
    with locks.locked(f"{collection.name}:{view_id}"):
        view = collection.find_one({"_id": view_id}) or readmodel.empty(view_id, kind)
        how(view)
        collection.replace_one({"_id": view_id}, view, upsert=True)
    if kind == "volunteer":
        INDEX.note(view)
    return view


def find(kind: str, view_id: str) -> dict[str, Any] | None:
    """One stored view."""
    return _collection(kind).find_one({"_id": view_id})


def candidate(view_id: str, policy: Policy) -> Candidate | None:
    """A volunteer or team, fresh from the read-model."""
    for kind in ("volunteer", "team"):
        view = find(kind, view_id)
        if view is not None and view.get("profile_version", 0) > 0:
            return teams_with_leaders([view], policy)[0] if kind == "team" else readmodel.to_candidate(view)
    return None


def teams_with_leaders(views: list[dict[str, Any]], policy: Policy) -> list[Candidate]:
    """Teams as candidates, each with its leader's current volunteer view (one query for all)."""
    leader_ids = sorted({view["leader_id"] for view in views if view.get("leader_id")})
    leaders = (
        {leader["_id"]: leader for leader in _collection("volunteer").find({"_id": {"$in": leader_ids}})}
        if leader_ids
        else {}
    )
    return [
        readmodel.to_candidate(
            view, team_capacity=policy.team_capacity, leader=leaders.get(view.get("leader_id") or "")
        )
        for view in views
    ]


class ProfileIndex:
    """The in-process index of volunteer profiles, rebuilt from the read-model when it is old."""

    def __init__(self) -> None:
        self.index = CandidateIndex()
        self.built_at = 0.0
        self.lock = threading.Lock()

    def current(self) -> CandidateIndex:
        """The index, rebuilt first when older than a few seconds (other workers change views too)."""
        with self.lock:
            if time.monotonic() - self.built_at > INDEX_MAX_AGE_SECONDS:
                fresh = CandidateIndex()
                for view in VolunteerDocument._get_collection().find({"active": True}, PROFILE_FIELDS):
                    fresh.put(readmodel.to_candidate(view))
                self.index = fresh
                self.built_at = time.monotonic()
            return self.index

    def note(self, view: dict[str, Any]) -> None:
        """Keep this process's index in step with a view it just wrote."""
        with self.lock:
            self.index.put(readmodel.to_candidate(view))


INDEX = ProfileIndex()


class FreshCandidates:
    """A CandidateSource: the index shortlists, the database gives the current state of the shortlist."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.index = INDEX.current()

    def _load(self, kind: str, ids: Iterable[str]) -> list[Candidate]:
        wanted = list(ids)
        if not wanted:
            return []
        views = _collection(kind).find({"_id": {"$in": wanted}})
        return [readmodel.to_candidate(v, team_capacity=self.policy.team_capacity) for v in views]

    def get(self, candidate_id: str) -> Candidate | None:
        return candidate(candidate_id, self.policy)

    def volunteers(self, township: str, skills: list[str]) -> list[Candidate]:
        return self._load("volunteer", [c.id for c in self.index.volunteers(township, skills)])

    def volunteers_at(self, station_id: str, skills: list[str]) -> list[Candidate]:
        return self._load("volunteer", [c.id for c in self.index.volunteers_at(station_id, skills)])

    def teams(self, township: str, category: str, level: str) -> list[Candidate]:
        query: dict[str, Any] = {"active": True, "categories": category}
        found = teams_with_leaders(list(TeamDocument._get_collection().find(query)), self.policy)
        return CandidateIndex(found).teams(township, category, level)


# --- what tasks and ratings do to a candidate ---------------------------------------------------------
def _holder(volunteer_id: str | None, team_id: str | None) -> tuple[str, str | None]:
    """Whose load a task counts against: the team when it went to a team, else the volunteer."""
    return ("team", team_id) if team_id else ("volunteer", volunteer_id)


def task_opened(event: contracts.TaskOffered) -> None:
    """An offer counts against its candidate's load (idempotent: our own offers are noted twice)."""
    kind, view_id = _holder(event.volunteer_id, event.team_id)
    if view_id:
        change(
            kind, view_id, lambda v: readmodel.task_opened(v, event.task_id, event.offered_at, offered=True)
        )


def task_accepted(volunteer_id: str | None, team_id: str | None, task_id: str, at: datetime | None) -> None:
    """A yes (or a claim from the pool) enters the acceptance history and the load."""
    kind, view_id = _holder(volunteer_id, team_id)
    if view_id:
        change(kind, view_id, lambda v: readmodel.task_accepted(v, task_id, at))


def task_closed(task_id: str, *, volunteer_id: str | None = None, team_id: str | None = None) -> None:
    """The task no longer counts against the load of any holder named."""
    for kind, view_id in (("volunteer", volunteer_id), ("team", team_id)):
        if view_id:
            change(kind, view_id, lambda v: readmodel.task_closed(v, task_id))


def on_task_offered(envelope: Envelope, data: contracts.TaskOffered) -> None:
    """Count the offer against the candidate's load (our own event, read back like anyone's)."""
    task_opened(data)


def on_volunteer_snapshot(envelope: Envelope, data: contracts.VolunteerSnapshot) -> None:
    """Keep the newest profile of a volunteer; older or repeated snapshots change nothing."""
    profile = data.model_dump(mode="python", exclude={"volunteer_id"})
    change("volunteer", data.volunteer_id, lambda v: readmodel.apply_profile(v, profile))


def on_team_updated(envelope: Envelope, data: contracts.TeamUpdated) -> None:
    """Keep the newest profile of a team."""
    profile = data.model_dump(exclude={"team_id", "kind"})
    profile["team_kind"] = data.kind
    change("team", data.team_id, lambda v: readmodel.apply_profile(v, profile))


def on_request_rated(envelope: Envelope, data: contracts.RequestRated) -> None:
    """A rating feeds the reputation of the volunteer (and team) who served."""
    for kind, view_id in (("volunteer", data.volunteer_id), ("team", data.team_id)):
        if view_id:
            change(kind, view_id, lambda v: readmodel.rated(v, data.rating_id, data.score))


def volunteer(volunteer_id: str) -> tuple[dict[str, Any], Candidate] | None:
    """A volunteer's stored view and the candidate the engine sees in it; None before their profile."""
    document = find("volunteer", volunteer_id)
    if document is None or document.get("profile_version", 0) == 0:
        return None
    return document, readmodel.to_candidate(document)
