"""nudger: forwarded emails become tracked handoffs; replies drive them to done."""

__version__ = "0.1.0"
