"""The one normalisation (width, script, fillers) and the pinyin typo corrector, on the real terms."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT, get_settings
from indexer.dictionary import TYPO_TERMS_NAME, load_dictionary
from indexer.loader import load_guides
from indexer.normalize import Lexicon, TypoCorrector, normalize, read_terms, write_terms


@pytest.fixture(scope="module")
def corrector() -> TypoCorrector:
    """Built like the searcher's: from the knowledge base's terms, with jieba's dictionary."""
    knowledge = get_settings().knowledge
    guides = load_guides(knowledge.guides_dir, knowledge.halls_file).guides
    dictionary = load_dictionary(knowledge.dictionary_dir, (loaded.guide for loaded in guides))
    return TypoCorrector(dictionary.typo_terms())


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("身份證過期了要去哪裡換", "身份证过期了要去哪里换"),
        ("ＡＢＣ１２３　　身份证", "ABC123 身份证"),
        ("  社保卡   丢了 ", "社保卡 丢了"),
        ("喂喂，你好，那个，我想问下护照", "我想问下护照"),
        ("嗯，那个我想问一下低保", "我想问一下低保"),
        ("您好我想办居住证", "我想办居住证"),
        ("哎呀我的身份证丢了", "我的身份证丢了"),
        ("就是说我想换身份证", "我想换身份证"),
        ("身份证过期了，那个，要去哪里换", "身份证过期了,要去哪里换"),
        ("身份证过期了，嗯，要去哪里换", "身份证过期了,要去哪里换"),
        ("身份证咋个换嘛？", "身份证咋个换?"),
    ],
)
def test_normalize_converts_script_and_width_and_drops_fillers(typed: str, expected: str) -> None:
    assert normalize(typed) == expected
    assert normalize(expected) == expected


@pytest.mark.parametrize(
    "said",
    [
        "那个大厅在哪",  # 那个 as a determiner
        "就是说明书在哪",  # 说明, not the filler 就是说
        "你们是干嘛的",  # 干嘛, not the particle 嘛
        "好嘛",  # a whole answer
        "嗯",  # still answers yes
        "嗯嗯",
        "你好",  # a greeting alone stays a greeting
        "你好吗",
        "啊?",
        "额度是多少",
        "喂养有补贴吗",
        "低保能办吗?",  # question particles and marks stay
    ],
)
def test_normalize_keeps_words_that_only_look_like_fillers(said: str) -> None:
    assert normalize(said) == said


@pytest.mark.parametrize(
    "typed, expected, corrections",
    [
        ("身分正过期了咋个办", "身份证过期了咋个办", None),
        ("我想办身分正", "我想办身份证", [("身分正", "身份证")]),
        ("公基金怎么提取", "公积金怎么提取", [("公基金", "公积金")]),
        ("领取事业金要带什么", "领取失业金要带什么", [("事业金", "失业金")]),
        ("结昏证咋个办", "结婚证咋个办", [("结昏证", "结婚证")]),
        ("结昏登记要什么", "结婚登记要什么", [("结昏登记", "结婚登记")]),
        ("户口溥丢了", "户口簿丢了", [("户口溥", "户口簿")]),
        ("护招怎么办", "护照怎么办", [("护招", "护照")]),
        ("残疾正怎么办", "残疾证怎么办", [("残疾正", "残疾证")]),
        ("高林补贴", "高龄补贴", [("高林补贴", "高龄补贴")]),
        ("新农和交好多钱", "新农合交好多钱", [("新农和", "新农合")]),
        ("不动产登计", "不动产登记", [("不动产登计", "不动产登记")]),
        ("身分正和公基金", "身份证和公积金", [("身分正", "身份证"), ("公基金", "公积金")]),
    ],
)
def test_slips_are_corrected_to_the_term_they_sound_like(
    corrector: TypoCorrector, typed: str, expected: str, corrections: list[tuple[str, str]] | None
) -> None:
    result = corrector.correct(normalize(typed))
    assert result.text == expected
    if corrections is not None:
        assert list(result.corrections) == corrections


@pytest.mark.parametrize(
    "said",
    [
        "事业单位招聘",  # 事业 is a word
        "公积金提取",  # already right
        "失业了怎么办",
        "失业保险金",
        "结婚登记",
        "护照丢了",
        "户口簿丢了",
        "那个大厅在哪",
        "我在公司上班",  # 在 + 公司, not 开公司
        "户口不在遵义",  # 户口 + 不在, not 户口簿
        "接送孩子上下学",  # a word, though it sounds like 上小学
        "保护招商引资",  # 护招 cuts 保护 and 招商
        "教师证怎么考",  # a word, one letter from 驾驶证
        "水务局电话",  # sounds exactly like 税务局
        "胡兆的身份证号是520102199001011234",  # a name that sounds like 护照; digits untouched
    ],
)
def test_real_words_are_left_alone(corrector: TypoCorrector, said: str) -> None:
    assert corrector.correct(said) == (said, ())


def test_a_correction_never_changes_a_term_already_spelled_right() -> None:
    corrector = TypoCorrector(["居住证", "居住证明"], Lexicon([]))
    assert corrector.correct("居住证明") == ("居住证明", ())
    assert corrector.correct("居住证名").text == "居住证明"  # grows a right term into a longer one


def test_corrector_reads_the_terms_file_the_build_writes(tmp_path: Path) -> None:
    path = write_terms(tmp_path / "nested" / TYPO_TERMS_NAME, ["护照", "身份证", "护照"])
    assert read_terms(path) == ["护照", "身份证"]
    assert TypoCorrector.from_file(path, Lexicon([])).correct("护招").text == "护照"
    with pytest.raises(FileNotFoundError, match="indexer build"):
        TypoCorrector.from_file(tmp_path / "missing.txt")


def test_typo_terms_leave_out_colloquial_aspect_phrases() -> None:
    dictionary = load_dictionary(get_settings().knowledge.dictionary_dir)
    terms = set(dictionary.typo_terms())
    assert {"身份证", "户口簿", "失业金", "收费标准"} <= terms
    assert "好多钱" not in terms  # 好多天 would become 好多钱


def test_a_long_question_is_corrected_in_well_under_five_milliseconds(corrector: TypoCorrector) -> None:
    question = normalize(
        "你好，我想问一下身分正过期了怎么换，还有公基金怎么取，户口溥丢了在哪里补办，护招要去出入境"
        "管理办吗，事业金能领多久，结昏证要带什么材料，谢谢你们帮忙看一下，这个问题比较急，麻烦尽快回复我们一家人"
    )
    assert len(question) >= 90
    assert len(corrector.correct(question).corrections) == 6
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        corrector.correct(question)
        timings.append(time.perf_counter() - started)
    assert min(timings) < 0.005, f"{min(timings) * 1000:.2f} ms"


@pytest.mark.slow
@pytest.mark.parametrize(
    "typed, wrong, right, service",
    [
        ("身分正过期了咋个换", "身分正", "身份证", "居民身份证换领补领"),
        ("公基金咋个取", "公基金", "公积金", "住房公积金提取"),
        ("事业金能领多久", "事业金", "失业金", "失业保险金申领"),
        ("护招要办好久", "护招", "护照", "普通护照签发"),
        ("居住正咋个办", "居住正", "居住证", "居住证申领"),
    ],
)
def test_a_corrected_question_finds_its_guide(typed: str, wrong: str, right: str, service: str) -> None:
    from indexer.api import search

    result = search(typed, k=3)
    assert any(w.startswith(wrong) and r.startswith(right) for w, r in result.corrections)
    assert result.to_json()["corrections"] == [list(pair) for pair in result.corrections]
    assert result.confident and result.hits[0].title == service


@pytest.mark.slow
def test_build_wrote_the_terms_file_for_rasa_outside_the_jieba_folder() -> None:
    index = get_settings().index
    assert "身份证" in read_terms(index.index_dir / TYPO_TERMS_NAME)
    assert not (index.jieba_dict_dir / TYPO_TERMS_NAME).exists()  # JiebaTokenizer loads every file there


@pytest.mark.slow
def test_cli_says_how_it_read_the_question() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "indexer", "search", "-k", "1", "我想办身分正"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "已按“身份证”理解“身分正”"
