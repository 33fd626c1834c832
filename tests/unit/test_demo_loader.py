"""The demo's organisation without a server: every team has members and a leader (issue 15 #1)."""

from __future__ import annotations

import pytest

from civicloop.demo_loader import LECTURE_BRAND_TEAMS, STANDING_TEAMS, SUB_TEAMS, team_members
from services.common.county import TOWNSHIPS


def _county(volunteer_count: int):
    volunteers = [
        {
            "id": f"v{n:03d}",
            "township": TOWNSHIPS[n % len(TOWNSHIPS)],
            "skills": ["lecturing"] if n % 5 else [],
        }
        for n in range(volunteer_count)
    ]
    sub_teams: dict[str, list[str]] = {}
    for number in range(SUB_TEAMS):
        sub_teams.setdefault(TOWNSHIPS[number % len(TOWNSHIPS)], []).append(f"sub{number:03d}")
    standing = [{"id": f"standing{n}"} for n in range(len(STANDING_TEAMS))]
    lecture = [
        {"id": f"lecture{n}", "townships": [TOWNSHIPS[n % len(TOWNSHIPS)]]}
        for n in range(LECTURE_BRAND_TEAMS)
    ]
    return volunteers, sub_teams, standing, lecture


@pytest.mark.parametrize("volunteer_count", [400, 100, 14])
def test_every_demo_team_has_a_leader_from_its_own_place(volunteer_count):
    volunteers, sub_teams, standing, lecture = _county(volunteer_count)
    members = team_members(volunteers, sub_teams, standing, "corps", lecture)
    every_team = ["corps", *(t["id"] for t in standing), *(t["id"] for t in lecture)]
    every_team += [team for teams in sub_teams.values() for team in teams]
    assert len(every_team) == 1 + 8 + 300 + 29
    assert not [team for team in every_team if not members.get(team)], "a team nobody could answer for"
    township_of = {v["id"]: v["township"] for v in volunteers}
    for township, teams in sub_teams.items():
        for team in teams:
            assert {township_of[m] for m in members[team]} == {township}
    for team in lecture:
        assert {township_of[m] for m in members[team["id"]]} == set(team["townships"])
    assert all(len(set(people)) == len(people) for people in members.values())


def test_without_volunteers_no_team_gets_a_member():
    volunteers, sub_teams, standing, lecture = _county(0)
    assert team_members(volunteers, sub_teams, standing, "corps", lecture) == {}
