"""Archives at scale: the files of an archive as parts of work (``archive``), analysed with Ray Data on this
machine or a cluster into Parquet tables (``runner``)."""
