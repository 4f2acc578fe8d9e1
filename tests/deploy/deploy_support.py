"""The deployment files read as an operator's tools read them: the manifests kustomize renders,
the Dockerfiles' instructions, and which paths .dockerignore keeps out of the build context."""

from __future__ import annotations

import base64
import json
import posixpath
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
DOCKER = ROOT / "deploy" / "docker"
VARIANTS = {"base": "base", "production": "overlays/production"}

Obj = dict[str, Any]


def render(variant: str, workdir: Path) -> list[Obj]:
    """``kubectl kustomize`` of a copy of deploy/k8s in which every ``*.env.example`` stands in
    for the git-ignored env file it documents (an operator's real secrets are never read)."""
    copy = workdir / "k8s"
    if not copy.exists():
        shutil.copytree(K8S, copy, ignore=shutil.ignore_patterns("*-secrets.env"))
        for example in copy.rglob("*.env.example"):
            example.with_suffix("").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    result = subprocess.run(
        ["kubectl", "kustomize", str(copy / VARIANTS[variant])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"kubectl kustomize deploy/k8s/{VARIANTS[variant]} failed:\n{result.stderr}")
    return [obj for obj in yaml.safe_load_all(result.stdout) if obj]


@dataclass(frozen=True)
class EnvVar:
    """One environment variable of a container and where its value comes from."""

    name: str
    value: str | None
    source: str  # "literal", "configMap", "secret" or "field"
    ref: str = ""  # the ConfigMap or Secret
    key: str = ""


@dataclass(frozen=True)
class Manifests:
    variant: str
    objects: list[Obj]

    def of_kind(self, kind: str) -> list[Obj]:
        return [obj for obj in self.objects if obj["kind"] == kind]

    def named(self, kind: str) -> dict[str, Obj]:
        return {obj["metadata"]["name"]: obj for obj in self.of_kind(kind)}

    def one(self, kind: str, name: str) -> Obj:
        found = self.named(kind)
        assert name in found, f"{self.variant}: no {kind} {name!r} (there are {sorted(found)})"
        return found[name]

    def autoscalers(self) -> dict[str, Obj]:
        """HorizontalPodAutoscalers by the name of what they scale."""
        return {h["spec"]["scaleTargetRef"]["name"]: h for h in self.of_kind("HorizontalPodAutoscaler")}

    def workloads(self) -> dict[str, Obj]:
        """Deployments, Jobs and the Jobs of CronJobs by name."""
        scheduled = {
            name: {
                "kind": "CronJob",
                "metadata": cron["metadata"],
                "spec": cron["spec"]["jobTemplate"]["spec"],
            }
            for name, cron in self.named("CronJob").items()
        }
        return {**self.named("Deployment"), **self.named("Job"), **scheduled}

    def data(self, kind: str, name: str) -> dict[str, str]:
        """A ConfigMap's or Secret's values, decoded; empty when there is no such object."""
        obj = self.named(kind).get(name)
        if obj is None:
            return {}
        values = dict(obj.get("stringData") or {})
        encoded = obj.get("data") or {}
        if kind == "Secret":
            values.update({k: base64.b64decode(v).decode() for k, v in encoded.items()})
        else:
            values.update(encoded)
        return values

    def env(self, container: Obj) -> dict[str, EnvVar]:
        """What the container's process sees: envFrom sources in order, then env (which wins)."""
        found: dict[str, EnvVar] = {}
        for source in container.get("envFrom") or []:
            prefix = source.get("prefix", "")
            for kind, field in (("configMap", "configMapRef"), ("secret", "secretRef")):
                if field in source:
                    ref = source[field]["name"]
                    values = self.data("ConfigMap" if kind == "configMap" else "Secret", ref)
                    for key, value in values.items():
                        found[prefix + key] = EnvVar(prefix + key, value, kind, ref, key)
        for item in container.get("env") or []:
            name, origin = item["name"], item.get("valueFrom")
            if origin is None:
                found[name] = EnvVar(name, str(item.get("value", "")), "literal")
            elif "secretKeyRef" in origin:
                ref, key = origin["secretKeyRef"]["name"], origin["secretKeyRef"]["key"]
                found[name] = EnvVar(name, self.data("Secret", ref).get(key), "secret", ref, key)
            elif "configMapKeyRef" in origin:
                ref, key = origin["configMapKeyRef"]["name"], origin["configMapKeyRef"]["key"]
                found[name] = EnvVar(name, self.data("ConfigMap", ref).get(key), "configMap", ref, key)
            else:
                found[name] = EnvVar(name, None, "field")
        return found


def pod_spec(workload: Obj) -> Obj:
    spec: Obj = workload["spec"]["template"]["spec"]
    return spec


def main_container(workload: Obj) -> Obj:
    """The container named after its Deployment or Job (the only one, here)."""
    name = workload["metadata"]["name"]
    containers = {c["name"]: c for c in pod_spec(workload)["containers"]}
    assert name in containers, f"{workload['kind']} {name}: no container named {name} ({sorted(containers)})"
    return containers[name]


def pod_labels(workload: Obj) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"].get("labels") or {}
    return labels


def selects(selector: Obj, labels: dict[str, str]) -> bool:
    """A label selector (plain map or matchLabels/matchExpressions) against a pod's labels."""
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        selector = {"matchLabels": selector}
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        return True
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not ok:
            return False
    return True


def container_port(container: Obj, port: int | str) -> int | None:
    """A probe's or Service's target port as a number, if the container declares it."""
    for declared in container.get("ports") or []:
        if port in (declared["containerPort"], declared.get("name")):
            return int(declared["containerPort"])
    return None


def quantity(value: str | int | float) -> float:
    """A Kubernetes quantity (500m, 1536Mi, 2Gi, "1") as a number of cores or bytes."""
    text = str(value)
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9, "m": 1e-3}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Docker's path globs (.dockerignore, COPY): * and ? stay within one path segment, ** spans."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


@dataclass(frozen=True)
class DockerIgnore:
    rules: list[tuple[bool, re.Pattern[str]]]  # (excludes, pattern), in file order

    @classmethod
    def read(cls, path: Path) -> DockerIgnore:
        rules = []
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            excludes = not line.startswith("!")
            pattern = posixpath.normpath(line.lstrip("!").strip().lstrip("/"))
            rules.append((excludes, glob_regex(pattern)))
        return cls(rules)

    def excludes(self, path: str) -> bool:
        """As the builder decides: the last rule matching the path or one of its parents wins."""
        parts = path.strip("/").split("/")
        candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        excluded = False
        for excludes, pattern in self.rules:
            if any(pattern.fullmatch(candidate) for candidate in candidates):
                excluded = excludes
        return excluded


@dataclass(frozen=True)
class Copy:
    sources: list[str]
    dest: str

    def landing(self, path: str, workdir: str) -> str | None:
        """Where the build-context file ``path`` ends up in the image, if this COPY takes it."""
        dest = posixpath.normpath(
            self.dest if self.dest.startswith("/") else posixpath.join(workdir, self.dest)
        )
        into_directory = self.dest.endswith("/") or len(self.sources) > 1
        for source in (s.rstrip("/") for s in self.sources):
            if any(c in source for c in "*?["):
                if glob_regex(source).fullmatch(path):
                    return posixpath.join(dest, posixpath.basename(path))
            elif path == source:
                return posixpath.join(dest, posixpath.basename(path)) if into_directory else dest
            elif path.startswith(source + "/"):  # a directory: its contents go into dest
                return posixpath.join(dest, path[len(source) + 1 :])
        return None


@dataclass(frozen=True)
class Dockerfile:
    path: Path
    instructions: list[tuple[str, str]]  # (KEYWORD, arguments), continuation lines joined

    @classmethod
    def read(cls, path: Path) -> Dockerfile:
        instructions, pending = [], ""
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if stripped.endswith("\\"):
                pending += stripped[:-1] + " "
                continue
            keyword, _, arguments = (pending + stripped).partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
            pending = ""
        return cls(path, instructions)

    def arguments(self, keyword: str) -> list[str]:
        return [arguments for kw, arguments in self.instructions if kw == keyword]

    @property
    def base_image(self) -> str:
        return self.arguments("FROM")[0].split()[0]

    @property
    def workdir(self) -> str:
        return self.arguments("WORKDIR")[-1]

    @property
    def user(self) -> str:
        return self.arguments("USER")[-1]

    @property
    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for arguments in self.arguments("ENV"):
            for item in shlex.split(arguments):
                name, _, value = item.partition("=")
                values[name] = value
        return values

    @property
    def cmd(self) -> list[str]:
        cmd = self.arguments("CMD")[-1]
        return list(json.loads(cmd)) if cmd.startswith("[") else ["/bin/sh", "-c", cmd]

    @property
    def program(self) -> list[str]:
        """The argv the container finally runs: a shell CMD's ``exec`` step, else the CMD itself."""
        cmd = self.cmd
        if Path(cmd[0]).name not in ("sh", "bash") or cmd[1:2] != ["-c"]:
            return cmd
        steps = [step.strip() for step in re.split(r"&&|;", cmd[2])]
        execs = [shlex.split(step)[1:] for step in steps if step.startswith("exec ")]
        assert len(execs) == 1, f"{self.path.name}: CMD should exec one program: {cmd[2]!r}"
        return execs[0]

    @property
    def copies(self) -> list[Copy]:
        """COPY instructions from the build context (not --from another stage or image)."""
        found = []
        for arguments in self.arguments("COPY"):
            words = json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)
            if any(word.startswith("--from") for word in words):
                continue
            paths = [word for word in words if not word.startswith("--")]
            found.append(Copy(paths[:-1], paths[-1]))
        return found

    def landing(self, path: str) -> str | None:
        """Where the build-context file ``path`` ends up (the last COPY taking it wins)."""
        landings = [copy.landing(path, self.workdir) for copy in self.copies]
        taken = [where for where in landings if where is not None]
        return taken[-1] if taken else None


def options(argv: list[str]) -> tuple[list[str], dict[str, str | bool]]:
    """Positional words and --options (with their value, or True for a flag) of a command line."""
    positional: list[str] = []
    found: dict[str, str | bool] = {}
    i = 0
    while i < len(argv):
        word = argv[i]
        if word.startswith("--"):
            if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                found[word] = argv[i + 1]
                i += 2
                continue
            found[word] = True
        else:
            positional.append(word)
        i += 1
    return positional, found
