"""The packs a master pack reports over its own link, and the bank they form."""
