"""Battery banks: several configured packs read and switched as one battery.

A bank has no connection of its own: it follows its members' coordinators.
"""
