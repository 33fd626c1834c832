"""The service's own database: connection, liveness, and the errors that mean it is away."""

from __future__ import annotations

import mongoengine
from pymongo.errors import ConnectionFailure

from services.common import locks
from services.common.settings import Settings

# Raised by pymongo while the database server is away: a reason to wait or answer 503, never a 500.
DatabaseUnavailable = ConnectionFailure


_connected_to: tuple[str, str] | None = None


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


def ping() -> None:
    """Raise when the database server does not answer."""
    mongoengine.get_db().client.admin.command("ping")


def ensure_indexes(*documents: type[mongoengine.Document]) -> None:
    """Create the indexes the models declare (idempotent)."""
    for document in documents:
        document.ensure_indexes()
