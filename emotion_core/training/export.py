"""ONNX export of the Keras models (torch backend), with the axes that must stay free named explicitly.

Keras' own ``model.export(format="onnx")`` traces the model with every free dimension set to 1, which breaks
models that pool over time; here the trace uses a realistic sample and declares the free axes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def export_onnx(model, sample: np.ndarray, path: str | Path, *, input_name: str,
                free_axes: dict[int, str] | None = None) -> None:
    """Write ``model`` as ONNX; ``sample`` is one input batch, ``free_axes`` the axes (besides the batch) whose
    size may change, e.g. ``{1: "frames"}``."""
    import torch

    model(sample)  # builds every layer
    model.eval()
    torch.onnx.export(model, (torch.from_numpy(sample),), str(path), input_names=[input_name],
                      output_names=["probabilities"], dynamic_axes={input_name: {0: "batch", **(free_axes or {})}},
                      dynamo=False, opset_version=17)


def quantize_int8(source: str | Path, target: str | Path, calibration: np.ndarray, *, batch_size: int = 32) -> None:
    """Static int8 quantisation of an ONNX model: int8 weights per output channel, uint8 activations whose
    ranges are measured on ``calibration`` (real inputs, batch first). The quantised graph (QDQ) runs on
    ONNX Runtime's integer kernels, which use VNNI/AMX where the CPU has them."""
    import tempfile

    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    input_name = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"]).get_inputs()[0].name

    class Batches(CalibrationDataReader):
        def __init__(self):
            self.starts = iter(range(0, len(calibration), batch_size))

        def get_next(self):
            start = next(self.starts, None)
            return None if start is None else {input_name: calibration[start:start + batch_size]}

    with tempfile.TemporaryDirectory() as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        quant_pre_process(str(source), str(prepared))
        quantize_static(str(prepared), str(target), Batches(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
