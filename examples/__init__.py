"""Examples: layers written in common styles (styles/) and a CNN trained on digits."""
