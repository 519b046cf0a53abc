"""Storage: the history database (``db``: tables; ``store``: HistoryStore, migrations in ``migrations/``) and the
saving of each kind of analysis into it (``history``)."""
