"""The domain: the handoff state machine, routing, intake, dates, calendars, tokens, classification.

Pure: every function takes the config, the state it reasons about and ``now``; no I/O.
"""
