"""Where one `POST /api/v1/requests` spends its time: round trips by command, and a cProfile.

In process (Flask's test client), one thread, on the profile's requests database server and a
database of its own; run with the profile's infrastructure up (`deploy/local/stack.sh infra P`).

    .venv/bin/python bench/write_path_profile.py --profile bench-throughput --posts 50
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pymongo import monitoring  # noqa: E402

from civicloop.profiles import Profile  # noqa: E402


class RoundTrips(monitoring.CommandListener):
    """Counts and times the commands sent to the database server."""

    def __init__(self) -> None:
        self.count: collections.Counter[str] = collections.Counter()
        self.micros: collections.Counter[str] = collections.Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self.count[event.command_name] += 1
        self.micros[event.command_name] += event.duration_micros

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self.count[f"{event.command_name} (failed)"] += 1


def main() -> None:
    """Post `--posts` orders after a warm-up; print round trips per post and the profile's top."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="bench-throughput")
    parser.add_argument("--posts", type=int, default=50)
    args = parser.parse_args()
    trips = RoundTrips()
    monitoring.register(trips)
    values = Profile.load(args.profile).values()
    os.environ.update(values)
    os.environ.update(
        {
            "REQUESTS_MONGO_URL": f"mongodb://127.0.0.1:{values['REQUESTS_DB_PORT']}/bench_write_profile",
            "REQUESTS_POSTGRES_URL": f"postgresql://postgres@127.0.0.1:{values['PG_PORT']}/ferretdb_requests",
            "CIVICLOOP_AMQP_URL": values["CIVICLOOP_IT_AMQP_URL"],
            "CIVICLOOP_CHECK_RESPONSES": "false",
            "CIVICLOOP_JWT_JWKS_URL": "",
            "CIVICLOOP_LOG_LEVEL": "WARNING",
        }
    )
    from bench.write_path_bench import BODY
    from services.common.auth import issue_token
    from services.requests import create_app

    client = create_app().test_client()
    token = issue_token(values["CIVICLOOP_JWT_SECRET"], sub="bench-resident-1", role="resident")

    def post() -> None:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
        answer = client.post("/api/v1/requests", json=BODY, headers=headers)
        if answer.status_code != 201:
            raise RuntimeError(answer.get_data(as_text=True))

    for _ in range(5):  # imports, connections, the day's first code block
        post()
    trips.count.clear()
    trips.micros.clear()
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for _ in range(args.posts):
        post()
    profile.disable()
    elapsed = time.perf_counter() - started
    print(f"{args.posts / elapsed:.1f} posts/s on one thread, {elapsed / args.posts * 1000:.1f} ms each")
    for name, count in trips.count.most_common():
        each = trips.micros[name] / count / 1000 if count else 0
        print(f"  {name}: {count / args.posts:.2f} a post, {each:.2f} ms each")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
