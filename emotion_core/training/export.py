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
