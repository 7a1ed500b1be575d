"""A wired bus: one entry, one serial port, a device per pack, and their bank."""
