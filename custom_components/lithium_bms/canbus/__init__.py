"""A battery heard on the CAN bus to its inverter."""
