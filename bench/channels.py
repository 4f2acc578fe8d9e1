"""Channel speed: ``.venv/bin/python -m bench.channels [--seconds S] [--residents N]``.

Against the real stack (core.stack: action server, Rasa, gateway; fresh database), measures

1. end-to-end turn latency through the gateway's ``POST /api/chat``, one resident at a time
   (p50/p95 per intent; the knowledge-answer p95 against its 300 ms target; warm-up not counted);
2. sustained turns per second with N concurrent web residents (asyncio + httpx), each holding
   multi-turn conversations back to back without pauses;
3. under that same load, WeChat residents in safe mode (requests signed and encrypted by
   wechatpy) against ``/wechat``: the share answered inside WeChat's 5 s, and the answers that
   missed the passive reply and arrived through the customer-service API of a fake WeChat API on
   loopback instead.

The gateway's per-sender rate limit is lifted for this stack (ZY_GATEWAY__TURNS_PER_MINUTE), so
that it measures the system, not the throttle.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bench.dialogue import CONVERSATIONS, KNOWLEDGE, run_rounds, sample_application
from bench.latency import percentile, table
from core.stack import UNTHROTTLED, Stack, running_stack
from tests.channels.wechat_fake import AES_KEY, APP_ID, APP_SECRET, TOKEN, FakeWeChatAPI, Resident, serve

KNOWLEDGE_TARGET_MS = 300
WECHAT_WINDOW_SECONDS = 5.0
BUSY = "系统繁忙"
# What a resident asks over WeChat: a question and follow-ups that reuse its service.
WECHAT_CONVERSATION = ["低保要带哪些材料", "那在哪点办", "要好多钱", "谢谢"]
# Web residents under load: the dialogue benchmark's conversations without the status form,
# whose proofs are rate-limited per application number by design.
LOAD_CONVERSATIONS = [c for c in CONVERSATIONS if all(t.category != "status_form" for t in c)]


def texts(reply: dict[str, Any]) -> str:
    return "\n".join(m.get("text") or "" for m in reply.get("messages", []))


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    busy: int = 0
    errors: int = 0


async def web_resident(
    client: httpx.AsyncClient, number: int, stop_at: float, think: float, result: LoadResult
) -> None:
    # Residents start at different conversations, so the mix is the same at every moment.
    for index in itertools.count(number):
        conversation = LOAD_CONVERSATIONS[index % len(LOAD_CONVERSATIONS)]
        sender = f"web:load-{number}-{uuid.uuid4().hex[:8]}"
        for turn in conversation:
            if time.monotonic() >= stop_at:
                return
            started = time.perf_counter()
            try:
                response = await client.post(
                    "/api/chat", json={"sender_id": sender, "text": turn.text, "channel": "web"}
                )
                response.raise_for_status()
            except httpx.HTTPError:
                result.errors += 1
                continue
            result.latencies.append(time.perf_counter() - started)
            result.busy += BUSY in texts(response.json())
            await asyncio.sleep(think)


@dataclass
class WeChatResult:
    passive: list[float] = field(default_factory=list)  # answered in the reply, seconds
    deferred: int = 0  # "success" within 5 s, answer to come through the customer-service API
    delivered: list[float] = field(default_factory=list)  # those that did arrive, seconds after asking
    delivered_busy: int = 0  # of those, how many were the 系统繁忙 apology
    late: int = 0  # no response inside 5 s: WeChat would have retried
    errors: int = 0
    busy: int = 0

    @property
    def requests(self) -> int:
        return len(self.passive) + self.deferred + self.late + self.errors


async def wechat_resident(
    client: httpx.AsyncClient, someone: Resident, api: FakeWeChatAPI, stop_at: float, result: WeChatResult
) -> None:
    while time.monotonic() < stop_at:
        for text in WECHAT_CONVERSATION:
            if time.monotonic() >= stop_at:
                return
            before = len(api.texts_to(someone.openid))
            started = time.perf_counter()
            try:
                response = await someone.apost(client, someone.text_xml(text))
                reply = someone.read(response)
            except (httpx.HTTPError, AssertionError):
                result.errors += 1
                continue
            elapsed = time.perf_counter() - started
            if elapsed > WECHAT_WINDOW_SECONDS:
                result.late += 1
            elif reply is not None:
                result.passive.append(elapsed)
                result.busy += BUSY in reply
            else:
                result.deferred += 1
                # A resident reads the late answer before asking on; give it 30 s to arrive.
                while len(api.texts_to(someone.openid)) <= before and time.perf_counter() - started < 30:
                    await asyncio.sleep(0.05)
                arrived = api.texts_to(someone.openid)[before:]
                if arrived:
                    result.delivered.append(time.perf_counter() - started)
                    result.delivered_busy += BUSY in arrived[0]
            await asyncio.sleep(0.5)  # reading time; split answers' remaining parts arrive meanwhile


async def load(
    stack: Stack, api: FakeWeChatAPI, residents: int, wechat_residents: int, seconds: float, think: float
) -> tuple[LoadResult, WeChatResult]:
    web, wechat = LoadResult(), WeChatResult()
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=residents + wechat_residents + 5)
    async with httpx.AsyncClient(base_url=stack.url, timeout=60, limits=limits) as client:
        tasks = [web_resident(client, n, stop_at, think, web) for n in range(residents)]
        tasks += [
            wechat_resident(
                client, Resident(stack.url, f"oBench{n}{uuid.uuid4().hex[:10]}", "safe"), api, stop_at, wechat
            )
            for n in range(wechat_residents)
        ]
        await asyncio.gather(*tasks)
    return web, wechat


def print_latency(latencies: dict[str, list[float]]) -> None:
    print(table(latencies))
    values = [v * 1000 for name in KNOWLEDGE for v in latencies.get(name, [])]
    p95 = percentile(values, 0.95)
    verdict = "达标" if p95 <= KNOWLEDGE_TARGET_MS else "未达标"
    print(
        f"知识问答 {len(values)} 轮：p50 {percentile(values, 0.5):.0f} ms，p95 {p95:.0f} ms"
        f"（目标 ≤ {KNOWLEDGE_TARGET_MS} ms，{verdict}）"
    )


def print_load(web: LoadResult, seconds: float, residents: int, label: str) -> None:
    ms = [v * 1000 for v in web.latencies]
    answered = len(ms) - web.busy
    print(
        f"{label}：{residents} 个居民并发 {seconds:.0f} s，完成 {len(ms)} 轮，{len(ms) / seconds:.1f} 轮/秒"
    )
    print(f"  其中真正作答（不是系统繁忙）{answered} 轮，{answered / seconds:.1f} 轮/秒")
    print(f"  每轮 p50 {percentile(ms, 0.5):.0f} ms，p95 {percentile(ms, 0.95):.0f} ms")
    print(f"  系统繁忙（网关等 Rasa 超时）{web.busy} 轮，出错 {web.errors} 轮")


def print_wechat(result: WeChatResult, residents: int) -> None:
    total = result.requests
    inside = len(result.passive) + result.deferred
    share = 100 * inside / total if total else float("nan")
    ms = [v * 1000 for v in result.passive]
    print(f"微信（{residents} 个居民，安全模式）：{total} 条消息")
    print(f"  5 秒内响应 {inside} 条（{share:.1f}%，目标 100%）")
    print(
        f"  被动回复直接作答 {len(result.passive)} 条：p50 {percentile(ms, 0.5):.0f} ms，"
        f"p95 {percentile(ms, 0.95):.0f} ms（其中系统繁忙 {result.busy} 条）"
    )
    print(
        f"  先回 success、转客服消息 {result.deferred} 条：已送达 {len(result.delivered)} 条，"
        f"从提问到送达 p95 {percentile(result.delivered, 0.95):.1f} s，"
        f"其中系统繁忙 {result.delivered_busy} 条"
    )
    print(f"  超过 5 秒才响应 {result.late} 条，出错 {result.errors} 条")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.channels")
    parser.add_argument("--rounds", type=int, default=3, help="单人延迟测量的轮数（另有 1 轮预热不计）")
    parser.add_argument("--residents", type=int, default=20, help="并发的网页居民数")
    parser.add_argument("--wechat-residents", type=int, default=5, help="同时在微信上提问的居民数")
    parser.add_argument("--seconds", type=float, default=60, help="每个负载阶段的时长")
    parser.add_argument(
        "--think-seconds", type=float, default=0, help="网页居民两轮之间的停顿（默认 0：压满）"
    )
    args = parser.parse_args(argv)

    api = FakeWeChatAPI()
    with serve(api.app()) as api_url, tempfile.TemporaryDirectory(prefix="bench-channels-") as directory:
        overrides: dict[str, Mapping[str, Any]] = {
            **UNTHROTTLED,
            "wechat": {
                "token": SecretStr(TOKEN),
                "encoding_aes_key": SecretStr(AES_KEY),
                "app_id": APP_ID,
                "app_secret": SecretStr(APP_SECRET),
                "api_base_url": api_url,
            },
        }
        print(
            "网关的限流（每个发送者、每个地址、每个手机号）已放开（core.stack.UNTHROTTLED，仅本基准的进程），"
            f"微信接口指向本机假服务 {api_url}",
            flush=True,
        )
        with running_stack(Path(directory), overrides) as stack:
            fill = sample_application(stack)
            latencies, silent = run_rounds(
                lambda sender, text: texts(stack.chat(sender, text)), args.rounds, fill
            )
            print(f"\n1. 经网关 POST /api/chat 的端到端延迟（单个居民，{args.rounds} 轮，预热 1 轮不计）：")
            print_latency(latencies)
            if silent:
                print(f"注意：{silent} 轮没有回复文字")

            pause = f"两轮之间停 {args.think_seconds:g} s" if args.think_seconds else "不停顿"
            print(f"\n2. 持续负载（每个居民连续多轮对话，{pause}）：", flush=True)
            web, _ = asyncio.run(load(stack, api, args.residents, 0, args.seconds, args.think_seconds))
            print_load(web, args.seconds, args.residents, "网页")

            both = f"网页 {args.residents} 个居民 + 微信 {args.wechat_residents} 个居民"
            print(f"\n3. 同样负载下的微信（{both}）：", flush=True)
            web, wechat = asyncio.run(
                load(stack, api, args.residents, args.wechat_residents, args.seconds, args.think_seconds)
            )
            print_load(web, args.seconds, args.residents, "网页")
            print_wechat(wechat, args.wechat_residents)
            print(f"假微信接口：获取 access_token {len(api.token_fetches)} 次，客服消息 {len(api.sends)} 条")


if __name__ == "__main__":
    main()
