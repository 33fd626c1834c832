"""The service's own database: connection, liveness, and the errors that mean it is away."""

from __future__ import annotations

import time

import mongoengine
from pymongo.errors import ConnectionFailure, OperationFailure
from pymongo.synchronous.topology import Topology

from services.common import locks
from services.common.logs import get_logger
from services.common.settings import Settings

log = get_logger(__name__)

# Raised by pymongo while the database server is away: a reason to wait or answer 503, never a 500.
DatabaseUnavailable = ConnectionFailure


# What a MongoDB-wire server answers when the storage behind it is away (FerretDB with PostgreSQL
# stopped or still recovering): the command was not run, exactly as if the server had not answered.
BACKEND_AWAY = (
    "failed to connect to",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is not yet accepting connections",
    "SQLSTATE 57P03",
    "connection refused",
)


def backend_unavailable(error: BaseException) -> bool:
    """Whether an error means the database's own storage is away (wait or answer 503, never 500)."""
    if isinstance(error, ConnectionFailure):
        return True
    if not isinstance(error, OperationFailure):
        return False
    text = str(error)
    return any(marker in text for marker in BACKEND_AWAY)


_connected_to: tuple[str, str] | None = None
# When the server was last found away, calls fail fast for a moment instead of each waiting out the
# server-selection timeout: the web threads stay free, so /readyz and 503s answer at once.
FAIL_FAST_SECONDS = 2.0
_unavailable_until = 0.0


def _server_selection_within_the_client_bound() -> None:
    """Under `pymongo.timeout` (each request's deadline) pymongo waits the whole remaining time for a
    server and ignores serverSelectionTimeoutMS: with the database away every web thread was held for
    the full 20 s, and even /readyz found none free. Keep the smaller bound, so an absent server is
    known in db_timeout_ms and the fail-fast path (`recently_unavailable`) takes over."""
    original = Topology.get_server_selection_timeout
    if getattr(original, "within_client_bound", False):
        return

    def bounded(self: Topology) -> float:
        return min(original(self), self._settings.server_selection_timeout)

    bounded.within_client_bound = True  # type: ignore[attr-defined]
    Topology.get_server_selection_timeout = bounded  # type: ignore[method-assign]


_server_selection_within_the_client_bound()


def connect_database(settings: Settings) -> None:
    """Connect mongoengine's default alias to the service's own database (once per process)."""
    global _connected_to
    target = (settings.mongo_url, settings.database_name)
    if _connected_to == target:
        return
    mongoengine.disconnect()
    mongoengine.connect(
        host=settings.mongo_url,
        db=settings.database_name,
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=settings.db_timeout_ms,
        connectTimeoutMS=settings.db_timeout_ms,
        socketTimeoutMS=max(10_000, settings.db_timeout_ms),
        # Writes that fail are handled by our own idempotent retries; the wire server is standalone.
        retryWrites=False,
        appname=f"civicloop-{settings.service}-{settings.process}",
    )
    _connected_to = target
    locks.configure(enabled=settings.document_locks, ttl_seconds=settings.lock_ttl_seconds)


def mark_unavailable() -> None:
    """The server did not answer: fail fast for FAIL_FAST_SECONDS."""
    global _unavailable_until
    _unavailable_until = time.monotonic() + FAIL_FAST_SECONDS


def forget_unavailable() -> None:
    """Clear the fail-fast window (a test that just brought the server back)."""
    global _unavailable_until
    _unavailable_until = 0.0


def recently_unavailable() -> bool:
    """Whether the server was found away within the last FAIL_FAST_SECONDS."""
    return time.monotonic() < _unavailable_until


def ping() -> None:
    """Raise when the database server does not answer."""
    mongoengine.get_db().client.admin.command("ping")


def ensure_indexes(*documents: type[mongoengine.Document], settings: Settings | None = None) -> None:
    """Create the indexes the models declare (idempotent), also as indexes FerretDB's SQL can use."""
    for document in documents:
        document.ensure_indexes()
    # Only where a profile names the PostgreSQL database behind the wire server (docs/adr/0070);
    # on MongoDB the declared indexes are all there is.
    if settings is None or not settings.postgres_url:
        return
    from services.common import pgindexes

    names = [d._get_collection_name() for d in documents if not d._meta.get("abstract")]
    pgindexes.ensure_collections(mongoengine.get_db(), names)
    try:
        report = pgindexes.sync(settings.postgres_url, settings.database_name, documents)
    except pgindexes.psycopg.Error as error:
        # The service works without them, only slower: say so loudly and carry on.
        log.warning("indexes.not_synced", error=str(error)[:300])
        return
    if report.created or report.dropped:
        log.info("indexes.synced", created=report.created, dropped=report.dropped)
