"""Whether pyusb finds a libusb here: python-can's gs_usb interface needs one."""

from __future__ import annotations

import usb.core


def usb_backend_present() -> bool:
    """True where pyusb can scan for USB devices (a libusb is installed)."""
    try:
        usb.core.find()
    except usb.core.NoBackendError:
        return False
    return True
