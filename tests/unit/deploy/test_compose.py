"""docker/compose.yaml, docker/Dockerfile and docker/prometheus.yml, checked for
structure only.

No Docker engine runs where these tests run: nothing here builds the image or starts
the stack. The tests check what can be checked without one: that every file the
compose file and the Dockerfile refer to exists, that services depend on services that
exist (with health checks where they wait for health), that every CREDITWATCH_*
variable is a real setting, that the commands are the CLI's, and that the Prometheus
and Grafana configs mounted into the containers are valid (promtool, laid out as in the
container) and agree with the compose file (ports, paths, service names).
"""

from __future__ import annotations

import inspect
import re
import shutil
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from tests.unit.deploy.test_ops_files import load_yaml, promtool_path, run_promtool

ROOT = Path(__file__).resolve().parents[3]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
#: compose's own variables: they configure the stack, not creditwatch (no setting reads them)
COMPOSE_ONLY = {"CREDITWATCH_WORKERS"}
SERVICES = {"kafka", "redis", "topics", "worker", "sidecar", "api", "prometheus", "grafana"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
#: the images built here rather than pulled (no pinned version to check)
BUILT = {"creditwatch:latest"}
PROMETHEUS_DIR = PurePosixPath("/etc/prometheus")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def setting_variables() -> set[str]:
    """CREDITWATCH_* names the settings classes read (each class's prefix + field)."""
    import streams.settings

    names: set[str] = set()
    for _name, cls in inspect.getmembers(streams.settings, inspect.isclass):
        if issubclass(cls, BaseSettings) and cls is not BaseSettings:
            prefix = cls.model_config.get("env_prefix", "")
            names.update(f"{prefix}{field}".upper() for field in cls.model_fields)
    return names


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # ["KEY=value", ...]
        env = dict(item.partition("=")[::2] for item in env)
    return {key: str(value) for key, value in env.items()}


def bind_mounts(service: dict[str, Any]) -> list[tuple[Path, PurePosixPath]]:
    """(source on the host, target in the container) of each bind mount; a source is
    relative to the compose file's directory."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type") != "bind":
                continue
            source, target = volume["source"], volume["target"]
        else:
            source, target = volume.split(":")[:2]
            if not source.startswith((".", "/")):
                continue  # a named volume
        mounts.append(((DOCKER / source).resolve(), PurePosixPath(target)))
    return mounts


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def container_port(service: dict[str, Any]) -> int:
    (mapping,) = service["ports"]
    return int(str(mapping).rsplit(":", 1)[-1].split("/")[0])


# -- services and their wiring ------------------------------------------------------------


def test_services(services: dict[str, Any]) -> None:
    assert set(services) >= SERVICES


def test_images_are_pinned(services: dict[str, Any]) -> None:
    for name, service in services.items():
        image = service["image"]
        if image in BUILT:
            assert "build" in service, f"{name}: {image} is built here"
            continue
        tag = image.rpartition(":")[2] if ":" in image else ""
        assert tag and tag != "latest", f"{name}: pin a version ({image})"


def test_build_context_and_dockerfile_exist(services: dict[str, Any]) -> None:
    for name, service in services.items():
        build = service.get("build")
        if build is None:
            continue
        context = (DOCKER / build["context"]).resolve()
        assert context == ROOT, f"{name}: the context is the repository root"
        assert (context / build["dockerfile"]).resolve() == DOCKERFILE, name


def test_bind_mount_sources_exist(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for source, _target in bind_mounts(service):
            assert source.exists(), f"{name}: {source} does not exist"
            assert source.is_relative_to(ROOT), f"{name}: {source} is outside the repository"


def test_named_volumes_are_declared(compose: dict[str, Any], services: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source")
            if source and not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source} is not declared"


def test_depends_on(services: dict[str, Any]) -> None:
    for name, service in services.items():
        depends = service.get("depends_on", {})
        if isinstance(depends, list):
            depends = {target: {"condition": "service_started"} for target in depends}
        for target, spec in depends.items():
            assert target in services, f"{name} depends on a missing service {target}"
            condition = spec.get("condition", "service_started")
            assert condition in CONDITIONS, f"{name}: {condition}"
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target}'s health"
            if condition == "service_completed_successfully":
                assert target == "topics", f"{name} waits for {target} to exit"
                assert services[target].get("restart", "no") == "no", "a one-shot service"


def test_worker(services: dict[str, Any]) -> None:
    worker = services["worker"]
    assert worker["command"] == ["worker"]
    assert "ports" not in worker, "replicas cannot share a host port"
    assert str(worker["deploy"]["replicas"]) == "${CREDITWATCH_WORKERS:-2}"
    assert worker["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "topics": {"condition": "service_completed_successfully"},
    }
    env = environment(worker)
    assert env["CREDITWATCH_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert env["CREDITWATCH_REDIS_URL"] == "redis://redis:6379/0"
    assert env["CREDITWATCH_PARTITIONS"] == "${CREDITWATCH_PARTITIONS:-12}"
    # the topics service creates what the workers consume: same broker, same count
    topics = environment(services["topics"])
    for key in ("CREDITWATCH_KAFKA_BOOTSTRAP", "CREDITWATCH_PARTITIONS"):
        assert topics[key] == env[key], key
    # the sidecar service relays and trains in their stead
    assert env["CREDITWATCH_WORKER_RELAY_TRAINER"] == "false"


def test_sidecar(services: dict[str, Any]) -> None:
    sidecar, worker = services["sidecar"], services["worker"]
    assert sidecar["command"] == ["sidecar"]
    assert sidecar["depends_on"] == worker["depends_on"]
    env, worker_env = environment(sidecar), environment(worker)
    for key in ("CREDITWATCH_KAFKA_BOOTSTRAP", "CREDITWATCH_PARTITIONS", "CREDITWATCH_REDIS_URL"):
        assert env[key] == worker_env[key], key
    assert [str(p) for p in sidecar["expose"]] == [env["CREDITWATCH_SIDECAR_METRICS_PORT"]]


def test_kafka_is_a_single_kraft_node(services: dict[str, Any]) -> None:
    kafka = services["kafka"]
    env = environment(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    node = env["KAFKA_NODE_ID"]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{node}@kafka:9093"
    assert set(env["KAFKA_LISTENERS"].split(",")) == {"PLAINTEXT://:9092", "CONTROLLER://:9093"}
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"]), "a base64 UUID"
    assert any(not v.startswith((".", "/")) for v in kafka["volumes"]), "a data volume"
    assert "healthcheck" in kafka


def test_redis_persists(services: dict[str, Any]) -> None:
    redis = services["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command and "--appendfsync everysec" in command
    assert "redis-cli" in redis["healthcheck"]["test"] and "ping" in redis["healthcheck"]["test"]
    assert redis["volumes"]


def test_api(services: dict[str, Any]) -> None:
    api = services["api"]
    assert api["command"] == ["api"]
    env = environment(api)
    assert env["CREDITWATCH_ADMIN_KEY"].startswith("${CREDITWATCH_ADMIN_KEY:?"), "required"
    assert env["CREDITWATCH_REDIS_URL"] == "redis://redis:6379/0"
    assert container_port(api) == int(env.get("CREDITWATCH_API_PORT", "8000"))
    check = " ".join(api["healthcheck"]["test"])
    assert "urllib" in check and "/healthz" in check, "slim images have no curl"


def test_creditwatch_variables_are_settings(services: dict[str, Any]) -> None:
    known = setting_variables()
    used = {
        key
        for service in services.values()
        for key in environment(service)
        if key.startswith("CREDITWATCH_")
    }
    # interpolated from the caller's environment: ${CREDITWATCH_X:-default}
    used |= set(re.findall(r"\$\{(CREDITWATCH_[A-Z0-9_]+)", COMPOSE.read_text()))
    used |= {
        name
        for instruction, args in dockerfile_instructions()
        if instruction == "ENV"
        for name in re.findall(r"\b(CREDITWATCH_[A-Z0-9_]+)=", args)
    }
    assert used - known <= COMPOSE_ONLY, f"not settings: {sorted(used - known - COMPOSE_ONLY)}"
    assert used >= COMPOSE_ONLY, "a compose-only variable nothing uses"


def test_commands_are_cli_subcommands(
    services: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from streams.cli.main import main

    for name, service in services.items():
        if service["image"] not in BUILT:
            continue
        with pytest.raises(SystemExit) as exit_:
            main([*service["command"], "--help"])
        assert exit_.value.code == 0, f"{name}: `creditwatch {service['command'][0]}`"
    capsys.readouterr()


# -- Prometheus and Grafana in the stack ----------------------------------------------------


def prometheus_config() -> dict[str, Any]:
    return load_yaml(DOCKER / "prometheus.yml")


def test_prometheus_mounts_and_jobs(services: dict[str, Any]) -> None:
    mounts = {target: source for source, target in bind_mounts(services["prometheus"])}
    assert mounts[PROMETHEUS_DIR / "prometheus.yml"] == DOCKER / "prometheus.yml"
    assert mounts[PROMETHEUS_DIR / "alerts.yml"] == ROOT / "ops" / "alerts.yml"
    config = prometheus_config()
    for rule_file in config["rule_files"]:
        assert PurePosixPath(rule_file) in mounts, f"{rule_file} is not mounted"
    # the same jobs as the local config: the alerts select on these job names
    local = load_yaml(ROOT / "ops" / "prometheus.yml")
    jobs = [job["job_name"] for job in config["scrape_configs"]]
    assert jobs == [job["job_name"] for job in local["scrape_configs"]]
    assert config["global"] == local["global"]
    assert "alerting" not in config


def test_prometheus_scrapes_every_worker_replica(services: dict[str, Any]) -> None:
    jobs = {job["job_name"]: job for job in prometheus_config()["scrape_configs"]}
    (dns,) = jobs["creditwatch-worker"]["dns_sd_configs"]
    assert dns["names"] == ["worker"] and "worker" in services
    assert dns["type"] == "A"
    port = environment(services["worker"])["CREDITWATCH_WORKER_METRICS_PORT"]
    assert dns["port"] == int(port)
    (dns,) = jobs["creditwatch-sidecar"]["dns_sd_configs"]
    assert dns["names"] == ["sidecar"] and "sidecar" in services
    assert dns["port"] == int(environment(services["sidecar"])["CREDITWATCH_SIDECAR_METRICS_PORT"])
    (static,) = jobs["creditwatch-api"]["static_configs"]
    assert static["targets"] == [f"api:{container_port(services['api'])}"]


def test_prometheus_config_passes_promtool(services: dict[str, Any], tmp_path: Path) -> None:
    """The files mounted under /etc/prometheus, copied under tmp_path in the same
    layout, with the config's absolute paths moved along."""
    promtool_path()
    etc = tmp_path / "etc" / "prometheus"
    etc.mkdir(parents=True)
    for source, target in bind_mounts(services["prometheus"]):
        if target.is_relative_to(PROMETHEUS_DIR):
            shutil.copy(source, etc / target.relative_to(PROMETHEUS_DIR))
    config = (etc / "prometheus.yml").read_text()
    (etc / "prometheus.yml").write_text(config.replace(f"{PROMETHEUS_DIR}/", f"{etc}/"))
    output = run_promtool("check", "config", etc / "prometheus.yml")
    assert "WARNING" not in output, output
    assert "1 rule files found" in output


def test_grafana(services: dict[str, Any]) -> None:
    grafana = services["grafana"]
    mounts = {target: source for source, target in bind_mounts(grafana)}
    ops = ROOT / "ops" / "grafana"
    assert mounts[PurePosixPath("/etc/grafana/provisioning")] == ops / "provisioning"
    provider = load_yaml(ops / "provisioning" / "dashboards" / "creditwatch.yml")
    (path,) = {p["options"]["path"] for p in provider["providers"]}
    assert mounts[PurePosixPath(path)] == ops / "dashboards", "the provider reads the mount"
    env = environment(grafana)
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    # the provisioned data source reaches the prometheus service on its port
    (source,) = load_yaml(ops / "provisioning" / "datasources" / "prometheus.yml")["datasources"]
    assert source["url"] == f"http://prometheus:{container_port(services['prometheus'])}"


# -- the image --------------------------------------------------------------------------


def test_dockerfile() -> None:
    instructions = dockerfile_instructions()
    by_name: dict[str, list[str]] = {}
    for instruction, args in instructions:
        by_name.setdefault(instruction, []).append(args)
    assert by_name["FROM"] == ["python:3.11-slim"]
    for args in by_name["COPY"]:
        *sources, _dest = args.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    assert any("pip install --no-cache-dir ." in run for run in by_name["RUN"])
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert by_name["ENTRYPOINT"] == ['["creditwatch"]'] and "creditwatch" in scripts
    assert by_name["CMD"] == ['["worker"]']
    (user,) = by_name["USER"]
    assert user not in {"root", "0"}
    env = " ".join(by_name["ENV"])
    assert "CREDITWATCH_API_HOST=0.0.0.0" in env
    assert "CREDITWATCH_WORKER_METRICS_HOST=0.0.0.0" in env
    assert "CREDITWATCH_SIDECAR_METRICS_HOST=0.0.0.0" in env
    assert set(" ".join(by_name["EXPOSE"]).split()) == {"8000", "9108", "9109"}


def test_dockerignore_keeps_what_the_image_copies() -> None:
    """BuildKit reads docker/Dockerfile.dockerignore (the context is the root): an
    allow-list, which must let through every COPY source."""
    patterns = [
        line.strip()
        for line in (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "**"
    allowed = {p[1:] for p in patterns if p.startswith("!")}
    for instruction, args in dockerfile_instructions():
        if instruction == "COPY":
            *sources, _dest = args.split()
            assert set(sources) <= allowed, sources
