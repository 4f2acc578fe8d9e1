"""JiebaTokenizer that drops the whitespace tokens jieba emits for mixed Chinese/English text.

jieba returns " " as a token between ASCII words ("APP 上 咋个交"), which gives empty features
and misaligned entity spans. This module is loaded by Rasa in .venv-rasa and imports only Rasa.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class MixedTextJiebaTokenizer(JiebaTokenizer):
    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        return [token for token in super().tokenize(message, attribute) if token.text.strip()]
