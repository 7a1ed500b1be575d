"""What the JBD reports of its 0xE1 MOSFET disable mask, and switch confirmation."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..driver import DriverMemory
from ..errors import CommandNotConfirmedError, CommandUnverifiableError
from ..snapshot import SwitchKind
from .frames import LOCK, BasicInfo

# Driver-memory keys of the 0xE1 mask bits (True: switched off).
MASK_CHARGE = "mask_charge_off"
MASK_DISCHARGE = "mask_discharge_off"


@dataclass(frozen=True, slots=True)
class MosfetMask:
    """What is known of the 0xE1 disable mask, bit by bit.

    True: that MOSFET is switched off by the mask; False: it is not; None:
    unknown.
    """

    charge: bool | None = None
    discharge: bool | None = None

    def get(self, kind: SwitchKind) -> bool | None:
        """The bit of one MOSFET."""
        return self.charge if kind is SwitchKind.CHARGE else self.discharge

    def with_bit(self, kind: SwitchKind, disabled: bool | None) -> MosfetMask:
        """A copy with the bit of one MOSFET set."""
        if kind is SwitchKind.CHARGE:
            return replace(self, charge=disabled)
        return replace(self, discharge=disabled)

    def saved(self) -> dict[str, bool | None]:
        """The bits as driver memory."""
        return {MASK_CHARGE: self.charge, MASK_DISCHARGE: self.discharge}

    @classmethod
    def restore(cls, memory: DriverMemory) -> MosfetMask:
        """The bits from driver memory; anything but a bool is unknown."""
        charge, discharge = memory.get(MASK_CHARGE), memory.get(MASK_DISCHARGE)
        return cls(
            charge if isinstance(charge, bool) else None,
            discharge if isinstance(discharge, bool) else None,
        )


def observed_mask(basic: BasicInfo) -> MosfetMask:
    """The mask bits one 0x03 reply proves on its own.

    The BMS never reports the mask, only its traces (protocols.md 4.5, 4.6.1):
    a MOSFET that conducts is not switched off; without the software lock
    neither is; with it at least one is, and a MOSFET that is off while no
    protection is active can only be off by the mask. A MOSFET that is off
    while a protection is active stays unknown: the protection alone may hold
    it off.
    """
    if not basic.protection & LOCK:
        return MosfetMask(False, False)
    protected = bool(basic.protection & ~LOCK)
    charge = _seen_disabled(basic.charge_fet, protected)
    discharge = _seen_disabled(basic.discharge_fet, protected)
    if charge is False and discharge is None:
        discharge = True
    elif discharge is False and charge is None:
        charge = True
    return MosfetMask(charge, discharge)


def _seen_disabled(fet_on: bool, protected: bool) -> bool | None:
    if fet_on:
        return False
    return None if protected else True


def infer_mask(known: MosfetMask, basic: BasicInfo) -> MosfetMask:
    """Update what is known of the mask with one 0x03 reply.

    Bits the reply proves replace what was known; the others keep their known
    value unless that contradicts the software lock (the vendor app changed
    the mask meanwhile), in which case they become unknown. A power cycle,
    which clears the mask, shows as a missing lock.
    """
    seen = observed_mask(basic)
    merged = MosfetMask(
        known.charge if seen.charge is None else seen.charge,
        known.discharge if seen.discharge is None else seen.discharge,
    )
    if basic.protection & LOCK and merged.charge is False and merged.discharge is False:
        return seen
    return merged


OTHER = {
    SwitchKind.CHARGE: SwitchKind.DISCHARGE,
    SwitchKind.DISCHARGE: SwitchKind.CHARGE,
}


def _fet(basic: BasicInfo, kind: SwitchKind) -> bool:
    return basic.charge_fet if kind is SwitchKind.CHARGE else basic.discharge_fet


def confirm_switch(
    kind: SwitchKind, on: bool, before: BasicInfo, after: BasicInfo
) -> None:
    """Raise unless the read-back shows the MOSFET command applied.

    "On" needs the MOSFET on. "Off" needs it off and the software lock set,
    and evidence that the lock covers it: the reply alone proves it
    (:func:`observed_mask`), or the lock appeared with this command, or the
    MOSFET was on and went off while no new protection appeared. Without such
    evidence (a protection already held it off and the lock was already set)
    the BMS cannot tell an applied "off" from an ignored one.
    """
    if _fet(after, kind) is not on:
        if on and after.protection & ~LOCK:
            raise CommandNotConfirmedError("the MOSFET is off; a protection is active")
        raise CommandNotConfirmedError("the MOSFET did not change state")
    if on:
        return
    if not after.protection & LOCK:
        raise CommandNotConfirmedError("the BMS shows no software lock")
    if observed_mask(after).get(kind) or not before.protection & LOCK:
        return
    if _fet(before, kind) and not after.protection & ~before.protection & ~LOCK:
        return
    raise CommandUnverifiableError(
        "a protection already held the MOSFET off and the software lock was set"
    )
