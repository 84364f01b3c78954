"""Reading email: pure functions over bytes and text. Knows nothing of handoffs or state."""
