"""The accounts service: logins and sessions, the signing keys, the notifier and live changes."""

from __future__ import annotations

import threading

from flask_openapi3 import OpenAPI

from services.common.settings import Settings, load_settings
from services.common.worker import PeriodicJob, WorkerSpec

SERVICE = "accounts"


def create_app(settings: Settings | None = None) -> OpenAPI:
    """The web application of the accounts service."""
    from services.accounts.admin.api import admin_api
    from services.accounts.audit.api import audit_api
    from services.accounts.codes.api import codes_api
    from services.accounts.keys.api import keys_api
    from services.accounts.keys.usecases import EXTENSION, keyring_source, public_key
    from services.accounts.live.api import HUB, live_api
    from services.accounts.live.usecases import LiveHub
    from services.accounts.notifications.api import dev_inbox_api, notifications_api
    from services.accounts.sessions.api import auth_api, check_api
    from services.common.app import create_service_app
    from services.common.auth import TokenVerifier

    settings = settings or load_settings(SERVICE)
    blueprints = [keys_api, auth_api, codes_api, check_api, admin_api, audit_api, notifications_api, live_api]
    if settings.is_local:
        blueprints.append(dev_inbox_api)
    keyring = keyring_source(settings)
    # This service verifies its own tokens from its keyring (no fetch of its own JWKS); in local
    # profiles it also takes the development secret's tokens, as every service does there.
    app = create_service_app(
        SERVICE,
        settings,
        blueprints,
        description="Logins and sessions, the signing keys (JWKS), notifications and live changes.",
        verifier=TokenVerifier(settings, keys=public_key),
    )
    app.extensions[EXTENSION] = keyring
    app.extensions[HUB] = LiveHub(settings)
    _ensure_indexes()
    return app


def _documents() -> list[type]:
    from services.accounts.audit.models import AuditEntryDocument
    from services.accounts.codes.models import LoginCodeDocument
    from services.accounts.notifications.models import (
        ChannelQueueDocument,
        DevInboxDocument,
        NoticeDocument,
        PreferencesDocument,
        RequestOwnerDocument,
    )
    from services.accounts.people.models import (
        AccountDocument,
        KnownTeamDocument,
        KnownVolunteerDocument,
        LoginFailureDocument,
    )
    from services.accounts.sessions.models import SessionDocument

    return [
        AccountDocument,
        LoginFailureDocument,
        KnownVolunteerDocument,
        KnownTeamDocument,
        SessionDocument,
        LoginCodeDocument,
        NoticeDocument,
        ChannelQueueDocument,
        PreferencesDocument,
        RequestOwnerDocument,
        DevInboxDocument,
        AuditEntryDocument,
    ]


def _ensure_indexes() -> None:
    # The unique login index must exist before the first account is made, which may be before the
    # worker has started; making it twice is harmless.
    from services.common import db
    from services.common.logs import get_logger

    def make() -> None:
        try:
            db.ensure_indexes(*_documents())
        except Exception as error:
            get_logger(__name__).warning("accounts.indexes_not_made", error=repr(error)[:200])

    threading.Thread(target=make, name="accounts-indexes", daemon=True).start()


def worker_spec(settings: Settings | None = None) -> WorkerSpec:
    """What the accounts worker consumes (the notifier; the volunteers and teams it links) and sweeps."""
    from services.accounts.audit import usecases as audit
    from services.accounts.notifications.handlers import handlers as notifier_handlers
    from services.accounts.notifications.usecases import Sweeper
    from services.accounts.people import usecases as people
    from services.common.consumer import combine_handlers

    settings = settings or load_settings(SERVICE)
    directory = {
        ("volunteer.registered", 1): people.on_volunteer,
        ("volunteer.updated", 1): people.on_volunteer,
        ("team.updated", 1): people.on_team_updated,
        # The audit trail of every stage's staff actions (docs/adr/0096).
        ("audit.recorded", 1): audit.on_audit_recorded,
    }
    return WorkerSpec(
        service=SERVICE,
        handlers=combine_handlers(directory, notifier_handlers(settings)),
        outbox_documents=[],
        other_documents=_documents(),
        periodic=[
            PeriodicJob(
                "deliver-notifications", settings.notify_sweep_seconds, Sweeper(settings), follows_clock=True
            )
        ],
    )
