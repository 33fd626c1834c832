"""Every statement the database servers run is index-backed once the county's history is stored.

While loops run through the gateway (all four services, their workers restarted so their start-up
and periodic jobs are in it too), PostgreSQL logs every statement with its parameters. Then the
county's history is stored straight into the databases (bench/growth_load.py: 100,000 requests
with their tasks, jobs, ratings, hours and inbox entries), and each distinct statement shape is
EXPLAINed with the parameters it really ran with, under the cluster's own settings. A sequential
scan of a large table (or a statement with no WHERE on one), or an index scan that selects more
than 1,000 rows of one, is an offender: its cost grows with history.

`make test` runs it (CIVICLOOP_STATEMENT_AUDIT=1); other runs of tests/e2e skip it, since storing
the history takes minutes:
`CIVICLOOP_STATEMENT_AUDIT=1 CIVICLOOP_TEST_PROFILE=... pytest tests/e2e/test_statements.py`.
The verdicts land in bench-results/statements.json; docs/storage-offenders.md lists phase 1's offenders.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from bench import growth_drive as drive
from bench import growth_load as load
from services.common import pgindexes
from tests.e2e.conftest import SERVICES, stack
from tests.support import PROFILE, TEST_PROFILE, postgres_url

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not os.environ.get("CIVICLOOP_STATEMENT_AUDIT"),
        reason="make test runs it: CIVICLOOP_STATEMENT_AUDIT=1",
    ),
]
REQUESTS_STORED = 100_000
# Spread so that four weeks of history, and so a week of inbox entries, hold 100,000 requests.
PER_DAY = REQUESTS_STORED / 28
# A table this large grows with history or with the county's people (3,000 volunteers).
LARGE_ROWS = 2_000
# An index scan that selects more rows than this reads a share of history, which grows with it too.
MANY_ROWS = 1_000
# Longer than every periodic job's period (the lease sweep's is 60 s).
QUIET_SECONDS = 65
ROOT = drive.ROOT
LOG = ROOT / ".run" / TEST_PROFILE / "logs" / "postgres.log"
REPORT = ROOT / "bench-results" / "statements.json"
LINE = re.compile(r"^\S+ \S+ \S+ \[(?P<pid>\d+)\] (?P<db>\S*) (?P<level>[A-Z]+):  (?P<text>.*)$")
PARAM = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")
FIELD = re.compile(r"_jsonb->\$(\d+)")
TABLE = re.compile(r'(?:FROM|UPDATE|INTO) "(?P<schema>[^"]+)"\."(?P<table>[^"]+)"')
# What common's own mechanisms ask: the store and the leases by id, the relay by its flag, the
# inbox, the leases and the sweeps' cursors in their own tables.
COMMON_TABLES = ("inbox", "locks", "sweeps")
COMMON_FILTERS = ({"_id"}, {"_id", "version"}, {"_id", "lease"}, {"outbox_pending"})


@dataclass
class Statement:
    """One statement shape as the server ran it, with the parameters of its runs."""

    database: str
    sql: str
    runs: list[list[str]] = field(default_factory=list)

    @property
    def table(self) -> str:
        found = TABLE.search(self.sql)
        return found["table"] if found else ""

    @property
    def schema(self) -> str:
        found = TABLE.search(self.sql)
        return found["schema"] if found else ""

    def fields(self, params: list[str]) -> tuple[str, ...]:
        """The field names the statement compares (FerretDB sends them as parameters)."""
        names = []
        for number in FIELD.findall(self.sql):
            value = params[int(number) - 1]
            names.append(value.strip("'"))
        if "WHERE _jsonb->'_id' = " in self.sql or "WHERE _jsonb->'_id' IN" in self.sql:
            names.append("_id")
        return tuple(sorted(set(names)))


def log_position() -> tuple[int, int]:
    """(inode, size) of the PostgreSQL log now."""
    status = LOG.stat()
    return status.st_ino, status.st_size


def read_log_since(position: tuple[int, int]) -> list[str]:
    """Lines written since `position`, across one rotation (supervisord keeps postgres.log.1)."""
    inode, offset = position
    text = ""
    rotated = LOG.with_name(LOG.name + ".1")
    if LOG.stat().st_ino != inode and rotated.exists() and rotated.stat().st_ino == inode:
        with rotated.open("rb") as old:
            old.seek(offset)
            text += old.read().decode(errors="replace")
        offset = 0
    with LOG.open("rb") as current:
        current.seek(offset)
        text += current.read().decode(errors="replace")
    return text.splitlines()


def parse(lines: list[str]) -> dict[tuple[str, str], Statement]:
    """Statements of the services' schemas, with the parameters each run had."""
    found: dict[tuple[str, str], Statement] = {}
    pending: dict[str, Statement] = {}
    prefix = f"{PROFILE['CIVICLOOP_DB_PREFIX']}_"
    for line in lines:
        match = LINE.match(line)
        if not match:
            continue
        text = match["text"]
        if match["level"] == "DETAIL" and text.startswith("parameters: "):
            statement = pending.pop(match["pid"], None)
            if statement is not None:
                statement.runs.append(
                    [value for _, value in sorted(PARAM.findall(text), key=lambda p: int(p[0]))]
                )
            continue
        sql = re.sub(r"^(execute [^:]+|statement): ", "", text)
        if sql == text or not re.match(r"(SELECT|UPDATE|DELETE)\b", sql.lstrip()):
            continue
        statement_table = TABLE.search(sql)
        if not statement_table or not statement_table["schema"].startswith(prefix):
            continue
        if statement_table["table"].startswith("_ferretdb"):
            continue
        statement = found.setdefault((match["db"], sql), Statement(match["db"], sql))
        if "$1" in sql:
            pending[match["pid"]] = statement
        else:
            statement.runs.append([])
    return found


def scans(plan: dict[str, Any]) -> Iterator[tuple[str, str, float]]:
    """(node type, relation, rows the planner expects) of each node of a plan that reads a table."""
    if "Relation Name" in plan:
        yield plan["Node Type"], plan["Relation Name"], plan.get("Plan Rows", 0)
    for child in plan.get("Plans", []):
        yield from scans(child)


def explain(connection: psycopg.Connection, statement: Statement, params: list[str]) -> dict[str, Any]:
    """The plan PostgreSQL makes for the statement with these parameters, under the cluster settings."""
    connection.execute("DEALLOCATE ALL")
    connection.execute(f"PREPARE audited AS {statement.sql}")
    arguments = f"({', '.join(params)})" if params else ""
    row = connection.execute(f"EXPLAIN (FORMAT JSON) EXECUTE audited{arguments}").fetchone()
    return row[0][0]["Plan"]


def table_rows(connection: psycopg.Connection) -> dict[tuple[str, str], float]:
    """(schema, table) → rows the planner believes it has."""
    rows = connection.execute(
        "SELECT n.nspname, c.relname, c.reltuples FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'"
    ).fetchall()
    return {(schema, table): tuples for schema, table, tuples in rows}


def admin_execute(sql: str) -> None:
    """Run a statement on the profile's cluster as its superuser."""
    with psycopg.connect(postgres_url("requests"), autocommit=True) as connection:
        connection.execute(sql)
        connection.execute("SELECT pg_reload_conf()")


def drive_loops(gw: drive.Gateway) -> list[str]:
    """Loops and reads through the gateway that reach every service."""
    drive.register_volunteers(gw, 4)
    loops = [drive.run_loop(gw, f"audit-resident-{n}", decline_first=n % 2 == 1) for n in range(4)]
    admin = gw.who("admin", "audit-admin")
    resident = gw.who("resident", "audit-resident-0")
    for path, who in (
        (f"/api/v1/requests/{loops[0]['request_id']}", resident),
        ("/api/v1/requests", resident),
        ("/api/v1/dispatch/queue", admin),
        (f"/api/v1/dispatch/{loops[0]['request_id']}", admin),
        ("/api/v1/stats/rollout", admin),
        (f"/api/v1/volunteers/{loops[0]['volunteer_id']}/hours", admin),
        ("/api/v1/tasks", gw.who("volunteer", loops[0]["volunteer_id"])),
        ("/api/v1/pool", gw.who("volunteer", loops[0]["volunteer_id"])),
        (f"/api/v1/ratings/{loops[0]['request_id']}", resident),
        ("/api/v1/followups", admin),
    ):
        gw.call("GET", path, who)
    return [loop["request_id"] for loop in loops]


@pytest.fixture(scope="module")
def audit(gateway) -> dict[str, Any]:
    """Record the statements of loops and periodic jobs, store the history, explain every shape."""
    settings = drive.profile(TEST_PROFILE)
    gw = drive.gateway_of(settings)
    admin_execute("ALTER SYSTEM SET log_statement = 'all'")
    position = log_position()
    try:
        workers = [f"services:{service}-worker" for service in SERVICES]
        stack("ctl", "restart", *workers)
        time.sleep(5)
        request_ids = drive_loops(gw)
        time.sleep(QUIET_SECONDS)
    finally:
        admin_execute("ALTER SYSTEM RESET log_statement")
    statements = parse(read_log_since(position))

    # The services are not needed any more, and their scans of history would slow the loading down.
    stack("ctl", "stop", "services:*")
    databases = {
        service: client[drive.database_name(settings, service)]
        for service, client in load.clients(drive.db_ports(settings)).items()
    }
    templates = load.capture(databases, request_ids)
    county = load.County()
    volunteer = next(iter(templates[0].volunteer_ids))
    rng = random.Random(11)
    load.load_volunteers(databases, load.capture_volunteer(databases, volunteer), county, rng)
    sinks = load.copy_sinks(PROFILE["PG_PORT"], {s: drive.database_name(settings, s) for s in SERVICES})
    load.grow(
        databases, templates, county, REQUESTS_STORED, datetime.now(UTC), rng, per_day=PER_DAY, sinks=sinks
    )
    for sink in sinks.values():
        sink.close()

    results = []
    for service in SERVICES:
        # prepare_threshold=None: psycopg prepares nothing of its own, so DEALLOCATE ALL is safe.
        with psycopg.connect(postgres_url(service), autocommit=True, prepare_threshold=None) as connection:
            connection.execute("ANALYZE")
            rows = table_rows(connection)
            collections = {
                table: collection
                for collection, table in pgindexes.table_names(
                    postgres_url(service), drive.database_name(settings, service)
                ).items()
            }
            for (database, _), statement in statements.items():
                if database != f"ferretdb_{service}":
                    continue
                results.extend(judge(connection, statement, rows, collections))
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    return {"results": results, "statements": statements}


def judge(
    connection: psycopg.Connection,
    statement: Statement,
    rows: dict[tuple[str, str], float],
    collections: dict[str, str],
) -> list[dict[str, Any]]:
    """One verdict per distinct set of compared fields of the statement."""
    verdicts: dict[tuple[str, ...], dict[str, Any]] = {}
    for params in statement.runs:
        fields = statement.fields(params)
        verdict = verdicts.setdefault(
            fields,
            {
                "collection": collections.get(statement.table, statement.table),
                "database": statement.database,
                "kind": statement.sql.split()[0],
                "fields": list(fields),
                "sql": statement.sql,
                "runs": 0,
                "example": [p[:120] for p in params],
                "table_rows": rows.get((statement.schema, statement.table), 0),
            },
        )
        verdict["runs"] += 1
    for fields, verdict in verdicts.items():
        params = next(p for p in statement.runs if statement.fields(p) == fields)
        plan = explain(connection, statement, params)
        large = [
            (node, rows_expected)
            for node, relation, rows_expected in scans(plan)
            if rows.get((statement.schema, relation), 0) >= LARGE_ROWS
        ]
        verdict["plan"] = plan.get("Node Type")
        verdict["rows_expected"] = max((expected for _, expected in large), default=0)
        verdict["seq_scan_of_large_table"] = any(node == "Seq Scan" for node, _ in large)
        verdict["reads_many_rows"] = verdict["rows_expected"] > MANY_ROWS
        verdict["no_where"] = " WHERE " not in statement.sql
        verdict["common"] = verdict["collection"] in COMMON_TABLES or set(fields) in COMMON_FILTERS
    return list(verdicts.values())


def offenders(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Statements that scan a large table, or select more than MANY_ROWS of one through an index."""
    return [r for r in results if r["seq_scan_of_large_table"] or r["reads_many_rows"]]


def describe(rows: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  {r['database'].removeprefix('ferretdb_')}.{r['collection']} {r['kind']}"
        f" on {r['fields'] or 'no WHERE'}"
        f" ({r['runs']} runs, {int(r['table_rows']):,} rows, {r['plan']}, ~{int(r['rows_expected']):,} read)"
        for r in sorted(rows, key=lambda r: (r["database"], r["collection"], r["fields"]))
    )


def test_the_recording_saw_every_service_and_its_periodic_jobs(audit):
    databases = {statement.database for statement in audit["statements"].values()}
    assert databases == {f"ferretdb_{service}" for service in SERVICES}
    collections = {r["collection"] for r in audit["results"]}
    assert {"inbox", "locks", "sweeps", "requests", "jobs", "tasks", "ratings"} <= collections
    large = {r["collection"] for r in audit["results"] if r["table_rows"] >= REQUESTS_STORED}
    assert {"requests", "jobs", "tasks", "ratings"} <= large


def test_commons_own_statements_are_index_backed(audit):
    """The store by id, the leases, the relay, the inbox and the sweeps: never a scan of history."""
    common = [r for r in audit["results"] if r["common"]]
    assert common, "no statement of common's mechanisms was recorded"
    assert not offenders(common), "common's statements that scan:\n" + describe(offenders(common))


def test_every_statement_is_index_backed(audit):
    """Every service's statements, not only common's: no scan of history (docs/adr/0071)."""
    found = offenders(audit["results"])
    assert not found, f"{len(found)} statement shapes scan a large table:\n" + describe(found)
