"""Where a decision finds its candidates: an in-memory index, or (for comparison) a scan of everyone.

Pure. The index maps (township, skill) to volunteer ids, and (township, category) and
(county, category) to team ids, so one decision looks at the few people who could serve instead
of the whole county. Eligibility is still checked on every candidate the index returns: the
index only narrows the search, it never decides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Protocol

from services.dispatch.engine.eligibility import Candidate


class CandidateSource(Protocol):
    """What the cascade asks of its candidates."""

    def get(self, candidate_id: str) -> Candidate | None:
        """One candidate by id."""
        ...

    def volunteers(self, township: str, skills: list[str]) -> Iterable[Candidate]:
        """Volunteers who might serve the township with the skills (a superset is fine)."""
        ...

    def volunteers_at(self, station_id: str, skills: list[str]) -> Iterable[Candidate]:
        """Volunteers who might belong to the station and have the skills (a superset is fine)."""
        ...

    def teams(self, township: str, category: str, level: str) -> Iterable[Candidate]:
        """Teams who might serve at the level (a superset is fine)."""
        ...


class NaiveScan:
    """Every candidate, every time: the baseline the index is measured against."""

    def __init__(self, candidates: Iterable[Candidate]) -> None:
        self.candidates = list(candidates)
        self.by_id = {c.id: c for c in self.candidates}

    def get(self, candidate_id: str) -> Candidate | None:
        return self.by_id.get(candidate_id)

    def volunteers(self, township: str, skills: list[str]) -> Iterator[Candidate]:
        return (c for c in self.candidates if not c.is_team)

    def volunteers_at(self, station_id: str, skills: list[str]) -> Iterator[Candidate]:
        return (c for c in self.candidates if not c.is_team)

    def teams(self, township: str, category: str, level: str) -> Iterator[Candidate]:
        return (c for c in self.candidates if c.is_team)


class CandidateIndex:
    """Candidates pre-indexed by (station, skill), (township, skill) and, for teams, (place, category)."""

    def __init__(self, candidates: Iterable[Candidate] = ()) -> None:
        self.by_id: dict[str, Candidate] = {}
        self._volunteers: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._by_township: dict[str, set[str]] = defaultdict(set)
        self._stations: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._by_station: dict[str, set[str]] = defaultdict(set)
        self._teams: dict[tuple[str, str], set[str]] = defaultdict(set)
        for candidate in candidates:
            self.put(candidate)

    def __len__(self) -> int:
        return len(self.by_id)

    def _keys(self, c: Candidate) -> list[tuple[dict, tuple[str, str] | str]]:
        if c.is_team:
            places = list(c.townships) + (["*county*"] if c.county_wide else [])
            return [(self._teams, (place, category)) for place in places for category in c.categories]
        if not c.active:
            return []  # an inactive profile is never eligible: it stays out of the buckets
        keys: list[tuple[dict, tuple[str, str] | str]] = [
            (self._volunteers, (c.township, s)) for s in c.skills
        ]
        keys.append((self._by_township, c.township))
        if c.station_id:
            keys.extend((self._stations, (c.station_id, s)) for s in c.skills)
            keys.append((self._by_station, c.station_id))
        return keys

    def put(self, candidate: Candidate) -> None:
        """Add or replace a candidate (a newer profile moves it between buckets)."""
        self.remove(candidate.id)
        self.by_id[candidate.id] = candidate
        for table, key in self._keys(candidate):
            table[key].add(candidate.id)

    def remove(self, candidate_id: str) -> None:
        """Forget a candidate."""
        old = self.by_id.pop(candidate_id, None)
        if old is not None:
            for table, key in self._keys(old):
                table[key].discard(candidate_id)

    def get(self, candidate_id: str) -> Candidate | None:
        return self.by_id.get(candidate_id)

    @staticmethod
    def _lookup(table: dict, whole: dict, place: str, skills: list[str]) -> set[str]:
        if not skills:
            return whole.get(place, set())
        buckets = sorted((table.get((place, s), set()) for s in set(skills)), key=len)
        return set(buckets[0]).intersection(*buckets[1:])

    def volunteers(self, township: str, skills: list[str]) -> list[Candidate]:
        return [self.by_id[i] for i in self._lookup(self._volunteers, self._by_township, township, skills)]

    def volunteers_at(self, station_id: str, skills: list[str]) -> list[Candidate]:
        return [self.by_id[i] for i in self._lookup(self._stations, self._by_station, station_id, skills)]

    def teams(self, township: str, category: str, level: str) -> list[Candidate]:
        place = "*county*" if level == "county" else township
        return [self.by_id[i] for i in self._teams.get((place, category), set())]
