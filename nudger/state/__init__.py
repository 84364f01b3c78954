"""State: the SQLite store, its migrations and the history queries over the event log."""
