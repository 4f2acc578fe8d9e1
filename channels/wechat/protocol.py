"""WeChat's callback protocol: signatures, timestamps, the three encryption modes, safe XML.

Plaintext mode signs the query only. Compatible and safe mode (``encrypt_type=aes``) also sign
the ``Encrypt`` element (``msg_signature``); the message is AES-encrypted with the account's
EncodingAESKey and the reply must be encrypted the same way.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import WeChatSigner

from core.settings import WeChatSettings

# Entity declarations are how XML bombs and external-entity reads get in; WeChat never sends them.
_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)
_OPENID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Rejected(Exception):
    """A request that must not be processed; the route turns it into a 4xx."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


@dataclass(frozen=True)
class Query:
    signature: str
    timestamp: str
    nonce: str
    encrypt_type: str | None = None
    msg_signature: str | None = None


@dataclass(frozen=True)
class Incoming:
    message: Any  # a wechatpy message or event (wechatpy is untyped)
    encrypted: bool


def sign(*parts: str) -> str:
    """WeChat's signature (wechatpy's algorithm): SHA-1 of the sorted, concatenated parts."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


class WeChatProtocol:
    def __init__(self, settings: WeChatSettings, clock: Callable[[], float] = time.time) -> None:
        self._token = settings.token.get_secret_value()
        self._skew = settings.max_timestamp_skew_seconds
        self._clock = clock
        key = settings.encoding_aes_key
        self._crypto = WeChatCrypto(self._token, key.get_secret_value(), settings.app_id) if key else None

    def verify(self, query: Query) -> None:
        """The request comes from WeChat, recently: a signature made with our token, a fresh timestamp."""
        try:
            sent_at = int(query.timestamp)
        except ValueError:
            raise Rejected(400, "timestamp 不是整数") from None
        if abs(self._clock() - sent_at) > self._skew:
            raise Rejected(403, "timestamp 超出允许范围（重放或时钟偏差）")
        # compare_digest: wechatpy's check_signature compares with ==, which leaks timing.
        if not secrets.compare_digest(sign(self._token, query.timestamp, query.nonce), query.signature):
            raise Rejected(403, "签名无效")

    def open(self, query: Query, body: bytes) -> Incoming:
        """Verify, decode, decrypt when asked, and parse one callback body."""
        self.verify(query)
        xml = checked_xml(body)
        encrypted = (query.encrypt_type or "raw").lower() == "aes"
        if encrypted:
            xml = checked_xml(self._decrypt(query, xml).encode("utf-8"))
        return Incoming(message=parse(xml), encrypted=encrypted)

    def seal(self, reply_xml: str, query: Query, encrypted: bool) -> str:
        if not encrypted or self._crypto is None:
            return reply_xml
        return str(self._crypto.encrypt_message(reply_xml, query.nonce, str(int(self._clock()))))

    def _decrypt(self, query: Query, xml: str) -> str:
        if self._crypto is None:
            raise Rejected(400, "未配置 EncodingAESKey，不能处理加密消息")
        if not query.msg_signature:
            raise Rejected(403, "缺少 msg_signature")
        try:
            return str(self._crypto.decrypt_message(xml, query.msg_signature, query.timestamp, query.nonce))
        except (InvalidSignatureException, InvalidAppIdException):
            raise Rejected(403, "加密消息签名或 AppID 无效") from None
        except Exception as error:
            # Malformed envelopes fail anywhere in xmltodict, base64, AES or PKCS#7 unpadding.
            raise Rejected(400, f"加密消息无法解密：{type(error).__name__}") from None


def checked_xml(body: bytes) -> str:
    if not body.strip():
        raise Rejected(400, "消息体为空")
    try:
        xml = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "消息体不是有效的 UTF-8") from None
    if _DECLARATION.search(xml):
        raise Rejected(400, "不接受含 DOCTYPE 或实体声明的 XML")
    return xml


def parse(xml: str) -> Any:
    try:
        message = parse_message(xml)
    except Exception as error:
        # wechatpy's parser raises whatever a malformed document provokes (ExpatError, KeyError, …).
        raise Rejected(400, f"XML 无法解析：{type(error).__name__}") from None
    if message is None or not _OPENID.match(str(message.source or "")):
        raise Rejected(400, "缺少或无效的 FromUserName")
    return message
