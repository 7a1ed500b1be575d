"""The benchmark behind ``scripts/bench`` (not shipped with the integration)."""
