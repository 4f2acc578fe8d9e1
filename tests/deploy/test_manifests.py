"""The Kubernetes manifests, rendered by kustomize, checked for what an operator would notice:
probes on the wrong path, a Secret key that does not exist, a Service selecting nothing, a
production secret nobody sets, a part with no autoscaler or disruption budget, and more
PostgreSQL connections than the server allows."""

from __future__ import annotations

import math
import os
import re
from urllib.parse import urlsplit

import pytest
from deploy_support import (
    ROOT,
    Dockerfile,
    Manifests,
    container_port,
    main_container,
    options,
    pod_labels,
    pod_spec,
    quantity,
    selects,
)
from pydantic import BaseModel, ValidationError

from core.processes import action_server, ingester
from core.rasa_endpoints import tracker_store_url
from core.scaled import CREATE_TRACKER_TABLES
from core.settings import ActionServerSettings, ServicesSettings, Settings

NAMESPACE = "zunyi-zhengwu"
# Per part: readiness path, liveness path, port (channels/routes/health.py, Rasa, rasa_sdk).
PROBES = {
    "gateway": ("/readyz", "/healthz", 8000),
    "rasa": ("/status", "/", 5005),
    "actions": ("/health", "/health", 5055),
}
APP_WORKLOADS = (
    "gateway",
    "actions",
    "ingester",
    "migrate",
    "purge",
)  # the processes that read core.settings
# Deployments that run exactly one pod: no port, no Service, no autoscaler.
SINGLETONS = ("ingester",)
# What the production check (core.settings.production_problems) demands of those processes.
APP_SECRETS = (
    "ZY_WECHAT__TOKEN",
    "ZY_WECHAT__ENCODING_AES_KEY",
    "ZY_WECHAT__APP_SECRET",
    "ZY_WECHAT__APP_ID",
    "ZY_SERVICES__SECRET_KEY",
    "ZY_SERVICES__DATABASE_URL",
    "ZY_GATEWAY__RASA_TOKEN",
)
PRODUCTION_REPLICAS = {"gateway": 3, "rasa": 2, "actions": 3}
MIN_MEMORY_GIB = {"gateway": 1.0, "actions": 1.0, "rasa": 1.5}
# PostgreSQL's default max_connections, less superuser_reserved_connections; deploy/README.md
# shows the sum. Raise both together with the server's setting (or behind PgBouncer).
MAX_CONNECTIONS, RESERVED_CONNECTIONS = 100, 3
# Rasa's SQL tracker store pool when SQL_POOL_SIZE / SQL_MAX_OVERFLOW are unset
# (rasa/core/tracker_store.py, Rasa 3.6).
RASA_DEFAULT_POOL = {"SQL_POOL_SIZE": 50, "SQL_MAX_OVERFLOW": 100}


def _probe_target(probe: dict, container: dict) -> tuple[str, int | None]:
    """(path, port) an HTTP probe asks, or the URL an exec probe fetches from inside the pod."""
    if "httpGet" in probe:
        return probe["httpGet"]["path"], container_port(container, probe["httpGet"]["port"])
    command = " ".join(probe.get("exec", {}).get("command", []))
    found = re.search(r"http://(?:127\.0\.0\.1|localhost):(\d+)(/[\w/]*)", command)
    assert found, f"{container['name']}: the probe fetches no local URL: {command!r}"
    return found.group(2), int(found.group(1))


def test_each_part_is_probed_where_it_answers(rendered: Manifests) -> None:
    deployments = rendered.named("Deployment")
    assert set(deployments) == set(PROBES) | set(SINGLETONS)
    for name, (ready_path, live_path, port) in PROBES.items():
        container = main_container(deployments[name])
        assert container_port(container, port) == port, f"{name} does not declare port {port}"
        for kind, path in (("readinessProbe", ready_path), ("livenessProbe", live_path)):
            assert kind in container, f"{name} has no {kind}"
            assert _probe_target(container[kind], container) == (path, port), f"{name} {kind}"


def test_every_reference_to_a_secret_or_config_resolves(rendered: Manifests) -> None:
    secrets, configs = rendered.named("Secret"), rendered.named("ConfigMap")
    for name, workload in rendered.workloads().items():
        for container in pod_spec(workload)["containers"]:
            for source in container.get("envFrom") or []:
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in secrets, f"{name}: envFrom {source}"
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in configs, f"{name}: envFrom {source}"
            for item in container.get("env") or []:
                origin = item.get("valueFrom") or {}
                for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                    if field in origin:
                        ref = origin[field]
                        assert ref["key"] in rendered.data(kind, ref["name"]), (
                            f"{name}: {item['name']} reads {kind} {ref['name']} key {ref['key']}, "
                            f"which has {sorted(rendered.data(kind, ref['name']))}"
                        )


def test_services_reach_their_pods(rendered: Manifests) -> None:
    deployments = rendered.named("Deployment")
    for name, service in rendered.named("Service").items():
        if service["spec"].get("type") == "ExternalName":
            continue
        selected = [d for d in deployments.values() if selects(service["spec"]["selector"], pod_labels(d))]
        assert [d["metadata"]["name"] for d in selected] == [name], f"Service {name} selects {selected}"
        container = main_container(selected[0])
        for port in service["spec"]["ports"]:
            assert port["port"] == PROBES[name][2], f"Service {name} listens on {port['port']}"
            assert container_port(container, port["targetPort"]) == port["port"], f"Service {name}"
    for name, deployment in deployments.items():
        assert selects(deployment["spec"]["selector"], pod_labels(deployment)), f"{name} selector"
        for spread in pod_spec(deployment).get("topologySpreadConstraints") or []:
            assert selects(spread["labelSelector"], pod_labels(deployment)), f"{name} spreads others"


def test_network_policies_admit_the_callers(rendered: Manifests) -> None:
    deployments = rendered.named("Deployment")
    callers = {"actions": {"rasa", "gateway"}, "rasa": {"gateway"}}
    for policy in rendered.of_kind("NetworkPolicy"):
        guarded = [n for n, d in deployments.items() if selects(policy["spec"]["podSelector"], pod_labels(d))]
        assert len(guarded) == 1, f"{policy['metadata']['name']} guards {guarded}"
        (name,) = guarded
        for rule in policy["spec"]["ingress"]:
            admitted = {
                n
                for peer in rule["from"]
                for n, d in deployments.items()
                if selects(peer["podSelector"], pod_labels(d))
            }
            assert admitted == callers[name], f"{name} admits {admitted}"
            assert [p["port"] for p in rule["ports"]] == [PROBES[name][2]]


def test_internal_addresses_name_services_and_their_ports(rendered: Manifests) -> None:
    services = rendered.named("Service")
    gateway = rendered.env(main_container(rendered.one("Deployment", "gateway")))
    rasa = rendered.env(main_container(rendered.one("Deployment", "rasa")))
    urls = {
        "ZY_GATEWAY__RASA_URL": (gateway, "rasa"),
        "ZY_GATEWAY__ACTION_SERVER_URL": (gateway, "actions"),
        "ZY_ACTION_ENDPOINT_URL": (rasa, "actions"),
        "ZY_SERVICES__DATABASE_URL": (gateway, "postgres"),
        "ZY_WECHAT__REDIS_URL": (gateway, "redis"),
        "ZY_GATEWAY__REDIS_URL": (gateway, "redis"),
    }
    for variable, (env, service) in urls.items():
        url = urlsplit(env[variable].value or "")
        assert url.hostname == service, f"{variable}={env[variable].value} should name Service {service}"
        assert service in services, f"no Service {service}"
        if service in PROBES:
            assert url.port == PROBES[service][2], f"{variable} port"
    assert rasa["ZY_TRACKER_DB_HOST"].value == "postgres" and "postgres" in services
    assert rasa["ZY_REDIS_HOST"].value == "redis" and "redis" in services
    # Rasa publishes its events where the ingester consumes them: one server, one queue.
    consumer = rendered.env(main_container(rendered.one("Deployment", "ingester")))
    assert consumer["ZY_WORKBENCH__EVENT_BROKER"].value == "rabbitmq"
    assert consumer["ZY_WORKBENCH__RABBITMQ_URL"].source == "secret"
    broker = urlsplit(consumer["ZY_WORKBENCH__RABBITMQ_URL"].value or "")
    assert (broker.hostname, broker.port) == (
        rasa["ZY_RABBITMQ_HOST"].value,
        int(rasa["ZY_RABBITMQ_PORT"].value or 0),
    )
    assert broker.username == rasa["ZY_RABBITMQ_USER"].value and "rabbitmq" in services
    assert rasa["ZY_RABBITMQ_QUEUE"].value == Settings.model_fields["workbench"].default.rabbitmq_queue


def _settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_workloads_run_the_commands_make_run_runs(rendered: Manifests, rasa_image: Dockerfile) -> None:
    workloads = rendered.workloads()
    for name in ("gateway", "rasa"):  # the images' own CMD (tests/deploy/test_images.py)
        container = main_container(workloads[name])
        assert "command" not in container and "args" not in container, name

    actions = main_container(workloads["actions"])
    expected = action_server(_settings())
    assert actions["command"] == ["python", *expected.argv[1:]] and "args" not in actions
    env = rendered.env(actions)
    missing = sorted(set(expected.env) - set(env))
    assert not missing, f"the action server process gets {missing} from core/processes.py, the pod does not"
    assert env["SANIC_HOST"].value == "0.0.0.0", "Rasa calls the action server from other pods"

    consumer = main_container(workloads["ingester"])
    assert consumer["command"] == ["python", *ingester(_settings()).argv[1:]] and "args" not in consumer

    migrate = {c["name"]: c for c in pod_spec(workloads["migrate"])["containers"]}
    assert migrate["migrate"]["command"] == ["python", "-m", "services", "migrate"]
    _, flags = options(rasa_image.program)
    assert migrate["tracker-tables"]["command"] == [
        "python",
        "-c",
        CREATE_TRACKER_TABLES,
        flags["--endpoints"],
    ]
    assert (
        rendered.env(migrate["tracker-tables"]).keys()
        >= rendered.env(main_container(workloads["rasa"])).keys()
    )
    assert pod_spec(workloads["migrate"])["restartPolicy"] == "Never"

    app_images = {main_container(workloads[name])["image"] for name in APP_WORKLOADS}
    assert len(app_images) == 1, f"gateway, actions and migrate should share one image: {app_images}"
    rasa_images = {main_container(workloads["rasa"])["image"], migrate["tracker-tables"]["image"]}
    assert len(rasa_images) == 1 and not rasa_images & app_images


def test_the_nightly_purge_reaches_the_conversations_rasa_keeps(rendered: Manifests) -> None:
    purge = rendered.one("CronJob", "purge")
    container = main_container(rendered.workloads()["purge"])
    assert container["command"] == ["python", "-m", "services", "purge"]
    assert purge["spec"]["concurrencyPolicy"] == "Forbid"
    env = {name: variable.value for name, variable in rendered.env(container).items()}
    url = tracker_store_url(ROOT / env["ZY_RASA__ENDPOINTS"], env)
    rasa = rendered.env(main_container(rendered.one("Deployment", "rasa")))
    assert url is not None and urlsplit(url).hostname == rasa["ZY_TRACKER_DB_HOST"].value
    assert urlsplit(url).password == rasa["ZY_TRACKER_DB_PASSWORD"].value


def test_replicas_leave_migrations_to_the_job(rendered: Manifests) -> None:
    for name in ("gateway", "actions"):
        env = rendered.env(main_container(rendered.one("Deployment", name)))
        assert env["ZY_SERVICES__MIGRATE_ON_START"].value == "false", name
    gateway = rendered.env(main_container(rendered.one("Deployment", "gateway")))
    migrate = rendered.env(main_container(rendered.one("Job", "migrate")))
    assert migrate["ZY_SERVICES__DATABASE_URL"] == gateway["ZY_SERVICES__DATABASE_URL"]


def test_rasa_gets_every_variable_of_its_endpoints_file(rendered: Manifests, rasa_image: Dockerfile) -> None:
    _, flags = options(rasa_image.program)
    assert flags["--endpoints"] == "endpoints.production.yml"
    wanted = set(re.findall(r"\$\{(\w+)\}", (ROOT / str(flags["--endpoints"])).read_text(encoding="utf-8")))
    env = rendered.env(main_container(rendered.one("Deployment", "rasa")))
    assert wanted, "endpoints.production.yml reads no variables?"
    missing = sorted(name for name in wanted if not env.get(name) or not env[name].value)
    assert not missing, f"the rasa container does not set {missing}"
    assert env["ZY_TRACKER_DB_PASSWORD"].source == "secret"
    assert env["ZY_RABBITMQ_PASSWORD"].source == "secret"


def test_every_production_secret_comes_from_a_secret(rendered: Manifests) -> None:
    workloads = rendered.workloads()
    for name in APP_WORKLOADS:
        env = rendered.env(main_container(workloads[name]))
        assert env["ZY_ENVIRONMENT"].value == "production"
        for variable in APP_SECRETS:
            assert variable in env, f"{name} does not set {variable}"
            assert env[variable].source == "secret", f"{name}: {variable} comes from a {env[variable].source}"
    rasa = rendered.env(main_container(workloads["rasa"]))
    assert rasa["ZY_RASA__AUTH_TOKEN"].source == "secret"
    gateway = rendered.env(main_container(workloads["gateway"]))
    token = (gateway["ZY_GATEWAY__RASA_TOKEN"].ref, gateway["ZY_GATEWAY__RASA_TOKEN"].key)
    assert token == (rasa["ZY_RASA__AUTH_TOKEN"].ref, rasa["ZY_RASA__AUTH_TOKEN"].key), (
        "the gateway must send the token Rasa checks"
    )


def _known(name: str) -> bool:
    """Whether ZY_SECTION__FIELD (or ZY_FIELD) is a setting of core/settings.py."""
    section, _, field = name.removeprefix("ZY_").lower().partition("__")
    if not field:
        return section in Settings.model_fields
    model = Settings.model_fields.get(section)
    annotation = model.annotation if model else None
    return (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
        and field in annotation.model_fields
    )


def test_settings_refuse_placeholders_and_start_once_filled(
    rendered: Manifests, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = rendered.env(main_container(rendered.one("Deployment", "gateway")))
    settings_env = {name: var for name, var in env.items() if name.startswith("ZY_")}
    unknown = sorted(name for name in settings_env if not _known(name))
    assert not unknown, f"the gateway sets variables core/settings.py does not read: {unknown}"

    def start(values: dict[str, str]) -> Settings:
        for name in [name for name in os.environ if name.startswith("ZY_")]:
            monkeypatch.delenv(name)
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        return _settings()

    # As the base and the example files leave them: refused, naming every secret to fill in.
    with pytest.raises(ValidationError) as refused:
        start({name: var.value or "" for name, var in settings_env.items()})
    for variable in set(APP_SECRETS) - {"ZY_SERVICES__DATABASE_URL"}:
        assert variable in str(refused.value), f"a placeholder {variable} would go live"

    # Filled in as an operator would; the database URL keeps the example's shape.
    fake = {
        "ZY_WECHAT__ENCODING_AES_KEY": "k" * 43,
        "ZY_WECHAT__APP_ID": "wx1234567890abcdef",
        "ZY_SERVICES__DATABASE_URL": settings_env["ZY_SERVICES__DATABASE_URL"].value or "",
    }
    settings = start(
        {
            name: fake.get(name, f"filled-in-{name.lower()}") if var.source == "secret" else var.value or ""
            for name, var in settings_env.items()
        }
    )
    assert settings.environment == "production"
    assert settings.gateway.host == "0.0.0.0"
    assert settings.services.database_url.startswith("postgresql+psycopg://")
    assert settings.wechat.redis_url and settings.gateway.rasa_token is not None


def _surge(deployment: dict, replicas: int) -> int:
    surge = deployment["spec"].get("strategy", {}).get("rollingUpdate", {}).get("maxSurge", "25%")
    return math.ceil(replicas * int(surge[:-1]) / 100) if isinstance(surge, str) else int(surge)


def test_production_scales_and_shields_every_deployment(production: Manifests) -> None:
    deployments = production.named("Deployment")
    autoscalers = production.autoscalers()
    budgets = production.of_kind("PodDisruptionBudget")
    for name in SINGLETONS:
        single = deployments.pop(name)
        assert single["spec"]["replicas"] == 1 and single["spec"]["strategy"]["type"] == "Recreate", name
        assert name not in autoscalers, f"{name} must stay one pod"
    for name, deployment in deployments.items():
        # A replicas field would reset the autoscaler's count on every apply.
        assert "replicas" not in deployment["spec"], f"{name} sets replicas beside its autoscaler"
        hpa = autoscalers.get(name)
        assert hpa is not None, f"no HorizontalPodAutoscaler for {name}"
        assert hpa["apiVersion"] == "autoscaling/v2" and hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        assert hpa["spec"]["minReplicas"] == PRODUCTION_REPLICAS[name]
        assert hpa["spec"]["maxReplicas"] >= hpa["spec"]["minReplicas"]
        cpu = [m["resource"] for m in hpa["spec"]["metrics"] if m["type"] == "Resource"]
        assert cpu == [{"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}], name
        guarding = [b for b in budgets if selects(b["spec"]["selector"], pod_labels(deployment))]
        assert len(guarding) == 1, f"{name} has {len(guarding)} PodDisruptionBudgets"
        assert guarding[0]["spec"]["minAvailable"] == 1
        others = [
            n
            for n, d in deployments.items()
            if n != name and selects(guarding[0]["spec"]["selector"], pod_labels(d))
        ]
        assert not others, f"the budget of {name} also counts pods of {others}"


def test_production_reserves_what_each_part_needs(production: Manifests) -> None:
    for workload in production.workloads().values():
        for container in pod_spec(workload)["containers"]:
            name = container["name"]
            resources = container.get("resources") or {}
            requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
            # The autoscalers measure CPU against the request; without one they cannot scale.
            assert "cpu" in requests and "memory" in requests, f"{name} requests {requests}"
            assert quantity(limits.get("memory", 0)) >= quantity(requests["memory"]), f"{name} memory limit"
            if name in MIN_MEMORY_GIB:
                assert quantity(requests["memory"]) >= MIN_MEMORY_GIB[name] * 2**30, f"{name} memory"


def test_production_runs_pinned_images_in_its_namespace(production: Manifests) -> None:
    assert NAMESPACE in production.named("Namespace")
    for obj in production.objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == NAMESPACE, f"{obj['kind']} {obj['metadata']['name']}"
    for name, workload in production.workloads().items():
        image = main_container(workload)["image"]
        repository, _, tag = image.rpartition(":")
        assert "/" in repository and tag and tag != "latest" and "/" not in tag, f"{name}: {image}"


def test_postgres_connections_fit_the_server(production: Manifests) -> None:
    """Every process at its autoscaler's maximum, plus a rolling update's surge, plus the
    migrate Job, holds at most the server's connections (deploy/README.md shows the sum)."""
    deployments = production.named("Deployment")
    autoscalers = production.autoscalers()
    defaults = {
        "ZY_SERVICES__POOL_SIZE": ServicesSettings().pool_size,
        "ZY_SERVICES__MAX_OVERFLOW": ServicesSettings().max_overflow,
        "ZY_ACTIONS__THREADS": ActionServerSettings().threads,
        "ACTION_SERVER_SANIC_WORKERS": 1,
        **RASA_DEFAULT_POOL,
    }

    def value(env: dict, name: str) -> int:
        return int(env[name].value) if name in env and env[name].value else int(defaults[name])

    lines, total = [], len(pod_spec(production.one("Job", "migrate"))["containers"])
    for name in SINGLETONS:  # Recreate: never a second pod beside it
        env = production.env(main_container(deployments[name]))
        per_pod = value(env, "ZY_SERVICES__POOL_SIZE") + value(env, "ZY_SERVICES__MAX_OVERFLOW")
        lines.append(f"{name}: 1 x {per_pod} = {per_pod}")
        total += per_pod
    for name in ("gateway", "actions", "rasa"):
        env = production.env(main_container(deployments[name]))
        if name == "rasa":
            per_pod = value(env, "SQL_POOL_SIZE") + value(env, "SQL_MAX_OVERFLOW")
        else:
            per_process = value(env, "ZY_SERVICES__POOL_SIZE") + value(env, "ZY_SERVICES__MAX_OVERFLOW")
            workers = value(env, "ACTION_SERVER_SANIC_WORKERS") if name == "actions" else 1
            per_pod = per_process * workers
            if name == "actions":
                # Every thread running actions may hold a connection at once; fewer would queue.
                assert per_process >= value(env, "ZY_ACTIONS__THREADS"), "actions: pool < threads"
        top = autoscalers[name]["spec"]["maxReplicas"]
        surge = _surge(deployments[name], top)
        lines.append(f"{name}: ({top} + {surge}) x {per_pod} = {(top + surge) * per_pod}")
        total += (top + surge) * per_pod
    budget = MAX_CONNECTIONS - RESERVED_CONNECTIONS
    assert total <= budget, f"{total} connections > {budget}:\n" + "\n".join(lines)
    readme = (ROOT / "deploy" / "README.md").read_text(encoding="utf-8")
    assert f"= {total}" in readme, f"deploy/README.md should show the sum, {total}:\n" + "\n".join(lines)
