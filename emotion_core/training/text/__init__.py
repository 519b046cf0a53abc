"""Training the text models: corpora, arms and the shipped model (``train``), and the calibration of its neutral
decision (``calibration``)."""
