"""Training the speech models: corpora and features (``data``), the two in-corpus arms (``cnn``, ``functionals``)
and their comparison (``train``, measured by ``measure``); leave-one-corpus-out arms (``loco``), self-calibration
(``self_calibration``), confidence (``confidence``) and the shipped model chosen under LOCO (``ship``)."""
