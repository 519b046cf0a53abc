"""Text: the text emotion predictor, sentences and sentiment, the corpora it learns from, subtitles, and the
analysis of one text or table."""
