"""A battery broadcasting the Pylontech CAN protocol on a python-can bus."""

from .broadcaster import CanBroadcaster, Limits, demo_pack

__all__ = ["CanBroadcaster", "Limits", "demo_pack"]
