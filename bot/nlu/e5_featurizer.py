"""The retrieval's embedding model as a dense feature for Rasa's classifiers.

Adds one sentence-level feature to TEXT: the e5 "query: " embedding of the message text (after
TextNormalizer), the vector the retrieval searches with (384 dims for multilingual-e5-small).
It runs the ONNX export (``indexer.onnx_encoder``, written by ``make model``), so Rasa needs
neither torch nor sentence-transformers; the sentence-transformers directory is configured as
``model_dir`` because its tokenizer.json and its export belong together.

Why sentence-level only, with no sequence-level features: DIET in Rasa 3.6 does not need them.
``RasaFeatureCombiningLayer`` (rasa/utils/tensorflow/rasa_layers.py) combines sparse and dense
features separately per type (``ConcatenateSparseDenseFeatures`` for sequence, and again for
sentence), projects the two to a common width when they differ (``unify_dims_before_seq_sent_concat``)
and appends the sentence vector after the last token; DIET's ``_extract_features`` only checks
that sparse and dense features of the *same* type have as many rows (1 here, as the sentence
features of CountVectorsFeaturizer). Sequence features for entities keep coming from the
CountVectorsFeaturizers over jieba tokens. e5 token vectors would have to be aligned from
sentencepiece pieces to jieba tokens first (as LanguageModelFeaturizer does) and would add 384
dense values per token to every batch; worth it only if entity extraction needs them. Checked
with a tiny DIET training (2 epochs) with this component after the two CountVectorsFeaturizers:
it trains and parses, with TEXT signature sentence = [sparse, dense 384], sequence = [sparse].

Every message with text is featurized, training and incoming alike (also /intent payloads):
DIET expects every message to carry the features it was trained with.

Loaded by Rasa in .venv-rasa: imports only Rasa and indexer.onnx_encoder (numpy, onnxruntime,
tokenizers).
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from indexer.onnx_encoder import MARKER, OnnxEncoder, onnx_dir

log = logging.getLogger(__name__)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "model_dir": "var/models/multilingual-e5-small",
            # int8: ~3x faster per query, ~400 MB less memory, cosine ~0.997 to fp32. The same
            # config trains and serves, so features never mix the two.
            "quantized": False,
            "batch_size": 64,
            # Rasa shares two cores with the action server and the gateway; a second thread
            # helps an idle machine (fp32 7.5 -> 4.6 ms) and hurts a busy one.
            "intra_op_threads": 1,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["onnxruntime", "tokenizers"]

    def __init__(self, config: dict[str, Any], name: str, encoder: OnnxEncoder) -> None:
        super().__init__(name, config)
        self.encoder = encoder

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5Featurizer:
        cls.validate_config(config)
        encoder = OnnxEncoder(
            Path(config["model_dir"]),
            quantized=config["quantized"],
            batch_size=config["batch_size"],
            intra_op_threads=config["intra_op_threads"],
        )
        # Load when the model loads, not on the first resident's message.
        encoder.warm_up()
        return cls(config, execution_context.node_name, encoder)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if not isinstance(config.get("quantized"), bool):
            raise InvalidConfigException("E5Featurizer: 'quantized' must be true or false")
        for key in ("batch_size", "intra_op_threads"):
            if not isinstance(config.get(key), int) or config[key] < 1:
                raise InvalidConfigException(f"E5Featurizer: '{key}' must be a positive integer")

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Rasa caches featurized training data by config: a re-exported model must invalidate it."""
        model_dir = Path(config.get("model_dir") or cls.get_default_config()["model_dir"])
        digest = hashlib.sha256()
        for path in (onnx_dir(model_dir) / MARKER, model_dir / "tokenizer.json"):
            digest.update(path.read_bytes() if path.exists() else b"missing")
        return digest.hexdigest()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        started = time.perf_counter()
        self._featurize(training_data.training_examples)
        log.info(
            "e5 features for %d training examples in %.1fs",
            len(training_data.training_examples),
            time.perf_counter() - started,
        )
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        self._featurize(messages)
        return messages

    def _featurize(self, messages: list[Message]) -> None:
        """One encoder call: it batches (batch_size) and sorts by length itself."""
        with_text = [message for message in messages if message.get(TEXT)]
        if not with_text:
            return
        vectors = self.encoder.encode_queries([message.get(TEXT) for message in with_text])
        for message, vector in zip(with_text, vectors, strict=True):
            self.add_features_to_message(
                sequence=None, sentence=vector[None, :], attribute=TEXT, message=message
            )
