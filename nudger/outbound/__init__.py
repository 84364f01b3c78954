"""Outgoing mail: the email kinds, rendering, MIME, the outbox path and the transports."""
