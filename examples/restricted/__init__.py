"""Implementations with honest limits: what real code often handles, declared as such."""
