"""Raises while being imported."""
raise RuntimeError("module-level setup failed")
