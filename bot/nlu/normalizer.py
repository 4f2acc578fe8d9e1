"""The NLU's first step: the retrieval's own normalisation and typo correction.

喂，身分正過期了咋個辦嘛 reaches the tokenizer as 身份证过期了咋个办, the words the indexer
searches with (``indexer.normalize``): full width → half width, traditional → simplified,
fillers dropped, and slips corrected towards the index's terms (var/index/typo_terms.txt,
written by ``python -m indexer build``).

Rasa's default recipe runs only tokenizer and featurizer components over both the training
data and every incoming message, so this is registered as a tokenizer-type component; it
sets no tokens and goes first in config.yml, before the real tokenizer. At inference the
parse result keeps the resident's own words as ``original_text`` (for records that should
quote them) and the slips as ``typo_corrections``; entity offsets refer to the rewritten text.

Training examples with entity annotations are rewritten only when the length stays the same
(script and typo changes): dropping a filler would shift every annotated start/end offset.

Loaded by Rasa in .venv-rasa: imports only Rasa and indexer.normalize.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from indexer.normalize import Correction, TypoCorrector, normalize

log = logging.getLogger(__name__)

ORIGINAL_TEXT = "original_text"
TYPO_CORRECTIONS = "typo_corrections"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class TextNormalizer(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"terms_file": "var/index/typo_terms.txt"}

    def __init__(self, corrector: TypoCorrector | None) -> None:
        self.corrector = corrector

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextNormalizer:
        path = Path(config["terms_file"])
        if not path.exists():
            log.warning("text normalizer: %s missing (python -m indexer build); typos stay uncorrected", path)
            return cls(None)
        return cls(TypoCorrector.from_file(path))

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Rasa caches processed training data by config: a new term list must invalidate it."""
        path = Path(config["terms_file"])
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None

    @staticmethod
    def _resident_text(message: Message) -> str | None:
        """The text to rewrite; not a button's payload (/inform{"service": …}), which the
        RegexMessageHandler parses."""
        text = message.get(TEXT)
        return text if text and not text.startswith(INTENT_MESSAGE_PREFIX) else None

    def rewrite(self, text: str) -> Correction:
        text = normalize(text)
        return self.corrector.correct(text) if self.corrector is not None else Correction(text, ())

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            text = self._resident_text(message)
            if text is None:
                continue
            rewritten = self.rewrite(text).text
            if rewritten and rewritten != text and (not message.get(ENTITIES) or len(rewritten) == len(text)):
                message.set(TEXT, rewritten)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = self._resident_text(message)
            if text is None:
                continue
            rewritten, corrections = self.rewrite(text)
            if rewritten and rewritten != text:
                message.set(ORIGINAL_TEXT, text, add_to_output=True)
                message.set(TEXT, rewritten)
            if corrections:
                message.set(TYPO_CORRECTIONS, [list(pair) for pair in corrections], add_to_output=True)
        return messages
