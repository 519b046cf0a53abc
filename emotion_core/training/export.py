"""ONNX export of the Keras models (torch backend), with the axes that must stay free named explicitly.

Keras' own ``model.export(format="onnx")`` traces the model with every free dimension set to 1, which breaks
models that pool over time; here the trace uses a realistic sample and declares the free axes.
"""

from __future__ import annotations

from collections.abc import Sequence
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


WEIGHT_BITS = 7
"""Bits of the int8 weights: 7 (``reduce_range``), so that no CPU's integer kernel can overflow.

On x86 CPUs without VNNI (AVX2, AVX-512 without VNNI) ONNX Runtime multiplies uint8 activations by int8
weights with ``vpmaddubsw``, which adds two products into a signed 16-bit sum and saturates it: 255 x 127 x 2
does not fit, 255 x 64 x 2 does. VNNI CPUs sum in 32 bits. With full 8-bit weights the same model gave
different labels on the two kinds of CPU (ONNX Runtime's quantisation docs recommend ``reduce_range`` there).
"""


def quantize_int8(source: str | Path, target: str | Path, calibration: np.ndarray | Sequence[dict[str, np.ndarray]], *,
                  batch_size: int = 32, op_types: Sequence[str] | None = None, symbolic_shapes: bool = True) -> None:
    """Static int8 quantisation of an ONNX model: int8 weights per output channel in :data:`WEIGHT_BITS` bits,
    uint8 activations whose ranges are measured on ``calibration`` (real inputs: an array, batch first, for a
    model with one input, or the input batches themselves), so each input's result does not depend on what
    else is in its batch. The quantised graph (QDQ) runs on ONNX Runtime's integer kernels (VNNI/AMX where the
    CPU has them, AVX2 elsewhere) and gives the same integers on both. ``op_types``: the operators to quantise
    (default: all that can be); ``symbolic_shapes=False`` skips the symbolic shape inference of the preparation
    step, which cannot follow a transformer's attention mask."""
    import tempfile

    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if isinstance(calibration, np.ndarray):
        input_name = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"]).get_inputs()[0].name
        feeds = [{input_name: calibration[start:start + batch_size]}
                 for start in range(0, len(calibration), batch_size)]
    else:
        feeds = list(calibration)

    class Batches(CalibrationDataReader):
        def __init__(self):
            self.feeds = iter(feeds)

        def get_next(self):
            return next(self.feeds, None)

    with tempfile.TemporaryDirectory() as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=not symbolic_shapes)
        quantize_static(str(prepared), str(target), Batches(), quant_format=QuantFormat.QDQ, per_channel=True,
                        reduce_range=WEIGHT_BITS < 8, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        op_types_to_quantize=list(op_types) if op_types else None)


def float_reference(qdq_model):
    """The float network a QDQ-quantised ONNX model stands for, rebuilt from the model alone.

    Every weight's ``DequantizeLinear`` is folded into a float32 initializer (the weights as quantised), and
    every activation ``QuantizeLinear`` -> ``DequantizeLinear`` pair is dropped, so the graph computes in float
    what an exact integer kernel approximates. ONNX Runtime's quantiser removes a ReLU whose output it
    quantises with zero point 0 (the uint8 clip at 0 does its work); such a pair becomes a ``Relu`` again.
    This is the reference the shipped int8 model is tested against (``tests/unit/test_quantization.py``) and
    the starting point to re-quantise a model whose float32 file was not kept.

    Parameters
    ----------
    qdq_model : onnx.ModelProto or str or Path
        A model written by :func:`quantize_int8` (QDQ format).

    Returns
    -------
    onnx.ModelProto
        The float32 model, same inputs and outputs.
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.ModelProto()
    model.CopyFrom(qdq_model if isinstance(qdq_model, onnx.ModelProto) else onnx.load(str(qdq_model)))
    graph = model.graph
    constants = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    quantized_from: dict[str, str] = {}  # QuantizeLinear output -> its float input
    alias: dict[str, str] = {}  # DequantizeLinear output -> the float tensor it stands for
    folded, kept = [], []
    for node in graph.node:
        if node.op_type == "QuantizeLinear" and node.input[0] not in constants:
            quantized_from[node.output[0]] = node.input[0]
        elif node.op_type == "DequantizeLinear" and node.input[0] in constants:
            folded.append(numpy_helper.from_array(_dequantize(node, constants), node.output[0]))
        elif node.op_type == "DequantizeLinear" and node.input[0] in quantized_from:
            source = quantized_from[node.input[0]]
            if _clips_at_zero(node, constants):
                kept.append(onnx.helper.make_node("Relu", [source], [node.output[0]], name=f"{node.output[0]}/relu"))
            else:
                alias[node.output[0]] = source
        elif node.op_type in ("QuantizeLinear", "DequantizeLinear"):
            raise ValueError(f"float_reference: cannot fold {node.op_type} node {node.name!r} on {node.input[0]!r}")
        else:
            kept.append(node)
    for node in kept:
        for i, name in enumerate(node.input):
            node.input[i] = alias.get(name, name)
    for output in graph.output:
        output.name = alias.get(output.name, output.name)
    used = {name for node in kept for name in node.input}
    initializers = [i for i in graph.initializer if i.name in used] + [i for i in folded if i.name in used]
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    del graph.value_info[:]  # the quantised tensors' shapes are gone; ONNX Runtime infers the rest
    return model


def _clips_at_zero(node, constants: dict[str, np.ndarray]) -> bool:
    """Whether a ``DequantizeLinear`` of an activation has an unsigned zero point of 0 (its values are >= 0)."""
    if len(node.input) < 3 or not node.input[2]:
        return True  # the default zero point is uint8 0
    zero = constants[node.input[2]]
    return zero.dtype == np.uint8 and not zero.any()


def _dequantize(node, constants: dict[str, np.ndarray]) -> np.ndarray:
    """``(q - zero_point) * scale`` of a constant, per tensor or per channel along the node's ``axis``."""
    values = constants[node.input[0]].astype(np.float64)
    scale = constants[node.input[1]].astype(np.float64)
    zero = constants[node.input[2]].astype(np.float64) if len(node.input) > 2 and node.input[2] else 0.0
    if np.ndim(scale) == 1 and values.ndim > 1:
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1) % values.ndim
        shape = [1] * values.ndim
        shape[axis] = -1
        scale = scale.reshape(shape)
        zero = np.reshape(zero, shape) if np.ndim(zero) == 1 else zero
    return ((values - zero) * scale).astype(np.float32)
