"""The bus side by side on one broker: the project's relay and consumer, a bare pika publisher, Celery.

Three paths move the same number of events through quorum queues of one RabbitMQ node (the
profile's own, on its integration vhost), in one run, alternating and repeated:

- project: outbox documents in the real database → OutboxRelay (publisher confirms) → quorum
  queue → EventConsumer (inbox, trivial handler, ack after the write); relay and consumer each in a
  process of their own, as in deployment; timed from the relay's start to the last handled event.
- ceiling: a pika publisher without confirms, persistent messages, timed until the last publish
  returned (nothing is known to have arrived: that is why it is only a ceiling).
- celery: `task.delay` for each event and a Celery worker (acks-late, prefork on every core),
  timed from the first send to the last task run.

    .venv/bin/python bench/bus_bench.py --profile test-h14 --events 3000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # a --before child put older services/ first: keep them first
    sys.path.insert(0, str(ROOT))

from civicloop.profiles import Profile  # noqa: E402

SERVICE = "benchbus"
PIKA_QUEUE = "bench.pika"
CELERY_QUEUE = "bench.celery"


def profile_values(name: str) -> dict[str, str]:
    """The profile's settings (ports, URLs)."""
    return Profile.load(name).values()


def bench_settings(values: dict[str, str]) -> Any:
    """Settings of the bench's own service name, on a database of its own in the requests server."""
    from services.common.settings import Settings

    port = values["REQUESTS_DB_PORT"]
    return Settings(
        service=SERVICE,
        process="bench",
        mongo_url=f"mongodb://127.0.0.1:{port}/bench_bus",
        postgres_url=f"postgresql://postgres@127.0.0.1:{values['PG_PORT']}/ferretdb_requests",
        amqp_url=values["CIVICLOOP_IT_AMQP_URL"],
        environment="local",
        jwt_secret=values.get("CIVICLOOP_JWT_SECRET", "x" * 40),
        log_level="WARNING",
        outbox_poll_seconds=0.01,
        retry_delays=[0.2, 0.5],
    )


def _parcel_document() -> Any:
    """The aggregate kind whose outboxes the relay empties (defined lazily: spawned children too)."""
    import mongoengine

    from services.common.store import AggregateDocument

    class BenchParcel(AggregateDocument):
        meta = {"collection": "bench_parcels", "indexes": ["outbox_pending"]}
        id = mongoengine.StringField(primary_key=True)
        note = mongoengine.StringField()

    return BenchParcel


_PARCEL: Any = None


def parcel() -> Any:
    """The bench's aggregate document class, defined once per process."""
    global _PARCEL
    if _PARCEL is None:
        _PARCEL = _parcel_document()
    return _PARCEL


def sample_event(index: int) -> dict[str, Any]:
    """One catalogue event (request.closed), as an outbox holds it."""
    from services.common.contracts import RequestClosed
    from services.common.events import make_event
    from services.common.ids import new_id, utcnow

    request_id = new_id()
    data = RequestClosed(
        request_id=request_id,
        township="城东街道",
        category="companionship",
        outcome="rated",
        closed_at=utcnow(),
    )
    return make_event(data, producer="bench", correlation_id=request_id)


# -- the project's path ---------------------------------------------------------------------------
def prepare_project(values: dict[str, str], events: int) -> None:
    """Empty the bench database and queue, then store `events` parcels, one event in each outbox."""
    from services.common import db, inbox, locks

    settings = bench_settings(values)
    db.connect_database(settings)
    document = parcel()
    for kind in (document, inbox.ProcessedEvent, locks.DocumentLock):
        kind._get_collection().drop()
    db.ensure_indexes(document, inbox.ProcessedEvent, locks.DocumentLock, settings=settings)
    purge_project_queues(settings)
    rows = []
    for index in range(events):
        event = sample_event(index)
        rows.append(
            {
                "_id": event["correlation_id"],
                "note": "bench",
                "version": 1,
                "outbox": [event],
                "outbox_pending": True,
            }
        )
    collection = document._get_collection()
    for start in range(0, len(rows), 500):
        collection.insert_many(rows[start : start + 500])


def run_relay(values: dict[str, str], done: Any) -> None:
    """Child: relay every outbox, then report the time the last one was confirmed."""
    import threading

    from services.common import db, locks
    from services.common.outbox import OutboxRelay
    from services.common.publisher import ConfirmingPublisher

    settings = bench_settings(values)
    db.connect_database(settings)
    locks.configure(enabled=settings.document_locks)
    relay = OutboxRelay(
        SERVICE, [parcel()], ConfirmingPublisher(settings.amqp_url), batch_size=settings.outbox_batch
    )
    started = time.time()
    relayed = 0
    stop = threading.Event()
    while not stop.is_set():
        count = relay.relay_once()
        relayed += count
        if count == 0 and parcel()._get_collection().count_documents({"outbox_pending": True}) == 0:
            break
    relay.publisher.close()
    done.put(("relay", started, time.time(), relayed))


def run_consumer(values: dict[str, str], expected: int, ready: Any, done: Any) -> None:
    """Child: consume with the project's consumer and a trivial handler until `expected` were handled."""
    from kombu import Connection

    from services.common import db
    from services.common.consumer import EventConsumer
    from services.common.logs import configure_logging

    settings = bench_settings(values)
    configure_logging(SERVICE, "worker", "WARNING")
    db.connect_database(settings)
    handled = 0
    finished: list[float] = []

    def trivial(_envelope: Any, _data: Any) -> None:
        nonlocal handled
        handled += 1
        if handled >= expected:
            finished.append(time.time())
            consumer.should_stop = True

    connection = Connection(settings.amqp_url, heartbeat=30, transport_options={"confirm_publish": True})
    consumer = EventConsumer(connection, SERVICE, {("request.closed", 1): trivial}, settings)
    ready.put("ready")
    consumer.run()
    done.put(("consumer", 0.0, finished[0] if finished else time.time(), handled))


def project_once(values: dict[str, str], events: int) -> dict[str, float]:
    """One timed pass of the project's path; events/s end to end and of the relay alone."""
    prepare_project(values, events)
    ctx = mp.get_context("spawn")
    ready, done = ctx.Queue(), ctx.Queue()
    consumer = ctx.Process(target=run_consumer, args=(values, events, ready, done))
    consumer.start()
    ready.get(timeout=60)
    time.sleep(1.0)  # the consumer's basic.consume is in place before the first event arrives
    relay = ctx.Process(target=run_relay, args=(values, done))
    relay.start()
    results = {}
    for _ in range(2):
        kind, started, ended, count = done.get(timeout=600)
        results[kind] = (started, ended, count)
    relay.join(30)
    consumer.join(30)
    started = results["relay"][0]
    return {
        "events_per_second": events / (results["consumer"][1] - started),
        "relay_events_per_second": results["relay"][2] / (results["relay"][1] - started),
        "handled": results["consumer"][2],
    }


# -- the floors: what the reliability rules alone cost on this broker and this database server ------
def confirms_once(values: dict[str, str], events: int) -> dict[str, float]:
    """The project's publisher alone, no database: batches of the relay's size, each confirmed; events/s.

    No event may leave an outbox before the broker confirmed it (DESIGN.md), so no relay can beat this.
    """
    from services.common.publisher import ConfirmingPublisher

    settings = bench_settings(values)
    purge_project_queues(settings)
    batch = [sample_event(index) for index in range(events)]
    publisher = ConfirmingPublisher(settings.amqp_url)
    started = time.perf_counter()
    confirmed = 0
    for start in range(0, events, settings.outbox_batch):
        confirmed += len(publisher.publish_batch(batch[start : start + settings.outbox_batch]))
    elapsed = time.perf_counter() - started
    publisher.close()
    purge_project_queues(settings)
    return {"events_per_second": confirmed / elapsed}


def database_once(values: dict[str, str], events: int) -> dict[str, float]:
    """The database writes the rules need per event, no broker: events/s.

    An event leaves its aggregate's outbox by one update of that document (the outbox lives in the
    document so that a change and its events are one write; the wire server has no multi-document
    transaction and scans the whole table for an `$in`, ADR 0061), four in flight as the relay does;
    the consumer records handled ids before acking, here in one insert per prefetch-full of events,
    as the project's consumer does since its batch record (ADR 0063).
    """
    from concurrent.futures import ThreadPoolExecutor

    from services.common import db, inbox
    from services.common.ids import real_utcnow

    prepare_project(values, events)
    settings = bench_settings(values)
    db.connect_database(settings)
    documents = parcel()._get_collection()
    records = inbox.ProcessedEvent._get_collection()
    ids = [row["_id"] for row in documents.find({"outbox_pending": True}, {"_id": 1})]
    prefetch = settings.amqp_prefetch

    def clear(document_id: str) -> None:
        documents.update_one(
            {"_id": document_id, "version": 1}, {"$set": {"outbox": [], "outbox_pending": False}}
        )

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(clear, ids))
    now = real_utcnow()
    for start in range(0, len(ids), prefetch):
        records.insert_many(
            [
                {"_id": f"e-{i}", "type": "request.closed", "handled_at": now}
                for i in ids[start : start + prefetch]
            ],
            ordered=False,
        )
    elapsed = time.perf_counter() - started
    return {"events_per_second": len(ids) / elapsed}


def purge_project_queues(settings: Any) -> None:
    """Declare the bench service's queues and empty them."""
    from kombu import Connection

    from services.common.events import routing_key
    from services.common.topology import service_queues

    with Connection(settings.amqp_url) as connection:
        for queue in service_queues(SERVICE, [routing_key("request.closed", 1)], settings.delivery_limit, 2):
            with connection.channel() as channel:
                bound = queue.bind(channel)
                bound.declare()
                bound.purge()


# -- the ceiling: pika without confirms -----------------------------------------------------------
def pika_once(values: dict[str, str], events: int) -> dict[str, float]:
    """Publish `events` persistent messages to a quorum queue without confirms; events/s."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(values["CIVICLOOP_IT_AMQP_URL"]))
    channel = connection.channel()
    channel.queue_declare(PIKA_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_purge(PIKA_QUEUE)
    bodies = [json.dumps(sample_event(i), ensure_ascii=False).encode() for i in range(events)]
    properties = pika.BasicProperties(content_type="application/json", delivery_mode=2)
    started = time.perf_counter()
    for body in bodies:
        channel.basic_publish("", PIKA_QUEUE, body, properties)
    elapsed = time.perf_counter() - started
    channel.queue_purge(PIKA_QUEUE)
    connection.close()
    return {"events_per_second": events / elapsed}


# -- the peer: Celery with acks-late --------------------------------------------------------------
CELERY_APP = '''
import os
from celery import Celery
from kombu import Queue

app = Celery("benchcelery", broker=os.environ["BENCH_BROKER"])
app.conf.update(
    task_acks_late=True,
    task_default_queue="{queue}",
    task_queues=[Queue("{queue}", queue_arguments={{"x-queue-type": "quorum"}}, durable=True)],
    worker_detect_quorum_queues=True,
    task_ignore_result=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)
DONE = os.environ["BENCH_DONE_FILE"]


@app.task(name="bench.noop")
def noop(index):
    """The trivial task: one byte appended, so the bench can count the runs."""
    fd = os.open(DONE, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, b".")
    finally:
        os.close(fd)
'''


def celery_once(values: dict[str, str], events: int) -> dict[str, float]:
    """Send `events` tasks and time until a Celery worker (acks-late) ran them all; events/s."""
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "benchcelery.py").write_text(CELERY_APP.format(queue=CELERY_QUEUE))
        done_file = Path(folder, "done")
        env = {
            **os.environ,
            "BENCH_BROKER": values["CIVICLOOP_IT_AMQP_URL"],
            "BENCH_DONE_FILE": str(done_file),
        }
        env["PYTHONPATH"] = folder
        sys.path.insert(0, folder)
        os.environ.update({"BENCH_BROKER": env["BENCH_BROKER"], "BENCH_DONE_FILE": str(done_file)})
        import importlib

        module = importlib.import_module("benchcelery")
        module = importlib.reload(module)
        celery_bin = Path(sys.executable).parent / "celery"
        worker = subprocess.Popen(
            [
                str(celery_bin),
                "-A",
                "benchcelery",
                "worker",
                "-Q",
                CELERY_QUEUE,
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            env=env,
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            module.app.control.purge()
            # Warm up: the worker is consuming once one task ran.
            module.noop.delay(-1)
            deadline = time.time() + 60
            while not done_file.exists() or done_file.stat().st_size < 1:
                if time.time() > deadline:
                    raise RuntimeError("the Celery worker did not start")
                time.sleep(0.05)
            done_file.write_bytes(b"")
            started = time.perf_counter()
            for index in range(events):
                module.noop.delay(index)
            while done_file.stat().st_size < events:
                time.sleep(0.005)
            elapsed = time.perf_counter() - started
        finally:
            worker.terminate()
            worker.wait(30)
            sys.path.remove(folder)
    return {"events_per_second": events / elapsed}


def checkout(revision: str) -> Path:
    """services/ as of `revision`, unpacked into a temporary folder (removed at exit)."""
    import atexit
    import shutil

    folder = Path(tempfile.mkdtemp(prefix="bus-before-"))
    atexit.register(shutil.rmtree, folder, True)
    archive = subprocess.run(
        ["git", "archive", revision, "services"], cwd=ROOT, check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def project_before(code: Path, values: dict[str, str], events: int) -> dict[str, float]:
    """The project's path with the older services/ (a child process: modules load once per process)."""
    script = (
        "import json, sys; "
        f"sys.path.insert(0, {str(code)!r}); sys.path.insert(1, {str(ROOT)!r}); "
        "from bench import bus_bench as b; "
        f"print(json.dumps(b.project_once(b.profile_values({values['CIVICLOOP_PROFILE']!r}), {events})))"
    )
    done = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run the three paths back to back, alternating, and write bench-results/bus.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=os.environ.get("CIVICLOOP_TEST_PROFILE", "test"))
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--only", choices=["project", "pika", "celery", "confirms", "database"], action="append"
    )
    parser.add_argument(
        "--before",
        metavar="REV",
        action="append",
        default=[],
        help="also run the project's path with services/ as of this git revision (repeatable)",
    )
    parser.add_argument("--out", default=str(ROOT / "bench-results" / "bus.json"))
    args = parser.parse_args()
    values = profile_values(args.profile)
    paths = {
        "project": project_once,
        "pika": pika_once,
        "celery": celery_once,
        "confirms": confirms_once,
        "database": database_once,
    }
    chosen = args.only or list(paths)
    # The first revision runs as "before", any further one as "before@REV".
    names = {rev: "before" if index == 0 else f"before@{rev}" for index, rev in enumerate(args.before)}
    for rev, name in names.items():
        code = checkout(rev)
        paths[name] = lambda values, events, code=code: project_before(code, values, events)
        chosen = [*chosen, name]
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in chosen}
    for repeat in range(args.repeats):
        # Alternate the order so drift on the shared machine does not favour one path.
        order = chosen if repeat % 2 == 0 else list(reversed(chosen))
        for name in order:
            result = paths[name](values, args.events)
            runs[name].append(result)
            figures = json.dumps({key: round(value, 1) for key, value in result.items()})
            rate = result["events_per_second"]
            print(f"[{repeat + 1}/{args.repeats}] {name:8s} {rate:8.0f} events/s {figures}", flush=True)
    medians = {name: statistics.median(r["events_per_second"] for r in found) for name, found in runs.items()}
    summary: dict[str, Any] = {
        "events": args.events,
        "repeats": args.repeats,
        "median_events_per_second": {k: round(v, 1) for k, v in medians.items()},
        "runs": runs,
        "command": (
            f".venv/bin/python bench/bus_bench.py --profile {args.profile}"
            f" --events {args.events} --repeats {args.repeats}"
        ),
    }
    if "project" in medians and "pika" in medians:
        summary["project_over_ceiling"] = round(medians["project"] / medians["pika"], 3)
    for floor in ("confirms", "database"):
        if floor in medians and "pika" in medians:
            summary[f"{floor}_floor_over_ceiling"] = round(medians[floor] / medians["pika"], 3)
    if "project" in medians and "celery" in medians:
        summary["project_over_celery"] = round(medians["project"] / medians["celery"], 2)
    if "before" in medians:
        summary["project_over_before"] = round(medians["project"] / medians["before"], 2)
        summary["before_revision"] = args.before[0]
    for rev, name in names.items():
        summary["command"] += f" --before {rev}"
        if name != "before" and name in medians:
            summary.setdefault("project_over_revisions", {})[rev] = round(
                medians["project"] / medians[name], 2
            )
    if "project" in runs:
        summary["median_relay_events_per_second"] = round(
            statistics.median(r["relay_events_per_second"] for r in runs["project"]), 1
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
