"""`python -m services.<name> web|worker`: the two processes of every service."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from services.common.settings import load_settings
from services.common.worker import Worker, WorkerSpec


def _clean_metrics_dir(_server: Any) -> None:
    # Files of an earlier run of this process group would add its counts to ours: start empty.
    # Runs once in the gunicorn master, before any worker is forked.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


def _child_exit(_server: Any, worker: Any) -> None:
    # A dead gunicorn worker's live gauges must stop counting in the merged metrics.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


class _Gunicorn(BaseApplication):
    """Gunicorn driven from Python, so every service starts the same way."""

    def __init__(self, app_factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.app_factory = app_factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        # Called in each worker after the fork: database clients are never shared across forks.
        return self.app_factory()


def main(service: str, app_factory: Callable[[], Flask], worker_spec: Callable[[], WorkerSpec]) -> None:
    """Parse the command line and run the web or the worker process of `service`."""
    parser = argparse.ArgumentParser(prog=f"python -m services.{service}")
    commands = parser.add_subparsers(dest="command", required=True)
    web = commands.add_parser("web", help="serve the HTTP API with gunicorn")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, required=True)
    web.add_argument("--workers", type=int, default=2)
    web.add_argument("--threads", type=int, default=4)
    worker = commands.add_parser("worker", help="consume events and relay the outbox")
    worker.add_argument("--metrics-port", type=int, default=0)
    # In a container the scraper is another host; locally the metrics stay on loopback.
    worker.add_argument("--metrics-host", default="127.0.0.1")
    args = parser.parse_args()

    if args.command == "web":
        os.environ.setdefault("CIVICLOOP_PROCESS", "web")
        _Gunicorn(
            app_factory,
            {
                "bind": f"{args.host}:{args.port}",
                "workers": args.workers,
                "worker_class": "gthread",
                "threads": args.threads,
                "timeout": 30,
                "graceful_timeout": 10,
                "keepalive": 5,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "on_starting": _clean_metrics_dir,
                "child_exit": _child_exit,
                "proc_name": f"civicloop-{service}-web",
            },
        ).run()
    else:
        os.environ.setdefault("CIVICLOOP_PROCESS", "worker")
        settings = load_settings(service)
        Worker(worker_spec(), settings).run(
            metrics_port=args.metrics_port or None, metrics_host=args.metrics_host
        )
