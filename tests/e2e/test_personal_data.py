"""Personal data through a whole loop: phones in full only where the issue allows, never in a log line
or a metric, sealed in the databases (the order and the copies dispatch and volunteers keep); and account
changes in the admins' audit trail."""

from __future__ import annotations

import random
from typing import Any

import pytest
import requests
from pymongo import MongoClient

from civicloop.demo_accounts import RESIDENT_PHONE
from civicloop.profiles import ROOT
from services import SERVICES
from services.common import personal
from tests.e2e.conftest import Gateway
from tests.e2e.test_accounts_flow import create_account, resident_login
from tests.e2e.test_loop import current_offer, register_volunteers, serve, wait_in_inbox
from tests.support import PROFILE, TEST_PROFILE, bearer, wait_until

pytestmark = pytest.mark.e2e
TOWNSHIP = "凤埔乡"


def _phone() -> str:
    return f"137{random.randrange(10**8):08d}"


def _logs() -> str:
    """Every log line of the stack so far: the services, their workers, the gateway, the supervisor."""
    folder = ROOT / ".run" / TEST_PROFILE / "logs"
    return "\n".join(path.read_text(errors="replace") for path in sorted(folder.glob("*.log")))


def _metrics() -> str:
    """Every service's /metrics, web and worker."""
    texts = []
    for service in SERVICES:
        for key in (f"{service.upper()}_WEB_PORT", f"{service.upper()}_WORKER_METRICS_PORT"):
            texts.append(requests.get(f"http://127.0.0.1:{PROFILE[key]}/metrics", timeout=10).text)
    return "\n".join(texts)


def _stored(service: str, collection: str, document_id: str) -> dict[str, Any]:
    """A document as the service's database holds it."""
    url = f"mongodb://127.0.0.1:{PROFILE[f'{service.upper()}_DB_PORT']}"
    with MongoClient(url, serverSelectionTimeoutMS=5000) as client:
        database = client[f"{PROFILE.get('CIVICLOOP_DB_PREFIX', 'civicloop')}_{service}"]
        stored = database[collection].find_one({"_id": document_id})
    assert stored is not None, (service, collection, document_id)
    return stored


def test_a_loop_leaves_no_phone_number_in_logs_or_metrics_and_none_in_the_clear_at_rest(
    gateway: Gateway, admin: dict[str, str]
):
    login_phone, contact_phone = _phone(), _phone()
    address = f"凤埔村{random.randrange(10**6)}号"
    resident = resident_login(login_phone)  # the code travels through the dev inbox: ?to=<phone>
    (volunteer_id,) = register_volunteers(gateway, admin, 1, township=TOWNSHIP, skills=("tutoring",))
    body = {
        # Study help: no other e2e test orders it or registers its skill, so the offer is ours.
        "category": "study_help",
        "title": "作业辅导",
        "description": f"请回电 {contact_phone}",
        "township": TOWNSHIP,
        "village": "凤埔村",
        "address": address,
        "contact_phone": contact_phone,
    }
    created = resident.call("POST", "/api/v1/requests", json=body)
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    resident_header = {"Authorization": f"Bearer {resident.token}"}

    offered_to, task_id = current_offer(gateway, admin, request_id, 1)
    assert offered_to == volunteer_id
    volunteer = bearer("volunteer", volunteer_id)
    wait_in_inbox(gateway, volunteer, task_id)
    serve(gateway, resident_header, volunteer, request_id, task_id)
    rated = wait_until(
        lambda: (
            resident.call("POST", "/api/v1/ratings", json={"request_id": request_id, "score": 5}).status_code
            == 201
        ),
        what="the rating",
    )
    assert rated

    # In full for the resident and the township's staff; masked for staff of another township's lists.
    staff = bearer("dispatcher", "e2e-fengpu-privacy", township=TOWNSHIP)
    assert gateway.get(f"/api/v1/requests/{request_id}", staff).json()["contact_phone"] == contact_phone
    assert resident.call("GET", f"/api/v1/requests/{request_id}").json()["contact_phone"] == contact_phone

    # At rest: neither the phone nor the address in the requests database's document, nor the address
    # in the copies dispatch (the job) and volunteers (the task) keep (docs/adr/0095).
    stored = _stored("requests", "requests", request_id)
    assert contact_phone not in str(stored["contact_phone"]) and address not in str(stored["address"])
    for service, collection, document_id in (
        ("dispatch", "jobs", request_id),
        ("volunteers", "tasks", task_id),
    ):
        copy = _stored(service, collection, document_id)
        assert copy["address"].startswith(personal.PREFIX), (service, copy["address"])
        # Events waiting in an outbox carry the address to the volunteer until relayed (then removed).
        assert address not in str({key: value for key, value in copy.items() if key != "outbox"}), service

    # Logs and metrics: the loop is there (its request id), its people's phones are not.
    logs = wait_until(lambda: (text := _logs()) and request_id in text and text, what="the loop's log lines")
    metrics = _metrics()
    for phone in (login_phone, contact_phone, RESIDENT_PHONE):
        assert phone not in logs, (
            f"{phone} in a log line: {[line for line in logs.splitlines() if phone in line][:3]}"
        )
        assert phone not in metrics, f"{phone} in /metrics"
    assert address not in logs and address not in metrics


def test_account_changes_are_in_the_audit_trail_for_admins_of_their_township(gateway: Gateway, admin):
    township_admin = create_account(
        gateway,
        admin,
        {
            "username": f"audit.admin.{random.randrange(10**8)}",
            "role": "admin",
            "display_name": "乡管理员",
            "township": TOWNSHIP,
        },
    )
    made = create_account(
        gateway,
        admin,
        {
            "username": f"audit.steward.{random.randrange(10**8)}",
            "role": "steward",
            "display_name": "管家",
            "township": TOWNSHIP,
        },
    )
    changed = gateway.call("PATCH", f"/api/v1/accounts/{made['id']}", admin, json={"active": False})
    assert changed.status_code == 200, changed.text
    trail = gateway.get("/api/v1/audit", admin, params={"subject_id": made["id"]}).json()["items"]
    assert sorted((e["action"], e["actor"]) for e in trail) == [
        ("account.changed", "e2e-admin"),
        ("account.created", "e2e-admin"),
    ]
    change = next(e for e in trail if e["action"] == "account.changed")
    assert change["details"] == {"active": "False"} and change["township"] == TOWNSHIP

    theirs = bearer("admin", township_admin["subject"], township=TOWNSHIP)
    assert gateway.get("/api/v1/audit", theirs, params={"township": "平湖镇"}).status_code == 403
    own = gateway.get("/api/v1/audit", theirs, params={"limit": 100}).json()["items"]
    assert own and all(entry["township"] == TOWNSHIP for entry in own)
    assert gateway.get("/api/v1/audit", bearer("dispatcher", "d", township=TOWNSHIP)).status_code == 403
