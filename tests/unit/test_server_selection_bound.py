"""A request's deadline does not stretch pymongo's wait for an absent server (services/common/db.py)."""

from __future__ import annotations

import socket

import pymongo
import pytest
from pymongo.errors import ServerSelectionTimeoutError

import services.common.db  # noqa: F401  (installs the bound)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_server_selection_keeps_the_clients_bound_under_a_longer_operation_timeout():
    client = pymongo.MongoClient(f"mongodb://127.0.0.1:{_closed_port()}", serverSelectionTimeoutMS=300)
    try:
        with pymongo.timeout(30), pytest.raises(ServerSelectionTimeoutError) as raised:
            client.civicloop.probe.find_one({})
        # pymongo names the bound it waited for: the client's 0.3 s, not the 30 s of the deadline.
        assert "Timeout: 0.3s" in str(raised.value)
    finally:
        client.close()


def test_a_shorter_operation_timeout_still_wins():
    client = pymongo.MongoClient(f"mongodb://127.0.0.1:{_closed_port()}", serverSelectionTimeoutMS=30_000)
    try:
        with pymongo.timeout(0.2), pytest.raises(ServerSelectionTimeoutError) as raised:
            client.civicloop.probe.find_one({})
        assert "Timeout: 0.2s" in str(raised.value) or "Timeout: 0.1" in str(raised.value)
    finally:
        client.close()
