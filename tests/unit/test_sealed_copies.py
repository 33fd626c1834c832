"""The copies other stages keep of a resident's personal data are sealed at rest too (docs/adr/0095):
dispatch's job, volunteers' task, pool entry and beneficiary; and their processes need keys to start."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
import structlog

from services import dispatch, requests, volunteers
from services.common import contracts, personal
from services.common.ids import utcnow
from services.common.settings import Settings
from services.common.worker import Worker
from services.dispatch.jobs.domain import Job
from services.dispatch.jobs.models import job_from_document, job_to_document
from services.volunteers.pairing.domain import Beneficiary
from services.volunteers.pairing.models import beneficiary_from_document, beneficiary_to_document
from services.volunteers.pool.models import entry_from_document, entry_to_document
from services.volunteers.tasks.domain import Task, TaskStatus
from services.volunteers.tasks.models import task_from_document, task_to_document

ADDRESS = "桥头村 12 号"
PHONE = "13800000001"
NAME = "林阿婆"


def plain(document: dict[str, Any]) -> str:
    return json.dumps(document, default=str, ensure_ascii=False)


def test_a_dispatch_job_stores_the_address_sealed_and_reads_it_back():
    job = Job(
        id="r1",
        resident_id="res-1",
        category="repairs",
        skills_required=["repairs"],
        township="平湖镇",
        village="桥头村",
        title="修门",
        description="门坏了",
        submitted_at=utcnow(),
        address=ADDRESS,
        contact_phone_masked="138****0001",
    )
    stored = job_to_document(job)
    assert ADDRESS not in plain(stored) and stored["address"].startswith(personal.PREFIX)
    assert stored["contact_phone_masked"] == "138****0001"  # masked already: left as it is
    loaded = job_from_document({"_id": "r1", "version": 1, **stored})
    assert loaded.address == ADDRESS and loaded == job


def test_a_volunteers_task_stores_the_address_sealed_and_reads_it_back():
    now = utcnow()
    task = Task(
        id="t1",
        request_id="r1",
        attempt=1,
        level="village",
        status=TaskStatus.OFFERED,
        resident_id="res-1",
        category="repairs",
        township="平湖镇",
        village="桥头村",
        title="修门",
        description="门坏了",
        offered_at=now,
        deadline=now + timedelta(minutes=15),
        volunteer_id="vol-1",
        address=ADDRESS,
        contact_phone_masked="138****0001",
    )
    stored = task_to_document(task)
    assert ADDRESS not in plain(stored) and stored["address"].startswith(personal.PREFIX)
    loaded = task_from_document({"_id": "t1", "version": 1, **stored})
    assert loaded.address == ADDRESS and loaded == task


def test_a_pool_entry_stores_the_address_sealed_and_reads_it_back():
    pooled = contracts.RequestPooled(
        request_id="r1",
        category="repairs",
        skills_required=["repairs"],
        township="平湖镇",
        village="桥头村",
        title="修门",
        pooled_at=utcnow(),
        address=ADDRESS,
        contact_phone_masked="138****0001",
    )
    stored = entry_to_document(pooled)
    assert stored["_id"] == "r1" and ADDRESS not in plain(stored)
    assert entry_from_document(stored) == pooled


def test_a_paired_elder_is_stored_with_name_address_and_phone_sealed():
    beneficiary = Beneficiary(
        id="b1",
        name=NAME,
        township="平湖镇",
        village="桥头村",
        flags=["living_alone"],
        registered_at=utcnow(),
        address=ADDRESS,
        phone=PHONE,
    )
    stored = beneficiary_to_document(beneficiary)
    text = plain(stored)
    assert NAME not in text and ADDRESS not in text and PHONE not in text
    assert stored["township"] == "平湖镇" and stored["flags"] == ["living_alone"]  # listed by these
    assert beneficiary_from_document(stored) == beneficiary


def test_copies_stored_before_sealing_began_read_as_they_are():
    stored = {"_id": "b0", "name": NAME, "township": "平湖镇", "village": "桥头村", "flags": []}
    old = beneficiary_from_document({**stored, "registered_at": utcnow(), "address": ADDRESS})
    assert old.name == NAME and old.address == ADDRESS


@pytest.mark.parametrize("service", [dispatch, volunteers])
def test_the_web_process_of_a_sealing_service_refuses_to_start_without_keys(service):
    with pytest.raises(personal.PersonalDataError, match="CIVICLOOP_PERSONAL_DATA_KEYS"):
        service.create_app(Settings(service=service.SERVICE, environment="production"))


@pytest.mark.parametrize("service", [requests, dispatch, volunteers])
def test_the_worker_of_a_sealing_service_refuses_to_start_without_keys(service):
    spec = service.worker_spec()
    assert spec.seals_personal_data
    worker = Worker(spec, Settings(service=service.SERVICE, environment="production"))
    try:
        with pytest.raises(personal.PersonalDataError, match="CIVICLOOP_PERSONAL_DATA_KEYS"):
            worker.run()  # before it connects to anything
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers[:] = []
        personal.configure(Settings(service=service.SERVICE, environment="local"))
