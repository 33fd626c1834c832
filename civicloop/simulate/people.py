"""What the county's people do with each order: residents, volunteers, team leaders, stewards, staff.

Each order moves through phases; a step looks at the platform through the gateway (as the person's
app would), decides with the order's own random stream (so a seed replays the same choices) and
acts. A step never waits: it says when the order should be looked at next, in simulated time.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from civicloop.simulate.gateway import Gateway
from civicloop.simulate.scenario import SKILL_OF, Scenario
from civicloop.simulate.truth import Order, Truth
from civicloop.simulate.world import ADMIN

TITLES = {
    "elder_care": ("帮忙买菜", "陪同就医", "上门探望"),
    "study_help": ("作业辅导", "暑期阅读"),
    "family_education": ("亲子沟通讲座", "家庭教育咨询"),
    "policy_lecture": ("医保政策宣讲", "乡村振兴政策宣讲", "防诈骗宣讲"),
    "health_check": ("义诊量血压", "健康咨询"),
    "legal_aid": ("邻里纠纷调解", "法律咨询"),
    "environment": ("村道卫生清理", "垃圾分类宣传"),
    "repairs": ("修理电饭煲", "楼道灯坏了", "水龙头漏水"),
    "culture": ("广场文艺演出", "读书会"),
    "other": ("代办证件", "帮忙搬家"),
}
OPEN_JOB = frozenset({"waiting", "offered", "in_review", "escalated", "pooled"})
SERVED_JOB = frozenset({"accepted", "in_service"})


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat()


class County:
    """The people of the simulated county, acting on orders through the gateway."""

    def __init__(
        self, gateway: Gateway, scenario: Scenario, truth: Truth, now: Callable[[], float], poll: float
    ) -> None:
        self.gateway = gateway
        self.scenario = scenario
        self.truth = truth
        self.world = truth.world
        self.now = now
        self.poll = poll  # simulated seconds between two looks while the platform is working
        self.behaviour = scenario.behaviour
        self.new_orders: list[Order] = []
        self._lock = threading.Lock()
        self.index = {name: number for number, name in enumerate(scenario.township_names)}

    # -- helpers --------------------------------------------------------------------------------------
    def rng(self, order: Order, label: str) -> random.Random:
        """The order's own stream for one decision: the same seed makes the same choice."""
        return random.Random(f"{self.truth.seed}:{order.key}:{label}:{len(order.steps)}")

    def minutes(self, rng: random.Random, mean: float) -> float:
        return rng.expovariate(1 / mean) * 60

    def dispatcher(self, township: str) -> tuple[str, str, str]:
        return (f"dispatcher-{self.index.get(township, 0):02d}", "dispatcher", township)

    def orderer(self, order: Order) -> tuple[str, str] | tuple[str, str, str]:
        if order.orderer_role == "dispatcher":
            return self.dispatcher(order.township)
        return (order.orderer, order.orderer_role)

    def later(self, order: Order, seconds: float, phase: str | None = None) -> None:
        if phase:
            order.phase = phase
        order.next_at = self.now() + seconds

    def soon(self, order: Order, phase: str | None = None) -> None:
        self.later(order, self.poll, phase)

    def finish(self, order: Order, outcome: str, detail: str = "") -> None:
        order.outcome = outcome
        order.phase = "done"
        order.note(self.now(), outcome, detail)

    def job(self, order: Order) -> dict[str, Any] | None:
        return self.gateway.get_json(f"/api/v1/dispatch/{order.request_id}", ADMIN)

    # -- the step ------------------------------------------------------------------------------------
    def step(self, order: Order) -> None:
        """Look at the order and do what its person would do now."""
        getattr(self, f"_{order.phase}")(order)

    def _done(self, order: Order) -> None:
        order.next_at = float("inf")

    def _idle(self, order: Order) -> None:
        order.next_at = float("inf")

    def _planned(self, order: Order) -> None:
        now = self.now()
        rng = self.rng(order, "submit")
        title = rng.choice(TITLES.get(order.category, TITLES["other"]))
        key = {"Idempotency-Key": f"sim-{self.truth.seed}-{order.key}"}
        if order.kind == "patrol":
            self._file_patrol(order, rng, key)
            return
        if order.kind == "wish":
            body = {
                "beneficiary": {
                    "name": "困难群众",
                    "flags": ["elderly", "low_income"],
                    "township": order.township,
                    "village": order.village,
                },
                "title": title,
                "description": f"{order.village}{title}",
                "category": order.category,
            }
            created = self.gateway.created("/api/v1/wishes", self.orderer(order), body, headers=key)
        else:
            body = {
                "category": order.category,
                "title": title,
                "description": f"{order.village}：{title}",
                "township": order.township,
                "village": order.village,
                "urgency": order.urgency,
                "contact_phone": f"139{rng.randint(10_000_000, 99_999_999)}",
            }
            created = self.gateway.created("/api/v1/requests", self.orderer(order), body, headers=key)
        order.request_id = created["id"]
        order.submitted_at = now
        order.note(now, "submitted", order.request_id)
        if rng.random() < self.behaviour.cancel_before_service:
            order.plan["cancel_at"] = now + rng.uniform(0.5, 8) * 3600
        self.soon(order, "watch")

    def _file_patrol(self, order: Order, rng: random.Random, key: dict[str, str]) -> None:
        now = self.now()
        body: dict[str, Any] = {
            "location": {"township": order.township, "village": order.village},
            "description": f"{order.village}巡查发现：{rng.choice(TITLES[order.category])}",
            "tier": order.tier,
        }
        if order.tier == "resolved_on_site":
            body["resolution_note"] = "当场处理完毕"
        elif order.tier == "reported_to_community":
            body["category"] = order.category
        else:
            body["parties"] = ["村委会", "物业", "居民代表"][: rng.randint(2, 3)]
        report = self.gateway.created("/api/v1/patrols", self.orderer(order), body, headers=key)
        order.report_id = report["id"]
        order.submitted_at = now
        order.note(now, "filed", f"{order.tier} {report['id']}")
        if order.tier == "resolved_on_site":
            self.finish(order, "filed")
        elif order.tier == "reported_to_community":
            order.request_id = report["request_id"]
            self.soon(order, "watch")
        else:
            self.later(order, rng.expovariate(1 / self.behaviour.consultation_days) * 86400, "consult")

    def _consult(self, order: Order) -> None:
        who = self.dispatcher(order.township)
        path = f"/api/v1/patrols/{order.report_id}"
        meeting = {
            "held_at": iso(self.now()),
            "attendees": ["村委会", "物业", "居民代表"],
            "summary": "三方协商",
            "decision": "分工整改",
        }
        answer = self.gateway.call("POST", f"{path}/meetings", who, json=meeting)
        if answer.status_code not in (201, 409):
            raise RuntimeError(f"meeting → {answer.status_code}: {answer.text[:200]}")
        closed = self.gateway.call("POST", f"{path}/close", who, json={"resolution_note": "协商达成一致"})
        if closed.status_code not in (200, 409):
            raise RuntimeError(f"close → {closed.status_code}: {closed.text[:200]}")
        self.finish(order, "settled")

    def _watch(self, order: Order) -> None:
        now = self.now()
        if order.plan.get("cancel_at", float("inf")) <= now and self._cancel(order, "计划有变"):
            return
        job = self.job(order)
        if job is None:
            order.waiting_since = order.waiting_since or now
            self.soon(order)
            return
        status = job["status"]
        if status in OPEN_JOB or status in SERVED_JOB:
            order.waiting_since = None
        if status == "in_review":
            self.later(
                order, self.minutes(self.rng(order, "review"), self.behaviour.review_minutes), "review"
            )
        elif status == "offered":
            self._offered(order, job)
        elif status == "escalated":
            self.later(
                order, self.minutes(self.rng(order, "assign"), self.behaviour.assign_minutes), "rescue"
            )
        elif status == "pooled":
            self.later(order, self.minutes(self.rng(order, "claim"), self.behaviour.claim_minutes), "rescue")
        elif status in SERVED_JOB:
            self._adopt(order, job)
        elif status == "completed":
            order.waiting_since = None
            self.soon(order, "rate" if order.completions else "watch")
        elif status in ("cancelled", "rejected"):
            self.finish(order, status)
        else:
            self.soon(order)

    def _offered(self, order: Order, job: dict[str, Any]) -> None:
        attempt = next((a for a in reversed(job["attempts"]) if a["status"] == "offered"), None)
        if attempt is None:
            self.soon(order)
            return
        if attempt["task_id"] in order.handled:
            # Our answer is on its way, or we let it lapse: look again after its deadline passes.
            deadline = datetime.fromisoformat(attempt["deadline"]).timestamp() if attempt["deadline"] else 0
            self.later(order, max(self.poll, deadline - self.now() + self.poll))
            return
        rng = self.rng(order, "answer")
        # A hand-picked offer (a dispatcher phoned first) is nearly always taken.
        accept = 0.95 if attempt["level"] == "manual" else self.behaviour.accept
        draw = rng.random()
        order.plan["attempt"] = {k: attempt[k] for k in ("task_id", "volunteer_id", "team_id", "level")}
        if draw < accept:
            order.plan["answer"] = "accept"
        elif draw < accept + self.behaviour.decline:
            order.plan["answer"] = "decline"
        else:
            order.handled.append(attempt["task_id"])
            order.note(self.now(), "let lapse", attempt["task_id"])
            self.soon(order)
            return
        self.later(order, self.minutes(rng, self.behaviour.answer_minutes), "answer")

    def _answer(self, order: Order) -> None:
        attempt, answer = order.plan["attempt"], order.plan["answer"]
        task = attempt["task_id"]
        if attempt["team_id"]:
            leader = self.world.leader_of(attempt["team_id"])
            members = self.world.teams.get(attempt["team_id"], {}).get("members", [])
            if leader is None or not members:
                order.handled.append(task)
                self.soon(order, "watch")
                return
            server = self.rng(order, "member").choice(members)
            who, base = (leader, "volunteer"), f"/api/v1/tasks/team/{task}"
            body = {"volunteer_id": server} if answer == "accept" else {"reason": "队员都有安排"}
        else:
            server = attempt["volunteer_id"]
            who, base = (server, "volunteer"), f"/api/v1/tasks/{task}"
            body = None if answer == "accept" else {"reason": "这几天不在家"}
        response = self.gateway.call("POST", f"{base}/{answer}", who, json=body)
        if response.status_code == 404 and len(order.steps) < 400:
            self.soon(order)  # the offer has not reached the volunteer's inbox yet
            return
        order.handled.append(task)
        if response.status_code != 200:
            order.note(self.now(), f"{answer} refused", f"{response.status_code}")
            self.soon(order, "watch")
            return
        order.note(self.now(), f"{answer}ed" if answer == "accept" else "declined", f"{task} by {server}")
        if answer == "decline":
            self.soon(order, "watch")
            return
        self._serve(order, task, server, attempt["team_id"])

    def _serve(self, order: Order, task: str, volunteer: str, team: str | None) -> None:
        """The task is accepted: plan the visit (or the no-show)."""
        order.task_id, order.volunteer_id, order.team_id = task, volunteer, team
        rng = self.rng(order, "visit")
        lead = rng.expovariate(1 / self.behaviour.lead_hours) * 3600
        if rng.random() < self.behaviour.no_show:
            order.plan["no_show"] = True
            self.later(order, lead + 24 * 3600, "no_show")
        else:
            self.later(order, lead, "visit")

    def _adopt(self, order: Order, job: dict[str, Any]) -> None:
        """Someone took the order outside our own answers (a claim, a retried call that landed)."""
        attempt = next(
            (a for a in reversed(job["attempts"]) if a["status"] in ("accepted", "completed")), None
        )
        if attempt is None or not attempt["volunteer_id"]:
            self.soon(order)
            return
        if order.task_id == attempt["task_id"]:
            self.soon(order, order.plan.get("service_phase", "visit"))
            return
        order.note(self.now(), "adopted", attempt["task_id"])
        self._serve(order, attempt["task_id"], attempt["volunteer_id"], attempt["team_id"])

    def _review(self, order: Order) -> None:
        job = self.job(order)
        if job is None or job["status"] != "in_review":
            self.soon(order, "watch")
            return
        reject = self.rng(order, "review").random() < self.behaviour.review_reject
        body = {"decision": "reject", "reason": "不属于服务范围"} if reject else {"decision": "approve"}
        response = self.gateway.call(
            "POST", f"/api/v1/dispatch/{order.request_id}/review", self.dispatcher(order.township), json=body
        )
        order.note(self.now(), "reviewed", f"{body['decision']} {response.status_code}")
        self.soon(order, "watch")

    def _rescue(self, order: Order) -> None:
        """An escalated order: the township's dispatcher assigns it by hand, or a volunteer claims it."""
        job = self.job(order)
        if job is None or job["status"] not in ("escalated", "pooled"):
            self.soon(order, "watch")
            return
        rng = self.rng(order, "rescue")
        skill = SKILL_OF.get(order.category, "elder_care")
        tried = (
            {a["volunteer_id"] for a in job["attempts"]} | set(job["declined_by"]) | set(job["expired_by"])
        )
        local = [v for v in self.world.of_township(order.township, skill) if v not in tried]
        anyone = [v for v in self.world.with_skill(skill) if v not in tried]
        chosen = rng.choice(local or anyone) if (local or anyone) else None
        if chosen and job["status"] == "escalated" and rng.random() < 0.6:
            response = self.gateway.call(
                "POST",
                f"/api/v1/dispatch/{order.request_id}/assign",
                self.dispatcher(order.township),
                json={"volunteer_id": chosen},
            )
            order.note(self.now(), "assigned", f"{chosen} {response.status_code}")
            self.soon(order, "watch")
            return
        if chosen is None:
            self.later(order, 86400, "watch")
            return
        response = self.gateway.call("POST", f"/api/v1/pool/{order.request_id}/claim", (chosen, "volunteer"))
        order.note(self.now(), "claimed", f"{chosen} {response.status_code}")
        if response.status_code == 201:
            self._serve(order, response.json()["id"], chosen, None)
        else:
            self.soon(order, "watch")

    def _code(self, order: Order) -> str | None:
        request = self.gateway.get_json(f"/api/v1/requests/{order.request_id}", self.orderer(order))
        return (request or {}).get("service_code")

    def _task(self, order: Order) -> dict[str, Any] | None:
        return self.gateway.get_json(f"/api/v1/tasks/{order.task_id}", (order.volunteer_id, "volunteer"))

    def _visit(self, order: Order) -> None:
        """Check in with the code the resident reads out."""
        order.plan["service_phase"] = "visit"
        code = self._code(order)
        if code is None:
            task = self._task(order)
            if task and task["status"] in ("withdrawn", "declined"):
                self.soon(order, "watch")
            elif task and task["status"] in ("in_service", "completed"):
                self._after_check_in(order)
            else:
                self.soon(order)  # the acceptance has not reached the resident's request yet
            return
        response = self.gateway.call(
            "POST",
            f"/api/v1/tasks/{order.task_id}/check-in",
            (order.volunteer_id, "volunteer"),
            json={"code": code},
        )
        if response.status_code == 200 or (
            response.status_code == 409 and (self._task(order) or {}).get("status") == "in_service"
        ):
            order.note(self.now(), "checked in", order.task_id or "")
            self._after_check_in(order)
        else:
            order.note(self.now(), "check-in refused", f"{response.status_code} {response.text[:120]}")
            self.soon(order, "watch")

    def _after_check_in(self, order: Order) -> None:
        size = self.scenario.demand.size(order.category)
        rng = self.rng(order, "size")
        order.plan["hours"] = max(0.25, rng.gauss(size.hours, size.hours / 4))
        order.plan["participants"] = max(
            1, min(50, round(rng.gauss(size.participants, size.participants / 3)))
        )
        order.plan["people_served"] = max(0, round(rng.gauss(size.people_served, size.people_served / 3)))
        order.plan["service_phase"] = "finish"
        self.later(order, order.plan["hours"] * 3600, "finish")

    def _companions(self, order: Order, count: int) -> list[str]:
        pool = (
            self.world.teams.get(order.team_id, {}).get("members", [])
            if order.team_id
            else self.world.of_township(order.township)
        )
        pool = [v for v in pool if v != order.volunteer_id]
        return self.rng(order, "companions").sample(pool, k=min(count, len(pool)))

    def _finish(self, order: Order) -> None:
        """Check out with the code: hours, everyone who served, the people served."""
        task = self._task(order)
        if task and task["status"] == "completed":
            self._completed(order, task, "completed (an earlier answer was lost)")
            return
        code = self._code(order)
        if code is None:
            self.soon(order)
            return
        body = {
            "code": code,
            "participant_ids": self._companions(order, order.plan["participants"] - 1),
            "people_served": order.plan["people_served"],
        }
        response = self.gateway.call(
            "POST", f"/api/v1/tasks/{order.task_id}/check-out", (order.volunteer_id, "volunteer"), json=body
        )
        if response.status_code == 200:
            self._completed(order, response.json(), "checked out")
        else:
            order.note(self.now(), "check-out refused", f"{response.status_code} {response.text[:120]}")
            self.soon(order)

    def _completed(self, order: Order, task: dict[str, Any], what: str) -> None:
        order.completions += 1
        order.hours = sum(p["hours"] for p in task["participants"]) or (task["hours"] or 0)
        order.participants = max(1, len(task["participants"]))
        order.people_served = order.plan.get("people_served", 1)
        order.note(self.now(), what, f"{order.hours:g} h, {order.participants} volunteers")
        rng = self.rng(order, "rate")
        if rng.random() < self.behaviour.rate:
            self.later(order, rng.expovariate(1 / self.behaviour.rate_hours) * 3600, "rate")
        else:
            order.phase, order.next_at = "idle", float("inf")  # never rated: stays open, as in life

    def _rate(self, order: Order) -> None:
        rng = self.rng(order, "score")
        scores = self.behaviour.scores
        score = order.score or rng.choices(list(scores), list(scores.values()))[0]
        response = self.gateway.call(
            "POST",
            "/api/v1/ratings",
            self.orderer(order),
            json={
                "request_id": order.request_id,
                "score": score,
                "comment": "很好" if score >= 4 else "不太满意",
            },
        )
        if response.status_code == 404:
            self.soon(order)  # the rating slot opens when ratings hears of the completion
            return
        if response.status_code == 201 or (
            response.status_code == 409
            and (self.gateway.get_json(f"/api/v1/ratings/{order.request_id}", ADMIN) or {}).get("status")
            == "rated"
        ):
            order.score = score
            order.note(self.now(), "rated", str(score))
            self.soon(order, "closing")
            return
        order.note(self.now(), "rating refused", f"{response.status_code} {response.text[:120]}")
        self.soon(order)

    def _closing(self, order: Order) -> None:
        request = self.gateway.get_json(f"/api/v1/requests/{order.request_id}", ADMIN)
        if request and request["status"] == "closed":
            self.finish(order, "closed")
        else:
            order.waiting_since = order.waiting_since or self.now()
            self.soon(order)

    def _no_show(self, order: Order) -> None:
        """The volunteer never came: the resident cancels, and half the time orders again."""
        if not self._cancel(order, "志愿者未到"):
            self.soon(order, "watch")
            return
        if order.kind == "order" and self.rng(order, "again").random() < 0.5 and not order.key.endswith("r"):
            again = Order(
                key=f"{order.key}r",
                kind=order.kind,
                category=order.category,
                township=order.township,
                village=order.village,
                urgency=order.urgency,
                orderer=order.orderer,
                orderer_role=order.orderer_role,
                planned_at=self.now() + 3600,
                next_at=self.now() + 3600,
            )
            with self._lock:
                self.new_orders.append(again)

    def _cancel(self, order: Order, reason: str) -> bool:
        order.plan.pop("cancel_at", None)
        response = self.gateway.call(
            "POST",
            f"/api/v1/requests/{order.request_id}/cancel",
            self.orderer(order),
            json={"reason": reason},
        )
        if response.status_code == 200:
            self.finish(order, "cancelled", reason)
            return True
        order.note(self.now(), "cancel refused", str(response.status_code))
        return False

    # -- the staff's daily round -----------------------------------------------------------------------
    def staff_round(self) -> None:
        """Township staff pick up the day's pairing visits and call back the follow-ups."""
        now = self.now()
        for pairing in self.world.pairings:
            page = self.gateway.get_json("/api/v1/visits", ADMIN, pairing_id=pairing["id"], limit=100) or {}
            for visit in page.get("items", []):
                request_id = visit.get("request_id")
                if not request_id or request_id in self.truth.visits_seen:
                    continue
                due = datetime.fromisoformat(visit["due_at"]).timestamp()
                order = Order(
                    key=f"v{len(self.truth.visits_seen):06d}",
                    kind="visit",
                    category="elder_care",
                    township=visit["township"],
                    village=visit["village"],
                    urgency="normal",
                    orderer=pairing["resident"],
                    orderer_role="resident",
                    planned_at=due,
                    request_id=request_id,
                    submitted_at=due,
                    phase="watch",
                    next_at=now,
                )
                order.note(now, "visit due", visit["id"])
                self.truth.visits_seen.append(request_id)
                with self._lock:
                    self.new_orders.append(order)
        page = self.gateway.get_json("/api/v1/followups", ADMIN, status="open", limit=100) or {}
        for followup in page.get("items", []):
            opened = datetime.fromisoformat(followup["opened_at"]).timestamp()
            if now - opened < self.behaviour.followup_hours * 3600:
                continue
            outcome = "resolved" if (followup.get("score") or 5) <= 2 else "satisfied"
            response = self.gateway.call(
                "POST",
                f"/api/v1/followups/{followup['id']}/resolve",
                self.dispatcher(followup["township"]),
                json={"outcome": outcome, "note": "电话回访"},
            )
            if response.status_code == 200:
                self.truth.followups_resolved += 1

    def take_new_orders(self) -> list[Order]:
        with self._lock:
            found, self.new_orders = self.new_orders, []
        return found


def expected_visits(truth: Truth, until: float) -> int:
    """Visits the pairings' schedules make due before `until` (simulated)."""
    count = 0
    for pairing in truth.world.pairings:
        due = datetime.fromisoformat(pairing["first_visit_at"])
        while due.timestamp() < until:
            count += 1
            due += timedelta(days=pairing["every_days"])
    return count
