"""Speech: decoding audio, voiced segments, the speech emotion predictor with its calibrations, the corpora it
learns from, and the analysis of one recording."""
