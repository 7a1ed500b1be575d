"""Battery management system protocols over a byte transport.

This package imports nothing from Home Assistant: it holds the frames, checksums,
reassemblers and drivers of each BMS family, and the typed battery snapshot they
produce.
"""
