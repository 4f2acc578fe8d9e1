"""Export the sentence-transformers embedding model to ONNX once, for the torch-free OnnxEncoder.

Why: Rasa's featurizer (.venv-rasa) has no torch, and a query needs no torch either. The graph
is the plain transformer (input_ids, attention_mask -> last_hidden_state) with dynamic batch and
sequence axes; pooling, normalisation and prompts stay in ``indexer.onnx_encoder``, in numpy.

Written next to the model directory (``onnx_dir``): model.onnx (fp32) and model_int8.onnx
(dynamic int8 quantisation, per channel; the word embeddings too, so 120 MB instead of 470 MB),
then export.json last. A re-run is a no-op while export.json names the same weights and format.

The exporter is torch.export-based (``dynamo=True``): with transformers 5 the TorchScript exporter
traces a graph that runs but is wrong (hidden states off by ~0.4), so the fp32 graph is checked
against torch before it is kept.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from indexer.e5_convert import _make_readable, _replace_dir, _sha256
from indexer.onnx_encoder import FP32_FILE, INT8_FILE, MARKER, onnx_dir

# Bump when the exported graphs change, so existing exports are rebuilt instead of reused.
_FORMAT = 1
# onnxruntime 1.23 (the newest for Python 3.10, in .venv-rasa) runs opset 18 / IR 10.
OPSET = 18
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_MAX_ABS_DIFF = 1e-3


def source_digest(model_dir: Path) -> str:
    """What the graph is made of: the model config and weights (not the tokenizer, read at run time)."""
    digest = hashlib.sha256((model_dir / "config.json").read_bytes())
    weights = [model_dir / name for name in _WEIGHT_FILES if (model_dir / name).exists()]
    if not weights:
        raise FileNotFoundError(f"{model_dir}: no {' or '.join(_WEIGHT_FILES)}")
    for path in weights:
        digest.update(f"{path.name}:{_sha256(path)}".encode())
    return digest.hexdigest()


def _marker(digest: str, quantize: bool) -> dict[str, Any]:
    return {"source_sha256": digest, "format": _FORMAT, "opset": OPSET, "int8": quantize}


def _is_current(out_dir: Path, marker: dict[str, Any]) -> bool:
    """True if out_dir holds a finished export of these weights (the marker is written last)."""
    try:
        return bool(json.loads((out_dir / MARKER).read_text(encoding="utf-8")) == marker)
    except (OSError, ValueError):
        return False


def check_mean_pooled(model_dir: Path) -> None:
    """OnnxEncoder mean-pools and L2-normalises; refuse a model that sentence-transformers pools otherwise."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        kinds = [module["type"].rsplit(".", 1)[-1] for module in modules]
        pooling_path = next(m["path"] for m in modules if m["type"].endswith(".Pooling"))
        pooling = json.loads((model_dir / pooling_path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise ValueError(f"{model_dir}: not a sentence-transformers directory with a Pooling module") from exc
    modes = sorted(key for key, on in pooling.items() if key.startswith("pooling_mode_") and on)
    if kinds != ["Transformer", "Pooling", "Normalize"] or modes != ["pooling_mode_mean_tokens"]:
        raise ValueError(
            f"{model_dir}: OnnxEncoder needs Transformer -> mean Pooling -> Normalize, found {kinds} {modes}"
        )


def export_onnx(model_dir: Path, *, out_dir: Path | None = None, quantize: bool = True) -> Path:
    """Export model_dir into out_dir (atomically); a no-op if it already holds this export."""
    model_dir = Path(model_dir)
    out_dir = Path(out_dir) if out_dir is not None else onnx_dir(model_dir)
    check_mean_pooled(model_dir)
    marker = _marker(source_digest(model_dir), quantize)
    if _is_current(out_dir, marker):
        return out_dir
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / MARKER).exists():
        raise FileExistsError(f"{out_dir} is not empty and holds no ONNX export; not replacing it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        _export_fp32(model_dir, work / FP32_FILE)
        if quantize:
            _quantize_int8(work / FP32_FILE, work / INT8_FILE)
        (work / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        _make_readable(work)
        _replace_dir(work, out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out_dir


def _export_fp32(model_dir: Path, path: Path) -> None:
    import torch
    from transformers import AutoModel

    # Eager attention: plain MatMul/Softmax nodes, which int8 quantisation and older runtimes handle.
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    wrapper = LastHiddenState().eval()
    # Two rows, one padded: the exported graph must honour the mask, not a traced constant.
    input_ids = torch.tensor([[0, 6, 7, 8, 9, 10, 11, 2], [0, 6, 7, 8, 2, 1, 1, 1]])
    attention_mask = (torch.arange(8) < torch.tensor([[8], [5]])).long()
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence", max=512)
    axes = {0: batch, 1: sequence}
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            (input_ids, attention_mask),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_shapes={"input_ids": axes, "attention_mask": axes},
            opset_version=OPSET,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
        _check_against_torch(wrapper, path)


def _check_against_torch(wrapper: Any, path: Path) -> None:
    """Run the graph on other shapes than it was exported with, padding included."""
    import onnxruntime as ort
    import torch

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    generator = torch.Generator().manual_seed(0)
    for rows, length in ((1, 3), (3, 37)):
        input_ids = torch.randint(5, 20_000, (rows, length), generator=generator)
        attention_mask = torch.ones_like(input_ids)
        attention_mask[-1, length // 2 :] = 0
        expected = wrapper(input_ids, attention_mask).numpy()
        got = session.run(None, {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()})[0]
        keep = attention_mask.numpy().astype(bool)
        diff = float(np.abs(expected - got)[keep].max())
        if diff > _MAX_ABS_DIFF:
            raise RuntimeError(
                f"{path}: ONNX export differs from torch by {diff:.3g} at shape {rows}x{length}"
            )


def _quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8: weights quantised per output channel once, activations per call; no calibration."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m indexer.onnx_export", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--model-dir", type=Path, help="sentence-transformers directory (default: configured)"
    )
    parser.add_argument("--out", type=Path, help="output directory (default: <model-dir>-onnx beside it)")
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 variant")
    args = parser.parse_args(argv)
    model_dir = args.model_dir
    if model_dir is None:
        from core.settings import get_settings

        model_dir = get_settings().index.model_path
        try:
            check_mean_pooled(model_dir)
        except ValueError as exc:
            # Retrieval still works with such a model; only the ONNX path (Rasa's featurizer) does not.
            print(f"跳过 ONNX 导出：{exc}")
            return
    print(export_onnx(model_dir, out_dir=args.out, quantize=not args.no_int8))


if __name__ == "__main__":
    main()
