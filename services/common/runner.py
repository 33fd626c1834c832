"""`python -m services.<name> web|worker`: the two processes of every service."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication

from services.common import clock
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


def main(
    service: str,
    app_factory: Callable[[], Flask],
    worker_spec: Callable[[], WorkerSpec],
    web_threads: int = 4,
) -> None:
    """Run the web or the worker process of `service`, as the command line says."""
    processes(service, app_factory, worker_spec, web_threads)(prog_name=f"python -m services.{service}")


def processes(
    service: str,
    app_factory: Callable[[], Flask],
    worker_spec: Callable[[], WorkerSpec],
    web_threads: int = 4,
) -> click.Group:
    """The command line of a service: `web` and `worker`."""

    @click.group(help=f"The two processes of the {service} service.")
    def command() -> None:
        pass

    @command.command()
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", type=int, required=True)
    @click.option("--workers", type=int, default=2, show_default=True)
    # A service holding long connections (the accounts service's live streams) asks for more.
    @click.option("--threads", type=int, default=web_threads, show_default=True)
    def web(host: str, port: int, workers: int, threads: int) -> None:
        """Serve the HTTP API with gunicorn."""
        os.environ.setdefault("CIVICLOOP_PROCESS", "web")
        clock.name_process(f"{service}-web")
        _Gunicorn(
            app_factory,
            {
                "bind": f"{host}:{port}",
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                # Restarts a worker whose main loop stalls; one request's bound is its deadline (ADR 0094).
                "timeout": 30,
                "graceful_timeout": 10,
                "keepalive": 5,
                # As long as the gateway lets through (8 KB request line and headers): the gateway's
                # limit answers as the API does, gunicorn's 4 KB default answered with an HTML page.
                "limit_request_line": 8190,
                "limit_request_field_size": 8190,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "on_starting": _clean_metrics_dir,
                "child_exit": _child_exit,
                "proc_name": f"civicloop-{service}-web",
            },
        ).run()

    @command.command()
    @click.option("--metrics-port", type=int, default=0, help="serve /metrics on this port (0: none)")
    # In a container the scraper is another host; locally the metrics stay on loopback.
    @click.option("--metrics-host", default="127.0.0.1", show_default=True)
    def worker(metrics_port: int, metrics_host: str) -> None:
        """Consume events, relay the outbox, run the periodic jobs."""
        os.environ.setdefault("CIVICLOOP_PROCESS", "worker")
        clock.name_process(f"{service}-worker")
        Worker(worker_spec(), load_settings(service)).run(
            metrics_port=metrics_port or None, metrics_host=metrics_host
        )

    return command
