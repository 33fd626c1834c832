"""deploy/k8s: the rendered overlays are valid Kubernetes, and run what deploy/compose.yaml runs.

Rendering is kustomize itself, built from its Go module by deploy/k8s/tools.sh (once, into .tools/).
Built-in kinds are checked against the Kubernetes JSON schemas that kubernetes-validate ships for
each release; custom resources against the openAPIV3Schema of the operators' own released CRD files
(fetched by the same script from the operators' Go modules). Both reject unknown fields, as the API
server does for `kubectl apply` (field validation Strict).
"""

from __future__ import annotations

import base64
import copy
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from kubernetes_validate import utils as kubernetes_schemas

from services.common.settings import SERVICES

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "deploy" / "k8s" / "tools.sh"
# The newest release kubernetes-validate ships and the oldest still in upstream support.
KUBERNETES_VERSIONS = ("1.35", "1.37")
OVERLAYS = ("gutian", "local")
# Secrets and helper variables the operators make; the manifests only refer to them.
OPERATOR_SECRETS = {"civicloop-rabbitmq-default-user"} | {f"mongo-{s}-url" for s in SERVICES}
AMQP_PARTS = {"RABBITMQ_USERNAME", "RABBITMQ_PASSWORD"}
# kubernetes-validate reads and parses its 1 MB definitions file on every call; read it once.
kubernetes_schemas.schema_contents = cache(kubernetes_schemas.schema_contents)


def tool(*arguments: str) -> str:
    result = subprocess.run([str(TOOLS), *arguments], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    return tuple(doc for doc in yaml.safe_load_all(tool("render", overlay)) if doc)


# --- schemas ---------------------------------------------------------------------------------------
def strict(schema: Any) -> Any:
    """An operator's openAPIV3Schema as the API server applies it: unknown fields are errors, `nullable`."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {key: strict(value) for key, value in schema.items()}
    if (
        schema.get("type") == "object"
        and "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        schema["additionalProperties"] = False
    if schema.get("nullable") and isinstance(schema.get("type"), str):
        schema["type"] = [schema["type"], "null"]
    return schema


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → the strict schema of that served version, from every fetched CRD."""
    folder = Path(tool("crds").strip())
    schemas = {}
    for path in sorted(folder.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                schema = strict(version["schema"]["openAPIV3Schema"])
                schemas[(f"{group}/{version['name']}", kind)] = schema
    assert len(schemas) >= 5, schemas.keys()
    return schemas


def problems(obj: dict[str, Any]) -> list[str]:
    """What is wrong with one object, against its schema in every version checked; [] if nothing."""
    found = []
    key = (obj.get("apiVersion"), obj.get("kind"))
    if key in crd_schemas():
        validator = jsonschema.Draft7Validator(crd_schemas()[key])
        for error in validator.iter_errors(obj):
            found.append(f"{'.'.join(map(str, error.absolute_path))}: {error.message}")
        # The CRD leaves metadata to the API server: check it as any object's ObjectMeta.
        obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": obj.get("metadata")}
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_schemas.validate(obj, version, strict=True)
        except kubernetes_schemas.ValidationError as error:
            found.append(f"{version}: {'.'.join(map(str, error.path))}: {error.message}")
        except kubernetes_schemas.SchemaNotFoundError as error:
            found.append(f"{version}: {error.message}")
    return found


def name_of(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


# --- every object is valid -------------------------------------------------------------------------
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_object_is_valid_against_its_schema(overlay):
    report = {name_of(obj): problems(obj) for obj in rendered(overlay)}
    assert {name: found for name, found in report.items() if found} == {}
    kinds = {obj["kind"] for obj in rendered(overlay)}
    # The custom resources really were checked against their CRDs, not skipped.
    assert {"RabbitmqCluster", "MongoDBCommunity", "ScaledObject", "ServiceMonitor"} <= kinds


BREAKAGES = {
    # A misspelt field of a built-in kind.
    "Deployment": lambda o: o["spec"]["template"]["spec"]["containers"][0].update(readinessProbes={}),
    # A wrong type in a built-in kind.
    "Service": lambda o: o["spec"]["ports"][0].update(port="eight thousand"),
    # A field the operator's CRD does not have, and a wrong type the CRD forbids.
    "ScaledObject": lambda o: o["spec"].update(minReplicas=1),
    "RabbitmqCluster": lambda o: o["spec"].update(replicas="three"),
    "MongoDBCommunity": lambda o: o["spec"].update(type="Cluster"),
    "ServiceMonitor": lambda o: o["spec"]["endpoints"][0].update(scrapeEvery="15s"),
    # Metadata of a custom resource is checked too.
    "TriggerAuthentication": lambda o: o["metadata"].update(label={"a": "b"}),
}


@pytest.mark.parametrize("kind", sorted(BREAKAGES))
def test_a_broken_object_is_caught(kind):
    original = next(obj for obj in rendered("gutian") if obj["kind"] == kind)
    assert problems(original) == []
    broken = copy.deepcopy(original)
    BREAKAGES[kind](broken)
    assert problems(broken), f"a broken {kind} passed"


# --- what the objects say --------------------------------------------------------------------------
def by_kind(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in rendered(overlay) if obj["kind"] == kind}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def test_each_service_has_a_web_and_a_worker_with_their_probes_and_scaling():
    deployments = by_kind("gutian", "Deployment")
    hpas, scaled = by_kind("gutian", "HorizontalPodAutoscaler"), by_kind("gutian", "ScaledObject")
    for service in SERVICES:
        web = container(deployments[f"{service}-web"])
        assert web["args"][:2] == [f"services.{service}", "web"]
        assert web["ports"] == [{"name": "http", "containerPort": 8000}]
        assert web["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert web["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        worker = container(deployments[f"{service}-worker"])
        assert worker["args"][:2] == [f"services.{service}", "worker"]
        assert worker["livenessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}
        for process in (web, worker):
            resources = process["resources"]
            assert set(resources) == {"requests", "limits"}
            assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}
        assert hpas[f"{service}-web"]["spec"]["scaleTargetRef"]["name"] == f"{service}-web"
        assert hpas[f"{service}-web"]["spec"]["minReplicas"] >= 2
        spec = scaled[f"{service}-worker"]["spec"]
        assert spec["scaleTargetRef"]["name"] == f"{service}-worker"
        assert spec["minReplicaCount"] >= 1  # the outbox relay and the timers never scale to zero
        (trigger,) = spec["triggers"]
        assert trigger["type"] == "rabbitmq"
        assert trigger["metadata"]["queueName"] == f"{service}.events"
        assert trigger["authenticationRef"]["name"] in by_kind("gutian", "TriggerAuthentication")
        # KEDA owns the worker's count, the autoscaler the web's: the Deployments name none.
        assert "replicas" not in deployments[f"{service}-web"]["spec"]
        assert "replicas" not in deployments[f"{service}-worker"]["spec"]


def test_the_four_service_files_differ_only_in_names_and_resources():
    """...and in the personal-data keys, which only the services that seal residents' data are given."""
    base = ROOT / "deploy" / "k8s" / "base"
    personal = {"secretRef": {"name": "civicloop-personal-data"}}
    given = set()

    def renamed(value: Any, service: str) -> Any:
        # Values only: keys such as resources' `requests` are no service's name.
        if isinstance(value, dict):
            return {key: renamed(item, service) for key, item in value.items()}
        if isinstance(value, list):
            return [renamed(item, service) for item in value]
        if isinstance(value, str):
            return value.replace(service.upper(), "SVC").replace(service, "svc")
        return value

    def normalised(service: str) -> list[Any]:
        docs = [renamed(doc, service) for doc in yaml.safe_load_all((base / f"{service}.yaml").read_text())]
        for doc in docs:
            if doc["kind"] == "Deployment":
                for each in doc["spec"]["template"]["spec"]["containers"]:
                    each.pop("resources")
                    if personal in each.get("envFrom", []):
                        given.add((service, doc["metadata"]["name"]))
                        each["envFrom"].remove(personal)
        return docs

    first = normalised(SERVICES[0])
    assert len(first) == 10
    for service in SERVICES[1:]:
        assert normalised(service) == first, service
    # Requests seals the order's phone and address; dispatch and volunteers their copies of the address
    # (docs/adr/0095). Ratings and accounts keep no sealed field.
    sealing = ("requests", "dispatch", "volunteers")
    assert given == {(service, f"svc-{process}") for service in sealing for process in ("web", "worker")}


def test_every_reference_resolves_and_every_selector_selects():
    objects = rendered("gutian")
    names = {(obj["kind"], obj["metadata"]["name"]) for obj in objects}
    secrets = {name for kind, name in names if kind == "Secret"} | OPERATOR_SECRETS
    config_maps = {name for kind, name in names if kind == "ConfigMap"}
    pod_labels = [
        deployment["spec"]["template"]["metadata"]["labels"]
        for deployment in by_kind("gutian", "Deployment").values()
    ]
    # Pods the operators make: RabbitMQ's and each replica set's.
    pod_labels.append({"app.kubernetes.io/name": "civicloop-rabbitmq"})
    pod_labels += [{"app": f"mongo-{service}-svc"} for service in SERVICES]
    for deployment in by_kind("gutian", "Deployment").values():
        pod = deployment["spec"]["template"]["spec"]
        for each in pod["containers"] + pod.get("initContainers", []):
            for source in each.get("envFrom", []):
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in secrets
                else:
                    assert source["configMapRef"]["name"] in config_maps
            for variable in each.get("env", []):
                if "valueFrom" in variable:
                    assert variable["valueFrom"]["secretKeyRef"]["name"] in secrets
        for volume in pod.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps
        assert deployment["spec"]["selector"]["matchLabels"].items() <= (
            deployment["spec"]["template"]["metadata"]["labels"].items()
        )
    for mongo in by_kind("gutian", "MongoDBCommunity").values():
        assert mongo["spec"]["members"] == 3
        for user in mongo["spec"]["users"]:
            assert user["passwordSecretRef"]["name"] in secrets
            assert user["connectionStringSecretName"] in OPERATOR_SECRETS
    for kind in ("PodDisruptionBudget", "Service"):
        for obj in by_kind("gutian", kind).values():
            selector = obj["spec"]["selector"]
            selector = selector.get("matchLabels", selector)
            assert any(selector.items() <= labels.items() for labels in pod_labels), name_of(obj)


def test_every_web_and_worker_is_scraped_with_the_labels_the_rules_expect():
    monitors = by_kind("gutian", "ServiceMonitor")
    civicloop = monitors["civicloop"]["spec"]
    ports = {endpoint["port"] for endpoint in civicloop["endpoints"]}
    services = by_kind("gutian", "Service")
    for service in SERVICES:
        for process, port in (("web", "http"), ("worker", "metrics")):
            labels = services[f"{service}-{process}"]["metadata"]["labels"]
            assert civicloop["selector"]["matchLabels"].items() <= labels.items()
            assert port in {each["name"] for each in services[f"{service}-{process}"]["spec"]["ports"]}
            assert port in ports
            # deploy/prometheus's alerts read job="civicloop" and the process label.
            assert labels[civicloop["jobLabel"]] == "civicloop"
    for endpoint in civicloop["endpoints"]:
        assert endpoint["honorLabels"] is True  # the metrics' own `service` label wins
        assert {"sourceLabels": ["__meta_kubernetes_service_name"], "targetLabel": "process"} in (
            endpoint["relabelings"]
        )


def test_the_bus_keeps_a_quorum_through_one_lost_node():
    (cluster,) = by_kind("gutian", "RabbitmqCluster").values()
    assert cluster["spec"]["replicas"] == 3
    assert "default_vhost = civicloop" in cluster["spec"]["rabbitmq"]["additionalConfig"]
    assert by_kind("gutian", "PodDisruptionBudget")["civicloop-rabbitmq"]["spec"]["maxUnavailable"] == 1


def secret_values(overlay: str) -> dict[str, dict[str, str]]:
    return {
        name: {key: base64.b64decode(value).decode() for key, value in (secret.get("data") or {}).items()}
        for name, secret in by_kind(overlay, "Secret").items()
    }


def test_the_county_overlay_holds_no_secret_and_the_local_one_replaces_them():
    county = secret_values("gutian")
    assert county and all(value == "" for values in county.values() for value in values.values())
    local = secret_values("local")
    assert all(value for values in local.values() for value in values.values())
    keys_secret = next(name for name in local if name.startswith("civicloop-jwt-keys-"))
    # A keyring with an RSA key, made at render time (never committed), mounted where the accounts
    # web process reads it; the other services verify through its key set.
    assert '"private_key": "-----BEGIN PRIVATE KEY-----' in local[keys_secret]["jwt-keys.json"]
    accounts_pod = by_kind("local", "Deployment")["accounts-web"]["spec"]["template"]["spec"]
    assert {"name": "jwt-keys", "secret": {"secretName": keys_secret, "defaultMode": 0o400}} in accounts_pod[
        "volumes"
    ]
    assert {"name": "CIVICLOOP_JWT_KEYS_FILE", "value": "/keys/jwt-keys.json"} in container(
        by_kind("local", "Deployment")["accounts-web"]
    )["env"]


# --- deploy/compose.yaml runs the same ---------------------------------------------------------------
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())


def settings_of(deployment: dict[str, Any]) -> set[str]:
    """The names of the variables a process is given, through env and envFrom."""
    generated = {**by_kind("gutian", "ConfigMap"), **by_kind("gutian", "Secret")}
    process = container(deployment)
    names = {variable["name"] for variable in process.get("env", [])} - AMQP_PARTS
    for source in process.get("envFrom", []):
        reference = source.get("configMapRef") or source.get("secretRef")
        names |= set(generated[reference["name"]].get("data") or {})
    return names


def test_compose_runs_the_same_processes_with_the_same_settings_ports_and_probes():
    services = compose()["services"]
    deployments = by_kind("gutian", "Deployment")
    for service in SERVICES:
        for process in ("web", "worker"):
            name = f"{service}-{process}"
            assert services[name]["command"] == container(deployments[name])["args"], name
            assert set(services[name]["environment"]) == settings_of(deployments[name]), name
        web_probe = " ".join(services[f"{service}-web"]["healthcheck"]["test"])
        assert "http://127.0.0.1:8000/readyz" in web_probe
        worker_probe = " ".join(services[f"{service}-worker"]["healthcheck"]["test"])
        assert "http://127.0.0.1:9000/metrics" in worker_probe
    config_maps = by_kind("gutian", "ConfigMap")
    gateway_settings = next(obj["data"] for name, obj in config_maps.items() if "gateway-set" in name)
    assert {key: str(value) for key, value in services["gateway"]["environment"].items()} == gateway_settings
