"""What the gateway's session check costs per call, and how many live streams one accounts web holds.

Run against a stack that is up (`deploy/local/stack.sh up PROFILE`, demo logins loaded):
    .venv/bin/python bench/accounts_bench.py --profile test-h8
Side by side in one run, rounds interleaved: a call with no token (nginx answers the check itself),
with one session token (the check's answer cached 3 s), and with a fresh token each call (every
check reaches the accounts service). Then N live streams are opened and one order must reach them all.
Loopback only; bounded counts; stops by itself. Results to bench-results/accounts.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections.abc import Callable

import requests

from civicloop.profiles import ROOT, Profile
from services.common.auth import issue_token

PASSWORD = "gutian-demo-2026"


def login(base: str, username: str) -> requests.Session:
    session = requests.Session()
    answer = session.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=10
    )
    answer.raise_for_status()
    session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return session


def timed(call: Callable[[], requests.Response]) -> float:
    started = time.perf_counter()
    response = call()
    assert response.status_code == 200, response.text[:200]
    return time.perf_counter() - started


def check_cost(base: str, rounds: int) -> dict:
    anonymous = requests.Session()
    cached = login(base, "county.dispatch")
    fresh_source = login(base, "pinghu.dispatch")
    # Fresh tokens of one session: each refresh signs a new one, so each is a cache miss at the gateway.
    fresh_tokens = []
    for _ in range(rounds):
        answer = fresh_source.post(f"{base}/api/v1/auth/refresh", timeout=10)
        answer.raise_for_status()
        fresh_tokens.append(answer.json()["access_token"])
    plain = requests.Session()
    path = f"{base}/api/v1/catalog"
    samples: dict[str, list[float]] = {"no_token": [], "cached_check": [], "uncached_check": []}
    for warm in range(20):
        anonymous.get(path, timeout=10), cached.get(path, timeout=10)
        del warm
    for number in range(rounds):
        samples["no_token"].append(timed(lambda: anonymous.get(path, timeout=10)))
        samples["cached_check"].append(timed(lambda: cached.get(path, timeout=10)))
        token = {"Authorization": f"Bearer {fresh_tokens[number]}"}
        samples["uncached_check"].append(timed(lambda t=token: plain.get(path, headers=t, timeout=10)))
    medians = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    return {
        "calls_each": rounds,
        "median_ms": {name: round(value, 2) for name, value in medians.items()},
        "ratio_to_no_token": {name: round(value / medians["no_token"], 2) for name, value in medians.items()},
    }


def streams_held(base: str, secret: str, count: int) -> dict:
    admin = login(base, "admin")  # county-wide: entitled to every change
    responses, received, lock = [], [], threading.Lock()

    def read(response: requests.Response) -> None:
        try:
            for line in response.iter_lines(decode_unicode=True):
                if line == "event: change":
                    with lock:
                        received.append(time.monotonic())
                    return
        except requests.RequestException:
            return

    refused = 0
    for _ in range(count):
        session = requests.Session()
        session.cookies.update(admin.cookies)
        response = session.get(f"{base}/api/v1/live/stream", stream=True, timeout=(5, 60))
        if response.status_code != 200:
            refused += 1
            continue
        responses.append(response)
        threading.Thread(target=read, args=(response,), daemon=True).start()
    time.sleep(2)
    resident = {"Authorization": f"Bearer {issue_token(secret, sub='bench-resident', role='resident')}"}
    sent = time.monotonic()
    order = {
        "category": "elder_care",
        "title": "压测",
        "description": "bench",
        "township": "平湖镇",
        "village": "平湖村",
    }
    requests.post(f"{base}/api/v1/requests", json=order, headers=resident, timeout=10).raise_for_status()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(received) < len(responses):
        time.sleep(0.1)
    for response in responses:
        response.close()
    delays = sorted(moment - sent for moment in received)
    return {
        "asked": count,
        "held": len(responses),
        "refused_503": refused,
        "got_the_notice": len(received),
        "notice_p50_ms": round(statistics.median(delays) * 1000, 1) if delays else None,
        "notice_max_ms": round(delays[-1] * 1000, 1) if delays else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="run")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--streams", type=int, default=110)
    options = parser.parse_args()
    profile = Profile.load(options.profile)
    base = profile.gateway()
    result = {
        "session_check": check_cost(base, options.rounds),
        "live_streams": streams_held(base, profile.need("CIVICLOOP_JWT_SECRET"), options.streams),
    }
    out = ROOT / "bench-results" / "accounts.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
