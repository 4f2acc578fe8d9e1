"""The two images start what `make run` starts (core/processes.py), hold every file those
processes read, keep a developer's machine out of the build, and run as the user the pods expect."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import tomllib
import yaml
from deploy_support import ROOT, Dockerfile, DockerIgnore, Manifests, main_container, options, pod_spec
from pydantic import SecretStr

from core.processes import gateway, rasa_server
from core.rasa_model import model_path
from core.settings import PROJECT_ROOT, RasaSettings, Settings
from indexer.onnx_encoder import FP32_FILE, INT8_FILE, onnx_dir

# Options of `rasa run` in core/processes.py that the image leaves out on purpose.
RASA_OPTIONS_NOT_IN_IMAGE = {
    "--cors": "only the gateway calls Rasa, never a browser",
    "--interface": "Rasa's default, 0.0.0.0, is what a pod needs",
}
PROJECT_PACKAGES = (
    "core",
    "indexer",
    "services",
    "answering",
    "workbench",
    "channels",
    "bot",
    "rasa_sdk_plugins",
)


def _pod_settings() -> Settings:
    """Settings under which core/processes.py starts what a pod runs: Rasa reachable from other
    machines, with its token, on the production endpoints."""
    rasa = RasaSettings(
        host="0.0.0.0", auth_token=SecretStr("token"), endpoints=PROJECT_ROOT / "endpoints.production.yml"
    )
    return Settings(_env_file=None).model_copy(update={"rasa": rasa})  # type: ignore[call-arg]


def _relative(value: str | bool) -> str | bool:
    if isinstance(value, str) and value.startswith(str(PROJECT_ROOT) + "/"):
        return value[len(str(PROJECT_ROOT)) + 1 :]
    return value


def test_app_image_starts_the_gateway(app_image: Dockerfile) -> None:
    expected = gateway(_pod_settings()).argv
    assert app_image.cmd == ["python", *expected[1:]]
    assert app_image.base_image == "python:3.11-slim"


def test_rasa_image_runs_what_make_run_runs(rasa_image: Dockerfile) -> None:
    expected_words, expected = options(rasa_server(_pod_settings()).argv)
    words, found = options(rasa_image.program)
    assert Path(words[0]).name == Path(expected_words[0]).name == "rasa"
    assert words[1:] == expected_words[1:] == ["run"]
    assert found["--auth-token"] == "$ZY_RASA__AUTH_TOKEN", "Rasa's API must need the token"
    for option, value in expected.items():
        if option in RASA_OPTIONS_NOT_IN_IMAGE or option == "--auth-token":
            continue
        assert option in found, f"rasa.Dockerfile leaves out {option}"
        assert found[option] == _relative(value), (
            f"{option}: {found[option]} in the image, {value} in make run"
        )
    unexplained = set(found) - set(expected)
    assert not unexplained, f"rasa.Dockerfile adds {unexplained}"
    assert found["--model"] == _relative(str(model_path(_pod_settings())))
    # The shell form is only there to read the token; without it the container must not start.
    assert ":?" in rasa_image.cmd[2] and rasa_image.cmd[2].index(":?") < rasa_image.cmd[2].index("exec ")
    assert rasa_image.base_image == "python:3.10-slim"
    assert rasa_image.env["RASA_TELEMETRY_ENABLED"] == "false"


def test_torch_is_the_cpu_build_setup_installs(app_image: Dockerfile) -> None:
    pin = re.search(r"torch==[\w.]+", (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8"))
    assert pin is not None
    installs = [run for run in app_image.arguments("RUN") if "torch==" in run]
    assert len(installs) == 1 and pin.group(0) in installs[0].split()
    assert "--index-url" in installs[0], "a bare torch from PyPI is the multi-GB CUDA build"


def test_app_image_builds_model_and_index_offline(app_image: Dockerfile) -> None:
    steps = ["python -m indexer.e5_convert", "python -m indexer.onnx_export", "python -m indexer build"]
    runs = [run for run in app_image.arguments("RUN") if "indexer" in run]
    assert len(runs) == 1, runs
    positions = [runs[0].find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), runs[0]
    order = [kw + " " + args for kw, args in app_image.instructions]
    build = next(i for i, line in enumerate(order) if "indexer build" in line)
    assert build < next(i for i, line in enumerate(order) if line.startswith("USER")), "var/ built as root"
    assert all(app_image.landing(p) for p in ("indexer/__main__.py", "knowledge/halls.yaml")), "copy first"
    assert app_image.env["HF_HUB_OFFLINE"] == "1", "a hidden download must fail the build, not a pod"


def test_app_image_holds_every_package_and_what_the_settings_read(
    app_image: Dockerfile, manifests: dict[str, Manifests]
) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = [p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]]
    assert sorted(packages) == sorted(PROJECT_PACKAGES)
    assert app_image.workdir == "/app" and app_image.env["PYTHONPATH"] == "/app"
    for package in packages:
        assert app_image.landing(f"{package}/__init__.py") == f"/app/{package}/__init__.py", package
    guide = next((ROOT / "knowledge" / "guides").iterdir()).relative_to(ROOT).as_posix()
    assert app_image.landing(guide) == f"/app/{guide}"
    gateway = manifests["production"].env(
        main_container(manifests["production"].one("Deployment", "gateway"))
    )
    endpoints = gateway["ZY_RASA__ENDPOINTS"].value or ""
    assert app_image.landing(endpoints) == f"/app/{endpoints}", "the production check reads this file"


def _custom_modules() -> set[str]:
    """Project modules Rasa imports by name: NLU components (config.yml), channels (credentials.yml),
    the tracker store and event broker of the production endpoints."""
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8")) or {}
    endpoints = yaml.safe_load((ROOT / "endpoints.production.yml").read_text(encoding="utf-8")) or {}
    stores = [str(section.get("type", "")) for section in endpoints.values() if isinstance(section, dict)]
    names = [c["name"] for c in config["pipeline"] + config["policies"]] + list(credentials) + stores
    return {name.rsplit(".", 1)[0] for name in names if "." in name}


def _module_files(modules: set[str]) -> set[str]:
    """The project files those modules need, following their imports of project packages."""
    files: set[str] = set()
    pending = list(modules)
    while pending:
        module = pending.pop()
        parts = module.split(".")
        if parts[0] not in PROJECT_PACKAGES:
            continue
        for depth in range(1, len(parts)):
            files.add("/".join(parts[:depth]) + "/__init__.py")
        path = "/".join(parts) + ".py"
        if not (ROOT / path).exists():
            path = "/".join(parts) + "/__init__.py"
        if path in files:
            continue
        files.add(path)
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                pending += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                pending.append(node.module)
    return files


def _files_the_pipeline_reads() -> set[str]:
    """Files under var/ that config.yml's components open when the model loads."""
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    files: set[str] = set()
    for component in config["pipeline"]:
        for key, value in component.items():
            if not isinstance(value, str) or not value.startswith("var/"):
                continue
            if component["name"].endswith("E5Featurizer") and key == "model_dir":
                model = Path(value)
                export = INT8_FILE if component.get("quantized") else FP32_FILE
                files |= {
                    f"{value}/tokenizer.json",
                    f"{value}/config.json",
                    (onnx_dir(model) / export).as_posix(),
                }
            elif Path(value).suffix:
                files.add(value)
            else:
                files.add(f"{value}/any-file")  # a directory: whatever it holds
    return files


def test_rasa_image_holds_what_the_model_loads(rasa_image: Dockerfile) -> None:
    modules = _custom_modules()
    assert {"bot.nlu.normalizer", "channels.rasa_connector"} <= modules
    _, flags = options(rasa_image.program)
    needed = (
        _module_files(modules)
        | _files_the_pipeline_reads()
        | {str(flags["--model"]), str(flags["--endpoints"]), str(flags["--credentials"])}
    )
    ignored = DockerIgnore.read(ROOT / ".dockerignore")
    assert rasa_image.workdir == "/app" and rasa_image.env["PYTHONPATH"] == "/app"
    for path in sorted(needed):
        assert rasa_image.landing(path) == f"/app/{path}", f"the Rasa image lacks {path}"
        assert not ignored.excludes(path), f".dockerignore keeps {path} out of the build context"


def test_dockerignore_keeps_the_machine_out_and_the_copies_in(
    app_image: Dockerfile, rasa_image: Dockerfile
) -> None:
    ignored = DockerIgnore.read(ROOT / ".dockerignore")
    for path in (
        ".git/HEAD",
        ".venv/bin/python",
        ".venv-rasa/bin/rasa",
        "var/index/index.faiss",
        "var/services.db",
        "var/models/multilingual-e5-small/model.safetensors",
        "var/models/multilingual-e5-small-onnx/model.onnx",
        "models/old.tar.gz",
        "core/__pycache__/settings.cpython-311.pyc",
        "deploy/k8s/overlays/production/app-secrets.env",
        ".env",
    ):
        assert ignored.excludes(path), f".dockerignore lets {path} into the build context"
    for image in (app_image, rasa_image):
        for copy in image.copies:
            for source in copy.sources:
                if source.startswith(("var/", "models/")) or "*" in source:
                    continue  # made by make train, not in the repository
                assert (ROOT / source).exists(), f"{image.path.name} copies {source}, which does not exist"
                assert not ignored.excludes(source), f"{image.path.name} copies {source}, which is ignored"


def test_images_run_as_the_user_the_pods_expect(
    app_image: Dockerfile, rasa_image: Dockerfile, manifests: dict[str, Manifests]
) -> None:
    for image in (app_image, rasa_image):
        user, _, group = image.user.partition(":")
        assert user.isdigit() and int(user) != 0 and group.isdigit(), "runAsNonRoot needs a numeric user"
        for variant in manifests.values():
            for name, workload in variant.workloads().items():
                context = pod_spec(workload)["securityContext"]
                assert context["runAsNonRoot"] is True, name
                assert (context["runAsUser"], context["runAsGroup"]) == (int(user), int(group)), name
