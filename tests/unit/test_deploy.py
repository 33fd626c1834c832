"""deploy/: the container deployment matches the services and the gateway template it shares."""

from __future__ import annotations

import importlib
import os
import subprocess
from pathlib import Path

import yaml

from services import SERVICES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def test_every_service_runs_a_web_and_a_worker_process_of_a_real_module():
    processes = compose()["services"]
    for service in SERVICES:
        for process in ("web", "worker"):
            command = processes[f"{service}-{process}"]["command"]
            assert command[:2] == [f"services.{service}", process]
            importlib.import_module(f"services.{service}.__main__")


def test_each_service_has_its_own_mongodb_and_waits_for_it():
    processes = compose()["services"]
    for service in SERVICES:
        for process in ("web", "worker"):
            spec = processes[f"{service}-{process}"]
            url = spec["environment"][f"{service.upper()}_MONGO_URL"]
            assert url.startswith(f"mongodb://mongo-{service}:27017/")
            assert f"mongo-{service}" in spec["depends_on"]
            assert spec["environment"]["CIVICLOOP_DOCUMENT_LOCKS"] == "false"
        assert processes[f"mongo-{service}"]["image"].startswith("mongo:")


def test_the_gateway_template_renders_with_the_compose_upstreams(tmp_path):
    gateway = compose()["services"]["gateway"]
    rendered = tmp_path / "nginx.conf"
    env = {**os.environ, **{key: str(value) for key, value in gateway["environment"].items()}}
    subprocess.run([str(DEPLOY / "gateway" / "render.sh"), str(rendered)], env=env, check=True)
    text = rendered.read_text(encoding="utf-8")
    assert "@@" not in text
    for service in SERVICES:
        assert f"server {service}-web:8000;" in text
    assert "listen 0.0.0.0:8080;" in text


def test_render_refuses_to_leave_a_placeholder(tmp_path):
    template_copy = tmp_path / "gateway"
    template_copy.mkdir()
    (template_copy / "render.sh").write_bytes((DEPLOY / "gateway" / "render.sh").read_bytes())
    (template_copy / "render.sh").chmod(0o755)
    (template_copy / "nginx.conf.template").write_text("listen @@LISTEN@@; x @@UNKNOWN@@;\n")
    env = {**os.environ, "RUN_DIR": "/r", "LISTEN": "1", "REQUESTS_UPSTREAM": "a", "DISPATCH_UPSTREAM": "b"}
    env |= {"VOLUNTEERS_UPSTREAM": "c", "RATINGS_UPSTREAM": "d"}
    command = [str(template_copy / "render.sh"), str(tmp_path / "out.conf")]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "@@UNKNOWN@@" in result.stderr


def test_the_stack_scripts_read_the_one_list_of_services():
    script = f'source {DEPLOY}/local/lib.sh && echo "${{SERVICES[*]}}"'
    listed = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert listed.stdout.split() == list(SERVICES)
