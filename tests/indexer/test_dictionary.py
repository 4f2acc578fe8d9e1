"""The domain dictionary keeps service names whole and maps colloquial names to canonical ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import get_settings
from indexer.dictionary import DomainDictionary, load_dictionary, name_cores
from indexer.loader import load_guides
from indexer.text import ChineseTokenizer, normalize


@pytest.fixture(scope="module")
def dictionary() -> DomainDictionary:
    knowledge = get_settings().knowledge
    guides = [g.guide for g in load_guides(knowledge.guides_dir, knowledge.halls_file).guides]
    return load_dictionary(knowledge.dictionary_dir, guides)


@pytest.fixture(scope="module")
def tokenizer(dictionary: DomainDictionary, tmp_path_factory: pytest.TempPathFactory) -> ChineseTokenizer:
    userdict = dictionary.write_userdict(tmp_path_factory.mktemp("jieba"))
    return ChineseTokenizer(dictionary, userdict)


@pytest.mark.parametrize(
    "text, whole",
    [
        ("我想办城乡居民基本医疗保险参保缴费", "城乡居民基本医疗保险参保缴费"),
        ("道真仡佬族苗族自治县政务服务中心在哪", "道真仡佬族苗族自治县"),
        ("困难残疾人生活补贴和重度残疾人护理补贴申请要什么", "困难残疾人生活补贴和重度残疾人护理补贴申请"),
        ("老年人优待证怎么办", "老年人优待证"),
        ("统一社会信用代码在哪看", "统一社会信用代码"),
    ],
)
def test_service_department_and_place_names_stay_whole(
    tokenizer: ChineseTokenizer, text: str, whole: str
) -> None:
    assert whole in tokenizer.tokenize(text)


def test_stop_words_and_punctuation_are_dropped(tokenizer: ChineseTokenizer) -> None:
    tokens = tokenizer.tokenize("请问，咋个办理居住证？？？")
    assert "请问" not in tokens and "咋个" not in tokens and "？" not in tokens
    assert "居住证" in tokens


@pytest.mark.parametrize(
    "question, canonical",
    [
        ("新农合交好多钱", "城乡居民基本医疗保险"),
        ("五保户有哪些待遇", "特困人员"),
        ("老年证在哪办", "老年人优待证"),
        ("咋个办个体户", "个体工商户"),
        ("公租房排队要多久", "公共租赁住房"),
        ("残疾证怎么评", "残疾人证"),
    ],
)
def test_colloquial_names_are_expanded(tokenizer: ChineseTokenizer, question: str, canonical: str) -> None:
    assert canonical in tokenizer.expand(question).added_terms


def test_aspect_words_reach_bm25_but_not_the_dense_query(tokenizer: ChineseTokenizer) -> None:
    expanded = tokenizer.expand("新农合交好多钱")
    assert "收费标准" in expanded.text and "收费标准" not in expanded.dense_text
    assert expanded.aspects == ("收费标准",)


def test_longest_service_term_wins(dictionary: DomainDictionary) -> None:
    assert dictionary.linked_guides("居住证明在哪开") == ("juzhu_zhengming_kaiju",)
    assert dictionary.linked_guides("居住证要住满好久") == ("juzhuzheng_shenling",)
    assert dictionary.linked_guides("新农合交好多钱") == ("chengxiang_jumin_yibao_jiaofei",)
    assert dictionary.linked_guides("今天天气咋样") == ()


def test_a_term_said_with_a_de_inside_is_still_found(
    dictionary: DomainDictionary, tokenizer: ChineseTokenizer
) -> None:
    assert dictionary.linked_guides("那个护理的补贴一个月好多钱") == ("canji_liangxiang_butie",)
    assert "农业机械" in tokenizer.expand("买了一台旋耕机补贴好多").added_terms


def test_traditional_and_full_width_text_is_normalised() -> None:
    assert normalize("殘疾證　怎麼辦ＡＢＣ") == "残疾证 怎么办ABC"


def test_name_cores() -> None:
    assert name_cores("居住证申领") == ["居住证"]
    assert name_cores("出生登记(新生儿入户)") == ["出生登记", "新生儿入户"]
    assert name_cores("结婚登记") == []


def test_userdict_is_what_rasa_loads(dictionary: DomainDictionary, tmp_path: Path) -> None:
    path = dictionary.write_userdict(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert "高龄补贴申领 2000000 n" in lines
    assert all(len(line.split(" ")) == 3 for line in lines)
