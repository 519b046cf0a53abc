"""Training the face models: the expression CNN and MobileNetV2 (``train``), their augmentation (``augment``), the
ImageNet MobileNetV2 (``mobilenet``), and seed 002's reproduction (``seed002``)."""
