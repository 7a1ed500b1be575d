"""A BMS on the CAN bus to its inverter (Pylontech CAN protocol), listened to."""
