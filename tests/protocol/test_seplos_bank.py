"""A Seplos V3 master over Bluetooth: its EIA pack count and the other packs.

The EIA vectors are real (a one-pack bank's capture) or aiobmsble's test
input (two packs). No public capture of a real bank's other packs exists, so
the multi-pack reads are tested against the simulator only.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from bench.ha.forgery import forge
from bms_simulator.device import Fault
from bms_simulator.families.seplos import (
    SeplosV3Ble,
    SeplosV3Master,
    SeplosV3Pack,
    demo_bank,
    demo_pack,
)
from bms_simulator.pack import PackModel
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.client import BmsClient
from custom_components.lithium_bms.protocol.codecs import modbus
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.errors import (
    BmsTimeoutError,
    ChecksumError,
    FrameError,
)
from custom_components.lithium_bms.protocol.seplos import SeplosDriver, v3
from custom_components.lithium_bms.protocol.seplos.stream import (
    SeplosV3BankReassembler,
)
from custom_components.lithium_bms.protocol.seplos.variants import EIA_SILENT_LIMIT
from custom_components.lithium_bms.protocol.snapshot import BatterySnapshot

from .sim_clients import MakeClient, SimClients
from .test_seplos_driver import assert_matches
from .test_seplos_frames import frame, of_kind, vector

ADDRESS = "C0:D6:3C:00:11:22"
EIA_VECTORS = of_kind("seplos_v3", "eia")


def u32(regs: tuple[int, ...], index: int) -> int:
    """A 32-bit EIA value, low word first."""
    value = regs[index] | regs[index + 1] << 16
    return value - (1 << 32) if value & 0x80000000 else value


def test_the_eia_request_is_built_as_captured() -> None:
    v = vector("V3 EIA request, master")
    assert v3.EIA.request(v3.MASTER_DEVICE) == frame(v)
    request = modbus.parse_request(frame(v))
    assert (request.address, request.function, request.start, request.count) == (
        v["expected"]["address"],
        v["expected"]["function"],
        v["expected"]["start"],
        v["expected"]["count"],
    )


@pytest.mark.parametrize("v", EIA_VECTORS, ids=[v["name"] for v in EIA_VECTORS])
def test_eia_vectors_decode_exactly(v: dict[str, Any]) -> None:
    reply = modbus.parse_response(frame(v))
    expected = v["expected"]
    regs = reply.registers
    assert reply.address == expected["address"]
    assert v3.decode_pack_count(regs) == expected["pack_count"]
    assert u32(regs, v3.EIA_ONLINE) == expected["online_flags"]
    # The layout the count is read from (aiobmsble's field table).
    assert u32(regs, 0) / 100 == expected["voltage_V"]
    assert u32(regs, 2) / 10 == expected["current_A"]
    assert regs[v3.EIA_SOC] / 10 == expected["soc_pct"]
    assert regs[v3.EIA_SOH] / 10 == expected["soh_pct"]
    assert regs[v3.EIA_PACK_COUNT + 1] == expected["cycles"]


def eia_registers(**changes: int) -> list[int]:
    regs = list(
        modbus.parse_response(
            frame(vector("V3 EIA reply, SG16S200A-SP57B-A, one pack"))
        ).registers
    )
    for index, value in changes.items():
        regs[int(index.removeprefix("r"))] = value
    return regs


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"r22": 0}, "0 packs"),
        ({"r22": 17}, "17 packs"),
        ({"r22": 0xFFFF}, "65535 packs"),
        ({"r12": 0b110, "r22": 2}, "online flags"),
        ({"r13": 1}, "online flags"),
        ({"r24": 1001}, "SOC or SOH"),
        ({"r25": 1001}, "SOC or SOH"),
    ],
)
def test_an_eia_no_master_can_send_is_refused(
    changes: dict[str, int], match: str
) -> None:
    with pytest.raises(FrameError, match=match):
        v3.decode_pack_count(eia_registers(**changes))


def test_a_short_eia_is_refused() -> None:
    with pytest.raises(FrameError):
        v3.decode_pack_count(eia_registers()[:20])


def test_the_simulated_master_answers_as_captured() -> None:
    """The simulator's EIA has the captured layout: the decoder reads its count."""
    master = SeplosV3Master([demo_pack(1), demo_pack(2), demo_pack(3)])
    reply = modbus.parse_response(master.answer(v3.EIA.request(0)) or b"")
    assert v3.decode_pack_count(reply.registers) == 3
    assert u32(reply.registers, v3.EIA_ONLINE) == 0b111


def bank_frames() -> list[bytes]:
    frames = [SeplosV3Master([demo_pack(1), demo_pack(2)]).answer(v3.EIA.request(0))]
    for device in (1, 2):
        pack = SeplosV3Pack(device, demo_pack(device))
        frames += [pack.answer(block.request(device)) for block in v3.READING]
    return [f for f in frames if f]


@pytest.mark.parametrize("split", range(1, 30))
def test_bank_reassembly_split_anywhere(split: int) -> None:
    frames = bank_frames()
    stream = b"".join(frames)
    reassembler = SeplosV3BankReassembler(v3.MASTER_DEVICE, v3.MAX_PACKS)
    found: list[bytes] = []
    for start in range(0, len(stream), split):
        found += reassembler.feed(stream[start : start + split])[0]
    assert found == frames


def test_bank_reassembly_garbage_bad_crc_and_foreign_devices() -> None:
    frames = bank_frames()
    bad = bytearray(frames[1])
    bad[10] ^= 0x40
    foreign = SeplosV3Pack(0x20, demo_pack(1)).answer(v3.PIA.request(0x20)) or b""
    rng = random.Random(7)
    noise = bytes(rng.randrange(256) for _ in range(40))
    stream = noise + bytes(bad) + foreign + frames[0] + noise[:5] + b"".join(frames)
    found, errors = SeplosV3BankReassembler(v3.MASTER_DEVICE, v3.MAX_PACKS).feed(stream)
    assert found == [frames[0], *frames]
    assert any(isinstance(e, ChecksumError) for e in errors)


@pytest.fixture(autouse=True)
def fast_seplos(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SeplosDriver, "request_timeout", 0.2)
    monkeypatch.setattr(SeplosDriver, "connect_delay", 0.0)


@pytest.fixture
def sim() -> SeplosV3Ble:
    return demo_bank(ADDRESS, 3)


@pytest.fixture
def make_client(sim_clients: SimClients, sim: SeplosV3Ble) -> MakeClient:
    return sim_clients.maker(SeplosDriver, sim, address=ADDRESS, variant="v3")


async def test_a_master_reports_each_pack_of_its_bank(
    sim: SeplosV3Ble, make_client: MakeClient
) -> None:
    client = make_client()
    assert_matches(await client.read_snapshot(), sim.pack)
    assert sorted(client.reported_packs) == [2, 3]
    for number, pack in zip((2, 3), sim.others, strict=True):
        snapshot = client.reported_packs[number]
        assert snapshot is not None
        assert_matches(snapshot, pack)
    asked = [(w[0], int.from_bytes(w[2:4], "big")) for w in sim.writes]
    assert asked == [
        (1, 0x1000),
        (1, 0x1100),
        (1, 0x1200),
        (0, 0x2000),
        *((device, start) for device in (2, 3) for start in (0x1000, 0x1100, 0x1200)),
    ]


async def test_packs_leave_and_join_the_report(
    sim: SeplosV3Ble, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_snapshot()
    sim.set_others(sim.others[:1])
    await client.read_snapshot()
    assert sorted(client.reported_packs) == [2]
    sim.set_others([demo_pack(2), demo_pack(3), demo_pack(4)])
    await client.read_snapshot()
    assert sorted(client.reported_packs) == [2, 3, 4]
    joined = client.reported_packs[4]
    assert joined is not None
    assert_matches(joined, sim.others[2])


async def test_a_silent_pack_is_none_and_the_reading_stands(
    sim: SeplosV3Ble, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_snapshot()
    # The master still counts three packs, but pack 3 stops answering.
    sim.others = sim.others[:1]
    assert_matches(await client.read_snapshot(), sim.pack)
    assert client.reported_packs[2] is not None
    assert client.reported_packs[3] is None


async def test_an_implausible_pack_is_none(
    sim: SeplosV3Ble, make_client: MakeClient
) -> None:
    client = make_client()
    sim.others[0].temperatures = [160.0, 21.5, 22.0, 22.5, 24.0]  # no real probe
    await client.read_snapshot()
    assert client.reported_packs[2] is None
    assert client.reported_packs[3] is not None
    assert client.stats.implausible_snapshots == 1


async def test_inverted_current_applies_to_every_pack(
    sim: SeplosV3Ble, make_client: MakeClient
) -> None:
    client = make_client(invert_current=True)
    await client.read_snapshot()
    snapshot = client.reported_packs[2]
    assert snapshot is not None
    assert snapshot.current == pytest.approx(-sim.others[0].current)


async def test_a_module_without_eia_is_a_single_pack_and_stops_being_asked(
    sim: SeplosV3Ble, make_client: MakeClient
) -> None:
    sim.eia_answered = False
    client = make_client()
    for _ in range(EIA_SILENT_LIMIT):
        assert_matches(await client.read_snapshot(), sim.pack)
        assert client.reported_packs == {}
    writes = len(sim.writes)
    await client.read_snapshot()
    assert len(sim.writes) == writes + 3  # PIA, PIB, PIC: no EIA again


async def test_a_refused_eia_is_a_single_pack_and_asked_again(
    sim: SeplosV3Ble, make_client: MakeClient
) -> None:
    """A refusal costs no wait: the module may answer once its master is up."""
    client = make_client()
    sim.master.refuses = True
    await client.read_snapshot()
    assert client.reported_packs == {}
    sim.master.refuses = False
    await client.read_snapshot()
    assert sorted(client.reported_packs) == [2, 3]


async def test_a_known_master_that_misses_eia_once_keeps_its_count(
    sim: SeplosV3Ble, make_client: MakeClient
) -> None:
    client = make_client()
    await client.read_snapshot()
    sim.eia_answered = False
    await client.read_snapshot()
    assert sorted(client.reported_packs) == [2, 3]
    sim.eia_answered = True
    sim.set_others(sim.others[:1])
    await client.read_snapshot()
    assert sorted(client.reported_packs) == [2]


async def test_a_fault_on_the_first_pack_fails_the_reading(
    sim: SeplosV3Ble, make_client: MakeClient
) -> None:
    client = make_client()
    sim.inject(Fault.NO_ANSWER)
    with pytest.raises(BmsTimeoutError):
        await client.read_snapshot()
    assert_matches(await client.read_snapshot(), sim.pack)
    assert sorted(client.reported_packs) == [2, 3]


async def test_a_single_pack_reports_no_bank() -> None:
    sim = SeplosV3Ble(ADDRESS, "SP05B2312190075", demo_pack(1))
    client = BmsClient(
        SeplosDriver(
            SimulatorTransport(sim), DriverOptions(address=ADDRESS, variant="v3")
        )
    )
    try:
        await client.read_snapshot()
        assert client.reported_packs == {}
    finally:
        await client.close()


def test_the_simulated_master_summarises_as_aiobmsble_reads() -> None:
    """EIB's mean cell temperature (register 10, 0.1 °C) and EIC's FET byte (7).

    The offsets aiobmsble ``seplos_bms.py`` reads (``_FIELDS``), so the bench
    can run it against the same simulated master.
    """
    packs = [demo_pack(1), demo_pack(2)]
    packs[1].charge_enabled = False
    master = SeplosV3Master(packs)
    eib = modbus.parse_response(
        master.answer(modbus.read_request(0, 0x2100, 0x16, modbus.READ_INPUT)) or b""
    )
    probes = [t for p in packs for t in (p.temperatures + p.temperatures[-1:] * 4)[:4]]
    assert eib.registers[10] / 10 == pytest.approx(sum(probes) / len(probes), abs=0.1)
    eic = modbus.parse_response(
        master.answer(modbus.read_request(0, 0x2200, 0x50, modbus.READ_COILS)) or b""
    )
    assert len(eic.data) == 10
    assert eic.data[7] & 0x03 == 0x03  # pack 1's FETs are on: any pack's bit
    refused = modbus.parse_response(
        master.answer(modbus.read_request(0, 0x2300, 1, modbus.READ_INPUT)) or b""
    )
    assert refused.is_exception


def numeric_mismatches(snapshot: BatterySnapshot, pack: PackModel) -> list[str]:
    """The values the soak compares with what the simulator held."""
    held = {
        "voltage": (snapshot.voltage, pack.voltage, 0.006),
        "current": (snapshot.current, pack.current, 0.006),
        "soc": (snapshot.state_of_charge, pack.soc, 0.06),
        "remaining": (snapshot.remaining_capacity, pack.remaining_capacity, 0.006),
    }
    wrong = [
        name
        for name, (got, want, tolerance) in held.items()
        if got is None or abs(got - want) > tolerance
    ]
    if snapshot.cell_voltages != tuple(pack.cell_voltages):
        wrong.append("cells")
    return wrong


async def test_forged_frames_of_the_bank_never_publish_a_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Random content with a valid CRC in EIA and pack 2's replies (the soak's
    forgery): pack 2 reads as what it holds or not at all, and no pack is
    invented by a forged count."""
    monkeypatch.setattr(SeplosDriver, "request_timeout", 0.02)
    sim = demo_bank(ADDRESS, 3)
    rng = random.Random(20240607)
    send = sim.send
    forged = 0

    def forging(frame: bytes) -> None:
        nonlocal forged
        fake = forge(frame, rng) if frame[0] in (0x00, 0x02) else None
        if fake is not None and rng.random() < 0.5:
            forged += 1
            frame = fake
        send(frame)

    sim.send = forging  # type: ignore[method-assign]
    client = BmsClient(
        SeplosDriver(
            SimulatorTransport(sim), DriverOptions(address=ADDRESS, variant="v3")
        )
    )
    published = 0
    try:
        for _ in range(60):
            await client.read_snapshot()
            assert set(client.reported_packs) <= {2, 3}
            pack2 = client.reported_packs.get(2)
            if pack2 is not None:
                published += 1
                assert numeric_mismatches(pack2, sim.others[0]) == []
    finally:
        await client.close()
    assert forged > 30
    assert published > 0
