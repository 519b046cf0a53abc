"""Rebuild models/mtcnn_{pnet,rnet,onet}.onnx from the MTCNN weights that the facenet-pytorch wheel carries.

Needs torch and onnx (requirements-train.txt) and the wheel's data files, unpacked anywhere:

    pip download --no-deps facenet-pytorch==2.6.0 -d /tmp/wheels && unzip /tmp/wheels/facenet_pytorch-*.whl -d /tmp/fp
    python -m scripts.convert_mtcnn --weights /tmp/fp/facenet_pytorch/data

The three networks are written out here layer by layer (the published MTCNN cascade: P-Net 12 px, R-Net 24 px,
O-Net 48 px, PReLU activations); their state dicts load into them unchanged. Each is exported with a dynamic
batch (and, for the fully convolutional P-Net, dynamic height and width), checked against PyTorch on random
input, and described in models/mtcnn.card.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

MODELS = Path(__file__).resolve().parent.parent / "models"


def build(name: str):
    """P-Net, R-Net or O-Net with the wheel's layer names. The dense layers of R-Net and O-Net were trained on
    features flattened in (width, height, channel) order, hence the permute before flattening."""
    import torch
    from torch import nn

    def conv(cin, cout, k, index, pool=None):
        layers = [(f"conv{index}", nn.Conv2d(cin, cout, k)), (f"prelu{index}", nn.PReLU(cout))]
        if pool:
            layers.append((f"pool{index}", nn.MaxPool2d(pool[0], pool[1], ceil_mode=True)))
        return layers

    class Cascade(nn.Module):
        def __init__(self, trunk, dense, heads):
            super().__init__()
            for layer_name, layer in trunk + dense + heads:
                self.add_module(layer_name, layer)
            self.trunk = [n for n, _ in trunk]
            self.dense = [n for n, _ in dense]
            self.heads = [n for n, _ in heads]

        def forward(self, x):
            for layer_name in self.trunk:
                x = getattr(self, layer_name)(x)
            if self.dense:
                x = x.permute(0, 3, 2, 1).reshape(x.shape[0], -1)
                for layer_name in self.dense:
                    x = getattr(self, layer_name)(x)
            outputs = [getattr(self, head)(x) for head in self.heads]
            outputs[0] = torch.softmax(outputs[0], dim=1)[:, 1]
            return tuple(outputs)

    if name == "pnet":
        trunk = conv(3, 10, 3, 1, (2, 2)) + conv(10, 16, 3, 2) + conv(16, 32, 3, 3)
        return Cascade(trunk, [], [("conv4_1", nn.Conv2d(32, 2, 1)), ("conv4_2", nn.Conv2d(32, 4, 1))])
    if name == "rnet":
        trunk = conv(3, 28, 3, 1, (3, 2)) + conv(28, 48, 3, 2, (3, 2)) + conv(48, 64, 2, 3)
        dense = [("dense4", nn.Linear(576, 128)), ("prelu4", nn.PReLU(128))]
        return Cascade(trunk, dense, [("dense5_1", nn.Linear(128, 2)), ("dense5_2", nn.Linear(128, 4))])
    trunk = (conv(3, 32, 3, 1, (3, 2)) + conv(32, 64, 3, 2, (3, 2)) + conv(64, 64, 3, 3, (2, 2))
             + conv(64, 128, 2, 4))
    dense = [("dense5", nn.Linear(1152, 256)), ("prelu5", nn.PReLU(256))]
    return Cascade(trunk, dense, [("dense6_1", nn.Linear(256, 2)), ("dense6_2", nn.Linear(256, 4)),
                                  ("dense6_3", nn.Linear(256, 10))])


SIDES = {"pnet": 12, "rnet": 24, "onet": 48}
OUTPUTS = {"pnet": ["face", "box"], "rnet": ["face", "box"], "onet": ["face", "box", "points"]}


def main() -> int:
    import onnxruntime as ort
    import torch

    from benchmarks.common import machine_info

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, required=True, help="facenet_pytorch/data of the unpacked wheel")
    args = parser.parse_args()
    checks = {}
    for name, side in SIDES.items():
        net = build(name)
        net.load_state_dict(torch.load(args.weights / f"{name}.pt", map_location="cpu"))
        net.eval()
        target = MODELS / f"mtcnn_{name}.onnx"
        axes = {"image": {0: "batch", 2: "height", 3: "width"} if name == "pnet" else {0: "batch"}}
        example = torch.zeros(1, 3, side, side)
        torch.onnx.export(net, (example,), str(target), input_names=["image"], output_names=OUTPUTS[name],
                          dynamic_axes=axes, opset_version=17, dynamo=False)
        x = np.random.default_rng(0).uniform(-1, 1, (4, 3, side * 3 if name == "pnet" else side,
                                                     side * 2 if name == "pnet" else side)).astype(np.float32)
        with torch.no_grad():
            expected = [t.numpy() for t in net(torch.from_numpy(x))]
        got = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"]).run(None, {"image": x})
        checks[target.name] = {"max_abs_difference_vs_pytorch": float(max(np.abs(e - g).max()
                                                                          for e, g in zip(expected, got))),
                               "sha256": hashlib.sha256(target.read_bytes()).hexdigest()}
    card = {
        "model_id": "mtcnn",
        "task": "face detection",
        "modality": "face",
        "files": sorted(checks),
        "architecture": "MTCNN cascade: P-Net (fully convolutional, 12 px window, stride 2) on an image pyramid, "
                        "R-Net (24 px) and O-Net (48 px) re-scoring and refining the candidates; boxes + 5 "
                        "keypoints; RGB input scaled to [-1, 1]",
        "source": "the MTCNN weights (pnet.pt, rnet.pt, onet.pt) carried by the facenet-pytorch 2.6.0 wheel, "
                  "converted to ONNX with torch.onnx (scripts/convert_mtcnn.py)",
        "licence": "MIT (facenet-pytorch)",
        "conversion_check": {**checks, "machine": machine_info()},
    }
    (MODELS / "mtcnn.card.json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(checks, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
