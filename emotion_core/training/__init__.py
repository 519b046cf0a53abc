"""Training (needs requirements-train.txt): one sub-package per modality, and what they share: ONNX export and
quantisation (``export``), Keras layers for a laptop CPU (``layers``)."""
