"""Frame codecs that several families share (Modbus RTU, YD/T1363 ASCII)."""
