"""The hotline console's server side: the assist WebSocket and the handoff desk, with a fake Rasa
/model/parse and the fake WeChat API on loopback (the index is the real one). Staff sign in as
the console does (session cookie over HTTPS, CSRF header on writes)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

sys.path.insert(0, str(Path(__file__).parent))  # wechat_fake, staff_support, whatever pytest's import mode

from staff_support import add_account, sign_in, socket_headers
from wechat_fake import FakeWeChatAPI, make_settings, serve

from channels.app import create_app
from core.settings import GatewaySettings
from services.handoff_desk import HandoffRequest

AGENT, OTHER_AGENT = "zy1001", "zy1002"
FEE_QUESTION = "新农合交好多钱"
FEE_GUIDE = "城乡居民基本医疗保险参保缴费"
NLU_FAILS = "低保要带哪些材料"


def fake_rasa() -> FastAPI:
    """/model/parse with canned readings; one question gets a 500, as a broken Rasa would."""
    api = FastAPI()

    @api.post("/model/parse")
    async def parse(request: Request) -> Any:
        text = (await request.json())["text"]
        if text == NLU_FAILS:
            return JSONResponse({"error": "boom"}, status_code=500)
        if text == FEE_QUESTION:
            return {
                "text": text,
                "intent": {"name": "ask_fee", "confidence": 0.97},
                "entities": [{"entity": "service", "value": FEE_GUIDE, "start": 0, "end": 3}],
            }
        return {"text": text, "intent": {"name": "out_of_scope", "confidence": 0.41}, "entities": []}

    return api


@pytest.fixture(scope="module")
def wechat_api() -> Iterator[tuple[FakeWeChatAPI, str]]:
    api = FakeWeChatAPI()
    with serve(api.app()) as url:
        yield api, url


@pytest.fixture(scope="module")
def client(
    wechat_api: tuple[FakeWeChatAPI, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    with serve(fake_rasa()) as rasa_url:
        settings = make_settings(tmp_path_factory.mktemp("assist"), wechat_api[1])
        gateway = GatewaySettings(**{**settings.gateway.model_dump(), "rasa_url": rasa_url})
        app = create_app(settings.model_copy(update={"gateway": gateway}))
        with TestClient(app, base_url="https://testserver") as test_client:
            add_account(test_client, AGENT, "王芳", "agent")
            add_account(test_client, OTHER_AGENT, "李强", "agent")
            add_account(test_client, "zy2001", "孙丽", "business")
            add_account(test_client, "zy3001", "赵敏", "auditor")
            yield test_client


@pytest.fixture(scope="module")
def wang(client: TestClient) -> TestClient:
    """王芳's console (role 坐席)."""
    return sign_in(client, AGENT, secure=True)


@pytest.fixture(scope="module")
def li(client: TestClient) -> TestClient:
    """李强's console (role 坐席)."""
    return sign_in(client, OTHER_AGENT, secure=True)


def _ask(socket: Any, utterance_id: int, text: str) -> dict[str, Any]:
    socket.send_json({"type": "utterance", "id": utterance_id, "text": text})
    while True:
        message = socket.receive_json()
        if message.get("id") == utterance_id:
            return dict(message)


# --- the assist WebSocket -----------------------------------------------------------------------


def test_socket_refuses_a_browser_not_signed_in(client: TestClient) -> None:
    with client.websocket_connect("/api/assist/ws") as socket:
        socket.send_json({"type": "utterance", "id": 1, "text": FEE_QUESTION})
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
    assert (closed.value.code, closed.value.reason) == (1008, "请先登录。")


def test_colloquial_question_gets_the_guide_answer_to_read_out(wang: TestClient) -> None:
    with wang.websocket_connect("/api/assist/ws", headers=socket_headers(wang)) as socket:
        assert socket.receive_json() == {"type": "ready"}
        suggestion = _ask(socket, 1, FEE_QUESTION)
    assert suggestion["type"] == "suggestion"
    assert suggestion["nlu"]["intent"] == "ask_fee"
    assert suggestion["nlu"]["entities"][0]["value"] == FEE_GUIDE
    assert suggestion["hits"][0]["title"] == FEE_GUIDE
    assert suggestion["confident"] is True and suggestion["not_sure"] is None
    answer = suggestion["answer"]
    assert answer["title"] == FEE_GUIDE
    assert (answer["aspect"], answer["aspect_label"]) == ("fees", "收费标准")
    assert "收费标准" in answer["text"]
    assert answer["citation"].startswith(f"来源：《{FEE_GUIDE}》") and "示例数据" in answer["citation"]
    assert "示例数据" in answer["notice"]


def test_nonsense_gets_not_sure_and_no_answer(wang: TestClient) -> None:
    with wang.websocket_connect("/api/assist/ws", headers=socket_headers(wang)) as socket:
        assert socket.receive_json()["type"] == "ready"
        suggestion = _ask(socket, 1, "阿巴阿巴 蓝色的月亮跳舞")
    assert suggestion["answer"] is None and suggestion["confident"] is False
    assert "没有把握" in suggestion["not_sure"]


def test_a_replacement_the_guide_does_not_cover_warns_the_operator_not_to_read_it(wang: TestClient) -> None:
    with wang.websocket_connect("/api/assist/ws", headers=socket_headers(wang)) as socket:
        assert socket.receive_json()["type"] == "ready"
        suggestion = _ask(socket, 2, "结婚证搞丢了咋个补办")
    assert suggestion["answer"] is None
    assert "补办" in suggestion["not_sure"] and "「结婚登记」" in suggestion["not_sure"]


def test_without_nlu_the_answer_follows_the_matched_section(wang: TestClient) -> None:
    with wang.websocket_connect("/api/assist/ws", headers=socket_headers(wang)) as socket:
        socket.receive_json()
        suggestion = _ask(socket, 3, NLU_FAILS)
    assert suggestion["nlu"] is None and "语义解析暂不可用" in suggestion["nlu_error"]
    answer = suggestion["answer"]
    assert answer["aspect"] == "materials" and answer["materials"], answer
    assert answer["text"].startswith(f"办理「{answer['title']}」需要准备")


def test_fast_typing_is_answered_for_the_latest_utterance(wang: TestClient) -> None:
    prefixes = ["新", "新农", "新农合", "新农合交", "新农合交好多", FEE_QUESTION]
    with wang.websocket_connect("/api/assist/ws", headers=socket_headers(wang)) as socket:
        socket.receive_json()
        for number, text in enumerate(prefixes, 1):
            socket.send_json({"type": "utterance", "id": number, "text": text})
        seen: list[dict[str, Any]] = []
        while not seen or seen[-1]["id"] != len(prefixes):
            seen.append(socket.receive_json())
        socket.send_json({"type": "ping"})
        assert socket.receive_json() == {"type": "pong"}
    ids = [message["id"] for message in seen]
    assert ids == sorted(ids) and len(ids) == len(set(ids)), ids
    assert seen[-1]["answer"]["title"] == FEE_GUIDE


def test_bad_frames_get_an_error_and_the_session_goes_on(wang: TestClient) -> None:
    with wang.websocket_connect("/api/assist/ws", headers=socket_headers(wang)) as socket:
        socket.receive_json()
        socket.send_text("{not json")
        assert socket.receive_json()["type"] == "error"
        socket.send_json({"type": "utterance", "id": 9, "text": "办" * 600})
        assert "过长" in socket.receive_json()["message"]
        socket.send_json({"type": "utterance", "id": "x", "text": "hi"})
        assert socket.receive_json()["type"] == "error"
        assert _ask(socket, 10, FEE_QUESTION)["type"] == "suggestion"


# --- the handoff desk ----------------------------------------------------------------------------


TRANSCRIPT = [
    {"role": "user", "text": "新农合交好多钱"},
    {"role": "bot", "text": "2026年度个人缴费标准400元/人/年（示例）"},
    {"role": "user", "text": "转人工"},
]


def _open_handoff(client: TestClient, sender: str, channel: str) -> str:
    """As the bot's action opens one when a resident asks for a person (there is no public route)."""
    body = {"sender_id": sender, "channel": channel, "transcript": TRANSCRIPT, "reason": "用户要求"}
    services = client.app.state.services  # type: ignore[attr-defined]
    return str(services.open_handoff(HandoffRequest.model_validate(body)).ticket)


def _desk(staff: TestClient, method: str, path: str, **body: Any) -> Any:
    url = f"/api/staff/desk{path}"
    return staff.get(url) if method == "GET" else staff.post(url, json=body)


def test_the_desk_is_for_signed_in_agents(client: TestClient) -> None:
    assert client.get("/api/staff/desk/handoffs").status_code == 401
    business = sign_in(client, "zy2001", secure=True)
    refused = business.get("/api/staff/desk/handoffs")
    assert refused.status_code == 403 and "“坐席”" in refused.json()["detail"]["message"]


def test_web_handoff_claim_reply_close_round_trip(
    client: TestClient, wang: TestClient, li: TestClient
) -> None:
    sender = "web:0123456789abcdef0123456789abcdef"
    ticket = _open_handoff(client, sender, "web")
    queue = _desk(wang, "GET", "/handoffs").json()
    assert ticket in [h["ticket"] for h in queue["waiting"]]
    detail = _desk(wang, "GET", f"/handoffs/{ticket}").json()
    assert [m["role"] for m in detail["transcript"]] == ["user", "bot", "user"]
    # The sender id would open the resident's inbox: the desk names the resident by pseudonym only.
    assert sender.removeprefix("web:") not in str(queue) + str(detail)
    assert detail["resident"] and len(detail["resident"]) < len(sender)

    assert _desk(wang, "POST", f"/handoffs/{ticket}/reply", text="您好").status_code == 409
    # Whoever the body names, the agent is the signed-in account.
    claimed = _desk(wang, "POST", f"/handoffs/{ticket}/claim", agent=OTHER_AGENT)
    assert claimed.status_code == 200 and claimed.json()["status"] == "claimed"
    assert claimed.json()["agent"] == AGENT
    assert _desk(li, "POST", f"/handoffs/{ticket}/claim").status_code == 409
    queue = _desk(wang, "GET", "/handoffs").json()
    assert ticket not in [h["ticket"] for h in queue["waiting"]]
    assert ticket in [h["ticket"] for h in queue["mine"]]
    assert ticket not in [h["ticket"] for h in _desk(li, "GET", "/handoffs").json()["mine"]]
    other = _desk(li, "POST", f"/handoffs/{ticket}/reply", text="我来答")
    assert other.status_code == 409 and AGENT in other.json()["detail"]["message"]
    assert _desk(li, "POST", f"/handoffs/{ticket}/close").status_code == 409

    sent = _desk(wang, "POST", f"/handoffs/{ticket}/reply", text="您好，今年个人缴费400元。")
    assert sent.status_code == 200, sent.text
    assert sent.json()["delivered_by"] == "inbox"
    inbox = client.get("/api/chat/inbox", params={"sender_id": sender}).json()
    assert [m["text"] for m in inbox["messages"]] == ["您好，今年个人缴费400元。"]
    assert inbox["open"] is True and inbox["ticket"] == ticket
    last = inbox["messages"][-1]["id"]
    assert client.get("/api/chat/inbox", params={"sender_id": sender, "after": last}).json()["messages"] == []

    closed = _desk(wang, "POST", f"/handoffs/{ticket}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    inbox = client.get("/api/chat/inbox", params={"sender_id": sender, "after": last}).json()
    assert inbox["open"] is False and "人工服务已结束" in inbox["messages"][0]["text"]
    transcript = _desk(wang, "GET", f"/handoffs/{ticket}").json()["transcript"]
    assert [m["role"] for m in transcript][-2:] == ["agent", "agent"]

    auditor = sign_in(client, "zy3001", secure=True)
    audit = auditor.get("/api/staff/audit", params={"target": ticket}).json()
    actions = [record["action"] for record in reversed(audit)]
    assert actions == ["handoff.open", "handoff.claim", "handoff.reply", "handoff.reply", "handoff.close"]
    assert all(record["actor"] == AGENT for record in audit if record["action"] != "handoff.open")


def test_while_an_agent_holds_the_conversation_the_resident_talks_to_the_agent(
    client: TestClient, wang: TestClient
) -> None:
    sender = "web:fedcba9876543210fedcba9876543210"
    ticket = _open_handoff(client, sender, "web")
    assert _desk(wang, "POST", f"/handoffs/{ticket}/claim").status_code == 200

    def say(text: str) -> str:
        reply = client.post("/api/chat", json={"sender_id": sender, "text": text, "channel": "web"})
        return "\n".join(m["text"] for m in reply.json()["messages"])

    assert f"已发给工作人员{AGENT}" in say("我电话是15885211234，麻烦回个电话")
    transcript = _desk(wang, "GET", f"/handoffs/{ticket}").json()["transcript"]
    assert transcript[-1]["role"] == "user" and "15885211234" not in transcript[-1]["text"]

    assert "已结束人工服务" in say("结束人工")
    assert _desk(wang, "GET", f"/handoffs/{ticket}").json()["status"] == "closed"
    # Back with the assistant: this fake Rasa has no REST channel, so the gateway says it is busy.
    assert "系统繁忙" in say("低保要带哪些材料")


def test_inbox_serves_only_web_conversations(client: TestClient) -> None:
    for sender in ("wechat:oAbc", "window:1", "web:../x"):
        assert client.get("/api/chat/inbox", params={"sender_id": sender}).status_code == 422
    empty = client.get("/api/chat/inbox", params={"sender_id": "web:nobody"}).json()
    assert empty == {
        **empty,
        "sender_id": "web:nobody",
        "messages": [],
        "ticket": None,
        "status": None,
        "open": False,
        "position": None,
    }


def test_wechat_handoff_reply_goes_out_as_a_customer_service_message(
    client: TestClient, wang: TestClient, wechat_api: tuple[FakeWeChatAPI, str]
) -> None:
    api = wechat_api[0]
    openid = "oZunyiHandoff01"
    ticket = _open_handoff(client, f"wechat:{openid}", "wechat")
    assert _desk(wang, "POST", f"/handoffs/{ticket}/claim").status_code == 200
    before = len(api.sends)
    sent = _desk(wang, "POST", f"/handoffs/{ticket}/reply", text="请带身份证到窗口办理。")
    assert sent.json()["delivered_by"] == "wechat"
    api.wait_for_sends(before + 1)
    assert "【人工客服】请带身份证到窗口办理。" in api.texts_to(openid)
    # The WeChat resident's replies are not readable through the web inbox.
    assert client.get("/api/chat/inbox", params={"sender_id": f"wechat:{openid}"}).status_code == 422


def test_console_page_is_served_with_a_sign_in_form(client: TestClient) -> None:
    page = client.get("/console")
    assert page.status_code == 200 and "12345" in page.text
    assert 'autocomplete="current-password"' in page.text and "令牌" not in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert client.get("/console/console.js").status_code == 200
    assert client.get("/console/console.css").status_code == 200


def test_while_waiting_in_the_queue_messages_go_on_the_ticket_and_the_resident_can_stop(
    client: TestClient, wang: TestClient
) -> None:
    sender = "web:aaaabbbbccccddddeeeeffff00001111"
    ticket = _open_handoff(client, sender, "web")

    def say(text: str) -> dict[str, Any]:
        return client.post("/api/chat", json={"sender_id": sender, "text": text, "channel": "web"}).json()

    waiting = say("喂 有人没得")["messages"][0]
    assert ticket in waiting["text"] and "排队" in waiting["text"] and "结束人工" in waiting["text"]
    assert waiting["payload"]["state"] == "waiting" and waiting["payload"]["position"] >= 1
    transcript = _desk(wang, "GET", f"/handoffs/{ticket}").json()["transcript"]
    assert transcript[-1] == {**transcript[-1], "role": "user", "text": "喂 有人没得"}
    inbox = client.get("/api/chat/inbox", params={"sender_id": sender}).json()
    assert inbox["position"] == waiting["payload"]["position"] and inbox["hours"]

    assert "已结束人工服务" in say("不要人工了")["messages"][0]["text"]
    assert _desk(wang, "GET", f"/handoffs/{ticket}").json()["status"] == "closed"
    # Nothing left to stop: the words are not taken as a new request for a person.
    assert "没有在等人工服务" in say("结束人工")["messages"][0]["text"]
    waiting_tickets = [h["ticket"] for h in _desk(wang, "GET", "/handoffs").json()["waiting"]]
    assert ticket not in waiting_tickets


def test_a_life_event_gets_the_bundle_to_read_out_step_by_step(wang: TestClient) -> None:
    with wang.websocket_connect("/api/assist/ws", headers=socket_headers(wang)) as socket:
        socket.receive_json()
        suggestion = _ask(socket, 4, "来电人说家里刚生了娃娃 问要办些啥子手续")
    answer = suggestion["answer"]
    assert suggestion["decision"] == "bundle" and answer["kind"] == "bundle"
    assert answer["title"] == "新生儿出生一件事" and answer["aspect_label"] == "一件事"
    assert answer["text"].index("出生医学证明") < answer["text"].index("上户口")
    assert "示例数据" in answer["citation"] and "示例数据" in answer["notice"]
