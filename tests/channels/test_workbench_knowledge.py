"""The workbench's knowledge routes on the real gateway app: who may call them, the inbox's groups
and what staff do with one (on a temporary copy of the knowledge and a temporary NLU file), the
命中测试, and 发布 into a temporary index."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))  # staff_support
sys.path.insert(0, str(Path(__file__).parents[1] / "workbench"))  # workbench_support

from staff_support import add_account, sign_in
from workbench_support import add_turn, copy_knowledge, settings_in

from channels.app import create_app
from core.settings import GatewaySettings, ServicesSettings, Settings
from services.catalog import load_catalog
from services.db import make_engine, make_sessionmaker, migrate
from services.facade import Services
from services.models import AuditRecord, ReviewOutcome, TurnKind

pytestmark = pytest.mark.slow  # the inbox encodes with the real model

DIBAO = ["低保咋个申请", "低保怎么申请啊", "低保咋个申请"]
PASSPORT = ["护照过期了在哪里换", "护照过期了去哪换"]


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workbench-knowledge")


@pytest.fixture(scope="module")
def settings(root: Path) -> Settings:
    url = f"sqlite:///{root / 'services.db'}"
    return settings_in(
        root,
        copy_knowledge(root / "knowledge"),
        environment="development",
        services=ServicesSettings(database_url=url),
        gateway=GatewaySettings(rasa_url=_dead_url(), rasa_timeout_seconds=1),
    )


@pytest.fixture(scope="module")
def app(settings: Settings) -> Iterator[TestClient]:
    migrate(settings.services.database_url)
    services = Services(make_sessionmaker(make_engine(settings.services.database_url)), settings.services)
    services.sync_catalog(load_catalog(settings.knowledge.guides_dir, settings.knowledge.halls_file))
    with TestClient(create_app(settings, services=services)) as client:
        add_account(client, "zy4001", "孙知识", "knowledge")
        add_account(client, "zy1001", "王芳", "agent")
        yield client


@pytest.fixture(scope="module")
def knowledge(app: TestClient) -> TestClient:
    return sign_in(app, "zy4001")


@pytest.fixture(autouse=True)
def turns(app: TestClient, request: pytest.FixtureRequest) -> Iterator[None]:
    """Fresh candidates for each test, with ids of its own; what a test leaves is dismissed."""
    services: Services = app.app.state.services  # type: ignore[attr-defined]
    prefix = request.node.name[-20:]
    for i, text in enumerate(DIBAO):
        add_turn(services, f"{prefix}-d{i}", text, channel="wechat" if i else "web")
    for i, text in enumerate(PASSPORT):
        add_turn(services, f"{prefix}-p{i}", text, kind=TurnKind.answered, confidence=0.3)
    yield
    left = services.inbox_candidates(low_confidence=0.6, low_rating=2, limit=1000)
    if left:
        services.review_inbox(
            [t.turn_id for t in left], ReviewOutcome.dismissed, detail=None, actor="cli:test"
        )


def _groups(client: TestClient) -> dict[str, dict]:
    response = client.get("/api/workbench/inbox")
    assert response.status_code == 200, response.text
    assert response.json()["limit"] == 2000  # the page says when only the newest are listed
    return {group["label"]: group for group in response.json()["groups"]}


def _group(client: TestClient, wording: str) -> dict:
    return next(group for group in _groups(client).values() if wording in group["examples"])


def test_only_signed_in_knowledge_staff_may_use_the_routes(app: TestClient, knowledge: TestClient) -> None:
    anonymous = TestClient(app.app)
    anonymous.portal = app.portal
    agent = sign_in(app, "zy1001")
    calls = [
        ("GET", "/api/workbench/inbox", None),
        ("GET", "/api/workbench/hit-test?q=低保", None),
        ("POST", "/api/workbench/inbox/dismiss", {"turn_ids": ["x"]}),
        ("POST", "/api/workbench/knowledge/publish", None),
    ]
    for method, url, body in calls:
        assert anonymous.request(method, url, json=body).status_code == 401, url
        refused = agent.request(method, url, json=body)
        assert refused.status_code == 403 and "知识" in refused.json()["detail"]["message"], url
    no_csrf = TestClient(app.app, cookies=knowledge.cookies)
    no_csrf.portal = app.portal
    assert no_csrf.post("/api/workbench/inbox/dismiss", json={"turn_ids": ["x"]}).status_code == 403


def test_a_group_attached_as_an_alias_is_written_to_the_guide_and_leaves_the_inbox(
    app: TestClient, knowledge: TestClient, settings: Settings
) -> None:
    group = _group(knowledge, "低保咋个申请")
    assert group["count"] == 3 and group["channels"] == {"wechat": 2, "web": 1}
    assert group["suggestion"]["guide_id"] == "zuidi_shenghuo_baozhang_shenqing"
    passport = _group(knowledge, "护照过期了去哪换")
    assert passport["reasons"] == {"low_confidence": 2}

    done = knowledge.post(
        "/api/workbench/inbox/alias",
        json={
            "turn_ids": group["turn_ids"],
            "guide_id": "zuidi_shenghuo_baozhang_shenqing",
            "alias": "兜底钱",
        },
    )
    assert done.status_code == 200, done.text
    assert done.json()["turns"] == 3 and "兜底钱" in done.json()["message"]

    assert not any("低保咋个申请" in g["examples"] for g in _groups(knowledge).values())
    guide = yaml.safe_load(
        (settings.knowledge.guides_dir / "zuidi_shenghuo_baozhang_shenqing.yaml").read_text(encoding="utf-8")
    )
    assert guide["aliases"][-1] == "兜底钱"
    with app.app.state.services.unit() as (session, _ctx):  # type: ignore[attr-defined]
        audit = session.scalars(select(AuditRecord).where(AuditRecord.action == "inbox.review")).all()
    assert ("zy4001", "alias") in {(row.actor, row.result) for row in audit}

    again = knowledge.post("/api/workbench/inbox/dismiss", json={"turn_ids": group["turn_ids"]})
    assert again.status_code == 409 and "已经处理过" in again.json()["detail"]["message"]


def test_an_invalid_alias_is_refused_naming_the_field_and_the_group_stays(
    knowledge: TestClient, settings: Settings
) -> None:
    group = _group(knowledge, "护照过期了去哪换")
    path = settings.knowledge.guides_dir / "gaoling_butie.yaml"
    before = path.read_bytes()
    refused = knowledge.post(
        "/api/workbench/inbox/alias",
        json={"turn_ids": group["turn_ids"], "guide_id": "gaoling_butie", "alias": "我的电话13985001234"},
    )
    assert refused.status_code == 422
    assert refused.json()["detail"]["field"] == "aliases" and "手机号" in refused.json()["detail"]["message"]
    assert path.read_bytes() == before
    assert _group(knowledge, "护照过期了去哪换")["count"] == group["count"]


def test_labelling_an_intent_writes_the_groups_wordings_for_the_next_training(
    knowledge: TestClient, settings: Settings
) -> None:
    group = _group(knowledge, "护照过期了去哪换")
    unknown = knowledge.post(
        "/api/workbench/inbox/intent", json={"turn_ids": group["turn_ids"], "intent": "ask_weather"}
    )
    assert unknown.status_code == 422 and unknown.json()["detail"]["field"] == "intent"

    done = knowledge.post(
        "/api/workbench/inbox/intent", json={"turn_ids": group["turn_ids"], "intent": "ask_location"}
    )
    assert done.status_code == 200, done.text
    data = yaml.safe_load(settings.workbench.annotated_nlu_file.read_text(encoding="utf-8"))
    block = next(item for item in data["nlu"] if item["intent"] == "ask_location")
    assert {"- 护照过期了在哪里换", "- 护照过期了去哪换"} <= set(block["examples"].splitlines())
    assert not any("护照过期了去哪换" in g["examples"] for g in _groups(knowledge).values())


@pytest.mark.parametrize("action", ["out-of-scope", "dismiss"])
def test_out_of_scope_and_dismissed_groups_leave_the_inbox(knowledge: TestClient, action: str) -> None:
    group = _group(knowledge, "低保怎么申请啊")
    done = knowledge.post(f"/api/workbench/inbox/{action}", json={"turn_ids": group["turn_ids"]})
    assert done.status_code == 200 and done.json()["turns"] == 3
    assert not any("低保怎么申请啊" in g["examples"] for g in _groups(knowledge).values())


def test_the_hit_test_shows_ranks_for_a_known_question_and_not_sure_for_nonsense(
    knowledge: TestClient,
) -> None:
    known = knowledge.get("/api/workbench/hit-test", params={"q": "低保要带哪些材料"})
    assert known.status_code == 200, known.text
    body = known.json()
    top = body["documents"][0]
    assert top["doc_id"] == "zuidi_shenghuo_baozhang_shenqing" and top["hybrid_rank"] == 1
    assert top["bm25_rank"] and top["dense_rank"] and top["bm25_score"] > 0
    assert body["decision"]["guide_id"] == "zuidi_shenghuo_baozhang_shenqing"
    assert body["decision"]["section"] == "materials" and body["reply"]
    assert body["nlu"] is None and "Rasa" in body["nlu_error"]  # Rasa is not running here

    nonsense = knowledge.get("/api/workbench/hit-test", params={"q": "紫色的风扇在唱歌吗"}).json()
    assert nonsense["decision"]["kind"] == "not_sure" and "没有把握" in nonsense["reply"]

    empty = knowledge.get("/api/workbench/hit-test", params={"q": "  "})
    assert empty.status_code == 422 and "不能为空" in empty.json()["detail"]["message"]


def test_publishing_builds_the_index_from_the_edited_guides(
    knowledge: TestClient, settings: Settings
) -> None:
    published = knowledge.post("/api/workbench/knowledge/publish")
    assert published.status_code == 200, published.text
    body = published.json()
    assert body["guides"] == 4 and body["problems"] == [] and "索引完成" in body["summary"]
    assert (settings.index.index_dir / "manifest.json").exists()
    again = knowledge.post("/api/workbench/knowledge/publish").json()
    assert again["up_to_date"] and "已是最新" in again["summary"]
