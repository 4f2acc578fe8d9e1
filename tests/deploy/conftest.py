"""The rendered manifests of each variant, once per session; skipped only without kubectl."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # deploy_support, whatever pytest's import mode

from deploy_support import DOCKER, VARIANTS, Dockerfile, Manifests, render


@pytest.fixture(scope="session")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Manifests]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: the manifests cannot be rendered (kubectl kustomize)")
    workdir = tmp_path_factory.mktemp("k8s")
    return {variant: Manifests(variant, render(variant, workdir)) for variant in VARIANTS}


@pytest.fixture(params=list(VARIANTS))
def rendered(request: pytest.FixtureRequest, manifests: dict[str, Manifests]) -> Manifests:
    """Each variant in turn: what holds for the base must still hold after the overlay."""
    return manifests[request.param]


@pytest.fixture
def production(manifests: dict[str, Manifests]) -> Manifests:
    return manifests["production"]


@pytest.fixture(scope="session")
def app_image() -> Dockerfile:
    return Dockerfile.read(DOCKER / "app.Dockerfile")


@pytest.fixture(scope="session")
def rasa_image() -> Dockerfile:
    return Dockerfile.read(DOCKER / "rasa.Dockerfile")
