"""One simulator per BMS family, each speaking the real protocol."""
