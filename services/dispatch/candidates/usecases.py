"""Storing the read-model of volunteers and teams, and the fast path the engine searches it by.

Each change is read-modify-write of one view document under its lease (FerretDB's conditional
updates are not atomic, ADR 0005), through the pure functions of readmodel.py. Decisions search
an in-process CandidateIndex of profiles (township, skill) and then read the few shortlisted
views fresh from the database, so load and activity are never stale even with several workers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from services.common import locks
from services.dispatch import readmodel
from services.dispatch.eligibility import Candidate
from services.dispatch.index import CandidateIndex
from services.dispatch.models import TeamView, VolunteerView
from services.dispatch.policy import Policy

INDEX_MAX_AGE_SECONDS = 5.0
PROFILE_FIELDS = {"_id": 1, "kind": 1, "township": 1, "skills": 1, "active": 1, "profile_version": 1}


def _collection(kind: str) -> Any:
    return (TeamView if kind == "team" else VolunteerView)._get_collection()


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
            return readmodel.to_candidate(view, team_capacity=policy.team_capacity)
    return None


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
                for view in VolunteerView._get_collection().find({"active": True}, PROFILE_FIELDS):
                    fresh.put(readmodel.to_candidate(view))
                self.index = fresh
                self.built_at = time.monotonic()
            return self.index

    def note(self, view: dict[str, Any]) -> None:
        """Keep this process's index in step with a view it just wrote."""
        with self.lock:
            self.index.put(readmodel.to_candidate(view))

    def reset(self) -> None:
        """Forget the index (tests, and after a replay)."""
        with self.lock:
            self.index = CandidateIndex()
            self.built_at = 0.0


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

    def volunteers_at(self, station: str, skills: list[str]) -> list[Candidate]:
        return self._load("volunteer", [c.id for c in self.index.volunteers_at(station, skills)])

    def teams(self, township: str, category: str, level: str) -> list[Candidate]:
        query: dict[str, Any] = {"active": True, "categories": category}
        views = TeamView._get_collection().find(query)
        found = [readmodel.to_candidate(v, team_capacity=self.policy.team_capacity) for v in views]
        return CandidateIndex(found).teams(township, category, level)
