"""Fusion: every modality's results on one time axis, fused per window (``windows``), and the analysis of a
video with its sound and transcript in every modality at once (``multimodal``)."""
