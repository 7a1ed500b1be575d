"""The reassembly contract every family's stream meets, one table row a family.

Each row names a fresh reassembler, the family's real frames (the vectors of
its frames tests), the check a returned frame must pass and the knobs where
the families differ (how much to fuzz, which garbage may stand between frames
without posing as one). A new family adds its row.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.lithium_bms.protocol.abc import frames as abc
from custom_components.lithium_bms.protocol.abc.stream import AbcReassembler
from custom_components.lithium_bms.protocol.ant import frames as ant
from custom_components.lithium_bms.protocol.ant.stream import AntReassembler
from custom_components.lithium_bms.protocol.ant_legacy import frames as ant_legacy
from custom_components.lithium_bms.protocol.ant_legacy.stream import (
    AntLegacyReassembler,
)
from custom_components.lithium_bms.protocol.braunpwr import frames as braunpwr
from custom_components.lithium_bms.protocol.braunpwr.stream import BraunReassembler
from custom_components.lithium_bms.protocol.buknuwo.stream import (
    BuknuwoReassembler,
)
from custom_components.lithium_bms.protocol.cbtpwr import frames as cbtpwr
from custom_components.lithium_bms.protocol.cbtpwr import vb
from custom_components.lithium_bms.protocol.cbtpwr.stream import (
    CbtPowerReassembler,
    CbtPowerVbReassembler,
)
from custom_components.lithium_bms.protocol.codecs import modbus
from custom_components.lithium_bms.protocol.ecoworthy import frames as ecoworthy
from custom_components.lithium_bms.protocol.ecoworthy.stream import (
    EcoworthyReassembler,
)
from custom_components.lithium_bms.protocol.eg4.stream import Eg4Reassembler
from custom_components.lithium_bms.protocol.ej import frames as ej
from custom_components.lithium_bms.protocol.ej.stream import EjReassembler
from custom_components.lithium_bms.protocol.errors import FrameError, ProtocolError
from custom_components.lithium_bms.protocol.felicity import frames as felicity
from custom_components.lithium_bms.protocol.felicity.stream import (
    FelicityReassembler,
)
from custom_components.lithium_bms.protocol.gobel.stream import GobelReassembler
from custom_components.lithium_bms.protocol.humsienk import frames as humsienk
from custom_components.lithium_bms.protocol.humsienk.stream import (
    HumsienkReassembler,
)
from custom_components.lithium_bms.protocol.jbd.frames import parse_frame
from custom_components.lithium_bms.protocol.jbd.stream import JbdReassembler
from custom_components.lithium_bms.protocol.myvolta import frames as myvolta
from custom_components.lithium_bms.protocol.myvolta.stream import MyvoltaReassembler
from custom_components.lithium_bms.protocol.neey import frames as neey
from custom_components.lithium_bms.protocol.neey.stream import NeeyReassembler
from custom_components.lithium_bms.protocol.ogt import frames as ogt
from custom_components.lithium_bms.protocol.ogt.stream import OgtReassembler
from custom_components.lithium_bms.protocol.pace.ble_frames import (
    check_frame as pace_ble_check,
)
from custom_components.lithium_bms.protocol.pace.stream import PaceBleReassembler
from custom_components.lithium_bms.protocol.pwrboozt import frames as pwrboozt
from custom_components.lithium_bms.protocol.pwrboozt.stream import (
    PwrbooztReassembler,
)
from custom_components.lithium_bms.protocol.pylontech.stream import (
    PylontechReassembler,
)
from custom_components.lithium_bms.protocol.redodo import frames as redodo
from custom_components.lithium_bms.protocol.redodo.stream import RedodoReassembler
from custom_components.lithium_bms.protocol.renogy.stream import RenogyReassembler
from custom_components.lithium_bms.protocol.roypow import frames as roypow
from custom_components.lithium_bms.protocol.roypow.stream import RoyPowReassembler
from custom_components.lithium_bms.protocol.saihang import frames as saihang
from custom_components.lithium_bms.protocol.saihang.stream import SaihangReassembler
from custom_components.lithium_bms.protocol.scanner import Feed, Scanner
from custom_components.lithium_bms.protocol.seplos import v2ble
from custom_components.lithium_bms.protocol.seplos.stream import SeplosV2BleReassembler
from custom_components.lithium_bms.protocol.superb import frames as superb
from custom_components.lithium_bms.protocol.superb.stream import SuperbReassembler
from custom_components.lithium_bms.protocol.tdt import frames as tdt
from custom_components.lithium_bms.protocol.tdt.stream import TdtReassembler
from custom_components.lithium_bms.protocol.tianpwr import frames as tianpwr
from custom_components.lithium_bms.protocol.tianpwr.stream import (
    TianpwrReassembler,
)
from custom_components.lithium_bms.protocol.topband import frames as topband
from custom_components.lithium_bms.protocol.topband.stream import TopbandReassembler
from custom_components.lithium_bms.protocol.vatrer.stream import VatrerReassembler

from . import (
    test_abc_frames,
    test_ant_frames,
    test_ant_legacy_frames,
    test_braunpwr_frames,
    test_buknuwo_frames,
    test_cbtpwr_frames,
    test_ecoworthy_frames,
    test_eg4_frames,
    test_ej_frames,
    test_felicity_frames,
    test_gobel_frames,
    test_humsienk_frames,
    test_jbd_frames,
    test_myvolta_frames,
    test_neey_frames,
    test_ogt_frames,
    test_pace_ble_frames,
    test_pwrboozt_frames,
    test_pylontech_frames,
    test_redodo_frames,
    test_renogy_frames,
    test_roypow_frames,
    test_saihang_frames,
    test_seplos_v2_ble_frames,
    test_superb_frames,
    test_tdt_frames,
    test_tianpwr_frames,
    test_topband_frames,
    test_vatrer_frames,
)
from .streams import NOISE, chunked, feed_chunks, mutated_stream

# Garbage for families where any short run of bytes stays garbage.
ANY_GARBAGE = st.binary(max_size=8)


@dataclass(frozen=True, kw_only=True)
class Fuzz:
    """How hard one property is fuzzed for a family."""

    examples: int = 200
    # Random bytes: their length; frame streams: how many frames at most.
    size: int = 4


# Where the family's frames tests fuzzed its stream less, or not at all.
LIGHT = Fuzz(examples=100)
LIGHT_RANDOM = Fuzz(examples=100, size=300)


@dataclass(frozen=True, kw_only=True)
class Family:
    """One family's reassembler, real frames and knobs."""

    id: str
    make: Callable[[], Scanner]
    frames: Sequence[bytes]
    # Raises a ProtocolError or answers False for a frame that is not valid.
    valid: Callable[[bytes], bool]
    # What a returned frame must also survive: its decoders, errors allowed.
    decode: Callable[[bytes], object] | None = None
    random: Fuzz = Fuzz(size=300)
    mutated: Fuzz = Fuzz()
    inserts: st.SearchStrategy[bytes] = NOISE
    # None where the family's own test builds the frames it glues.
    survives: Fuzz | None = Fuzz()
    # Drawn bytes that stand between frames without posing as one.
    garbage: st.SearchStrategy[bytes] = ANY_GARBAGE
    # The sizes the family's notifications come in.
    notifications: Sequence[int] = (20,)
    # Fixed bytes before and between frames that must not hide one: the
    # family's start bytes, headers cut short, modem text.
    junk: Sequence[bytes] = ()
    # Other families' frames and requests that must yield nothing.
    foreign: Sequence[bytes] = ()
    # The bytes of a frame's start that tell its length: from there on a
    # truncated frame is reported (None: it is dropped without a word).
    header: int | None = 1
    # The next frames a truncated frame holds while it waits for its
    # announced length (the family resumes on the frame after them).
    holds: Callable[[bytes], bool] | None = None


def checked(check: Callable[[bytes], object]) -> Callable[[bytes], bool]:
    """A validator from a checker that raises for a frame that is not valid."""

    def valid(frame: bytes) -> bool:
        check(frame)
        return True

    return valid


def jbd_valid(frame: bytes) -> bool:
    """A JBD reply or an FF AA authentication frame, each with its sum."""
    if frame[:2] == b"\xff\xaa":
        return len(frame) == 5 + frame[3] and sum(frame[2:-1]) & 0xFF == frame[-1]
    parse_frame(frame)
    return frame[2] in (0x00, 0x80)


def ej_decode(frame: bytes) -> None:
    """Decode an E&J realtime or capacity reply."""
    with contextlib.suppress(FrameError):
        if ej.is_reply(frame, ej.REALTIME):
            ej.decode_realtime(frame)
        elif ej.is_reply(frame, ej.CAPACITY):
            ej.decode_capacity(frame)


def felicity_decode(frame: bytes) -> None:
    """Decode a Felicity reply as real-time info."""
    with contextlib.suppress(ProtocolError):
        felicity.decode_real_info(frame)


def pwrboozt_decode(frame: bytes) -> None:
    """Decode a PowerBoozt status."""
    with contextlib.suppress(FrameError):
        pwrboozt.decode_status(frame)


def saihang_decode(frame: bytes) -> None:
    """Decode a Saihang status reply."""
    with contextlib.suppress(FrameError):
        saihang.decode_status(frame)


def seplos_v2_ble_valid(frame: bytes) -> bool:
    """A Seplos V2 BLE frame its scanner check accepts."""
    return v2ble.check_frame(frame, 0, len(frame)) is None


def tdt_decode(frame: bytes) -> None:
    """Decode a TDT reply as each of its kinds."""
    for decode in (tdt.decode_analog, tdt.decode_warning, tdt.decode_product):
        with contextlib.suppress(ProtocolError):
            decode(frame)


ECOWORTHY_MAC = test_ecoworthy_frames.MAC
OGT_SCRAMBLE = ogt.scramble_table(test_ogt_frames.KEY_A)


class ScrambledOgt(OgtReassembler):
    """Offgridtec fed plain lines, scrambled with the pack's key as it sends them.

    Its frames are the descrambled lines, so the row speaks them: what is fed
    is then what is published.
    """

    def __init__(self) -> None:
        """Descramble with the key the lines are scrambled with."""
        super().__init__(test_ogt_frames.KEY_A)

    def feed(self, data: bytes) -> Feed:
        """Feed ``data`` scrambled (the key's XOR undoes itself)."""
        return super().feed(data.translate(OGT_SCRAMBLE))


SEPLOS_V2_BLE = [
    test_seplos_v2_ble_frames.frame(vector)
    for kind in ("single", "info")
    for vector in test_seplos_v2_ble_frames.of_kind(kind)
]


def modbus_family(
    name: str, make: Callable[[], Scanner], frames: Sequence[bytes]
) -> Family:
    """A family of Modbus responses, each checked by its length and CRC."""
    return Family(
        id=name,
        make=make,
        frames=frames,
        valid=checked(modbus.parse_response),
        random=LIGHT_RANDOM,
        mutated=LIGHT,
        survives=LIGHT,
        header=3,
    )


CBTPWR = Family(
    id="cbtpwr",
    make=CbtPowerReassembler,
    frames=test_cbtpwr_frames.CLASSIC,
    valid=checked(cbtpwr.check_frame),
    # The family's tests drew one of both variants in 150 examples.
    random=Fuzz(examples=75, size=200),
    mutated=Fuzz(examples=75),
    survives=Fuzz(examples=75),
    junk=test_cbtpwr_frames.GARBAGE,
    foreign=[*test_cbtpwr_frames.FOREIGN.values()],
    header=4,
)

FAMILIES = [
    Family(
        id="abc",
        make=AbcReassembler,
        frames=test_abc_frames.FRAMES,
        valid=checked(abc.check_frame),
        # Garbage glued to a frame's head can pose as another frame.
        garbage=st.sampled_from([b"", b"\x00", b"\xcc", b"\xcc\xf4", b"\x01\x02\x03"]),
        junk=test_abc_frames.GARBAGE,
        foreign=[*test_abc_frames.FOREIGN.values()],
        header=2,
    ),
    Family(
        id="ant",
        make=AntReassembler,
        frames=test_ant_frames.FRAMES,
        valid=checked(ant.check_frame),
        junk=test_ant_frames.GARBAGE,
        foreign=[*test_ant_frames.FOREIGN.values()],
        header=2,
    ),
    Family(
        id="ant_legacy",
        make=AntLegacyReassembler,
        frames=test_ant_legacy_frames.FRAMES,
        valid=checked(ant_legacy.check_frame),
        junk=test_ant_legacy_frames.GARBAGE,
        foreign=[*test_ant_legacy_frames.FOREIGN.values()],
        header=4,
    ),
    Family(
        id="braunpwr",
        make=BraunReassembler,
        frames=test_braunpwr_frames.FRAMES,
        valid=checked(braunpwr.check_frame),
        # Garbage glued to a frame's tail can pose as another frame.
        garbage=st.sampled_from([b"", b"\x00", b"\xff\xfe", b"}}", b"\x01\x02\x03"]),
        junk=test_braunpwr_frames.GARBAGE,
        foreign=[*test_braunpwr_frames.FOREIGN.values()],
        header=2,
    ),
    modbus_family(
        "buknuwo",
        BuknuwoReassembler,
        [
            test_buknuwo_frames.STATUS,
            test_buknuwo_frames.MOSFET_PROBE,
            test_buknuwo_frames.PROBES,
        ],
    ),
    CBTPWR,
    replace(
        CBTPWR,
        id="cbtpwr_vb",
        make=CbtPowerVbReassembler,
        frames=test_cbtpwr_frames.VB,
        valid=checked(vb.reply_info),
        header=13,
    ),
    Family(
        id="ecoworthy",
        make=lambda: EcoworthyReassembler(ECOWORTHY_MAC),
        frames=test_ecoworthy_frames.FRAMES,
        valid=checked(lambda frame: ecoworthy.check_frame(frame, ECOWORTHY_MAC)),
        junk=test_ecoworthy_frames.GARBAGE,
        foreign=[*test_ecoworthy_frames.FOREIGN.values()],
        header=14,
    ),
    modbus_family("eg4", Eg4Reassembler, [test_eg4_frames.STATUS]),
    Family(
        id="ej",
        make=EjReassembler,
        frames=test_ej_frames.ALL_FRAMES,
        valid=checked(ej.check_frame),
        decode=ej_decode,
        # A frame's start and end characters inserted mid-frame.
        inserts=NOISE | st.sampled_from([b":", b"~"]),
        garbage=ANY_GARBAGE.filter(lambda garbage: b":" not in garbage),
        notifications=(20, 23, 64, 182, 244),
        junk=test_ej_frames.GARBAGE,
        foreign=[*test_ej_frames.FOREIGN.values()],
        header=11,
    ),
    Family(
        id="felicity",
        make=FelicityReassembler,
        frames=test_felicity_frames.FRAMES,
        valid=checked(felicity.parse),
        decode=felicity_decode,
        mutated=Fuzz(examples=100, size=3),
        survives=Fuzz(examples=100, size=3),
        notifications=(20, 35),
        junk=test_felicity_frames.GARBAGE,
        foreign=[*test_felicity_frames.FOREIGN.values()],
    ),
    modbus_family(
        "gobel", GobelReassembler, [test_gobel_frames.STATUS, test_gobel_frames.INFO]
    ),
    Family(
        id="humsienk",
        make=HumsienkReassembler,
        frames=test_humsienk_frames.FRAMES,
        valid=checked(humsienk.check_frame),
        garbage=st.sampled_from([b"", b"\x00", b"\x13\x37", b"\xff\xfe\xfd"]),
        junk=test_humsienk_frames.GARBAGE,
        foreign=[*test_humsienk_frames.FOREIGN.values()],
        header=2,
    ),
    Family(
        id="jbd",
        make=JbdReassembler,
        frames=test_jbd_frames.VALID_FRAMES,
        valid=jbd_valid,
        survives=None,
        junk=test_jbd_frames.GARBAGE,
        header=4,
        # The rescue looks for DD replies, not for FF AA authentication.
        holds=lambda after: after[:2] == b"\xff\xaa",
    ),
    Family(
        id="myvolta",
        make=MyvoltaReassembler,
        frames=test_myvolta_frames.FRAMES,
        valid=checked(myvolta.check_frame),
        junk=test_myvolta_frames.GARBAGE,
        foreign=[*test_myvolta_frames.FOREIGN.values()],
        # The length shows only at the tail: a cut frame gives way silently
        # when it outgrows the longest frame.
        header=None,
    ),
    Family(
        id="neey",
        make=NeeyReassembler,
        frames=test_neey_frames.FRAMES,
        valid=checked(neey.check_frame),
        random=Fuzz(size=400),
        mutated=Fuzz(examples=100, size=3),
        survives=Fuzz(examples=100, size=3),
        notifications=(29,),
        junk=test_neey_frames.GARBAGE,
        foreign=[*test_neey_frames.FOREIGN.values()],
        header=8,
        # No rescue: a truncated frame holds any frame of the family.
        holds=lambda after: after[:2] == b"\x55\xaa",
    ),
    Family(
        id="ogt",
        make=ScrambledOgt,
        frames=test_ogt_frames.FRAMES,
        valid=checked(ogt.check_frame),
        decode=ogt.decode_value,
        survives=Fuzz(size=5),
        # A line's start glued to a line's head can pose as a line.
        garbage=st.binary(max_size=6).filter(lambda garbage: b"+" not in garbage),
        junk=test_ogt_frames.GARBAGE,
        # The received bytes, as the row speaks them.
        foreign=[
            wire.translate(OGT_SCRAMBLE) for wire in test_ogt_frames.FOREIGN.values()
        ],
        header=len(ogt.REPLY),
    ),
    Family(
        id="pace_ble",
        make=PaceBleReassembler,
        frames=test_pace_ble_frames.FRAMES,
        valid=checked(pace_ble_check),
        mutated=LIGHT,
        survives=LIGHT,
        junk=test_pace_ble_frames.GARBAGE,
    ),
    Family(
        id="pwrboozt",
        make=PwrbooztReassembler,
        frames=test_pwrboozt_frames.FRAMES,
        valid=checked(pwrboozt.check_frame),
        decode=pwrboozt_decode,
        garbage=ANY_GARBAGE.filter(lambda garbage: b":" not in garbage),
        junk=test_pwrboozt_frames.GARBAGE,
        foreign=[*test_pwrboozt_frames.FOREIGN.values()],
        header=11,
    ),
    modbus_family(
        "pylontech",
        PylontechReassembler,
        [test_pylontech_frames.MAIN, test_pylontech_frames.SERIAL],
    ),
    Family(
        id="redodo",
        make=RedodoReassembler,
        frames=test_redodo_frames.FRAMES,
        valid=checked(redodo.check_frame),
        junk=test_redodo_frames.GARBAGE,
        foreign=[*test_redodo_frames.FOREIGN.values()],
        header=7,
    ),
    replace(
        modbus_family("renogy", RenogyReassembler, test_renogy_frames.good_frames()),
        header=2,
    ),
    Family(
        id="roypow",
        make=RoyPowReassembler,
        frames=test_roypow_frames.FRAMES,
        valid=checked(roypow.check_frame),
        random=Fuzz(size=200),
        junk=test_roypow_frames.GARBAGE,
        foreign=[*test_roypow_frames.foreign_frames().values()],
        header=3,
    ),
    Family(
        id="seplos_v2_ble",
        make=SeplosV2BleReassembler,
        frames=SEPLOS_V2_BLE,
        valid=seplos_v2_ble_valid,
        random=LIGHT_RANDOM,
        mutated=LIGHT,
        survives=LIGHT,
        header=6,
    ),
    Family(
        id="saihang",
        make=SaihangReassembler,
        frames=test_saihang_frames.FRAMES,
        valid=checked(saihang.check_frame),
        decode=saihang_decode,
        notifications=(20, 151),
        junk=test_saihang_frames.GARBAGE,
        foreign=[*test_saihang_frames.FOREIGN.values()],
        header=5,
    ),
    Family(
        id="superb",
        make=SuperbReassembler,
        frames=test_superb_frames.FRAMES,
        valid=checked(superb.decode_status),
        # No checksum: zeros glued to a frame's head can pose as a frame.
        garbage=st.sampled_from([b"", b"\x00", b"\xff\xfe", b"\x01\x02\x03"]),
        junk=test_superb_frames.GARBAGE,
        foreign=[*test_superb_frames.FOREIGN.values()],
        # No checksum: bytes that are no frame are skipped without a word.
        header=None,
    ),
    Family(
        id="tdt",
        make=TdtReassembler,
        frames=test_tdt_frames.FRAMES,
        valid=checked(tdt.check_frame),
        decode=tdt_decode,
        random=Fuzz(examples=300, size=200),
        mutated=LIGHT,
        survives=LIGHT,
        header=7,
    ),
    Family(
        id="tianpwr",
        make=TianpwrReassembler,
        frames=test_tianpwr_frames.FRAMES,
        valid=checked(tianpwr.check_frame),
        # No checksum: garbage glued to a frame's head can pose as a frame.
        garbage=st.sampled_from([b"", b"\x00", b"\x55", b"\x55\x14", b"\x01\x02"]),
        junk=test_tianpwr_frames.GARBAGE,
        foreign=[*test_tianpwr_frames.FOREIGN.values()],
        header=3,
    ),
    Family(
        id="topband",
        make=TopbandReassembler,
        frames=test_topband_frames.FRAMES,
        valid=checked(topband.decode_status),
        random=Fuzz(size=400),
        mutated=LIGHT,
        survives=LIGHT,
        # The next frame's head ends a truncated one, no error said.
        header=None,
    ),
    # The C4S100's whole table is among the frames: the same reassembler.
    replace(
        modbus_family("vatrer", VatrerReassembler, test_vatrer_frames.FRAMES),
        junk=test_vatrer_frames.GARBAGE,
        foreign=[*test_vatrer_frames.FOREIGN.values()],
    ),
]


def over(families: list[Family]) -> pytest.MarkDecorator:
    """Parametrize a test over ``families``, named by their ids."""
    return pytest.mark.parametrize(
        "family", families, ids=[family.id for family in families]
    )


each_family = over(FAMILIES)


def poses(family: Family, candidate: bytes) -> bool:
    """Whether ``candidate`` passes the family's check (glued bytes posing)."""
    try:
        return family.valid(candidate)
    except ProtocolError:
        return False


def held(family: Family, truncated: bytes, after: bytes) -> bool:
    """Whether ``truncated`` waits for more bytes than ``after`` brings, holding it."""
    if family.holds is None or not family.holds(after):
        return False
    stream = bytearray(truncated + after)
    length = family.make().rules.length(stream, 0)
    return length is not None and length > len(stream)


def assert_only_valid(family: Family, feed: Feed) -> None:
    """Only valid frames that the decoders take, only protocol errors."""
    frames, errors = feed
    assert all(family.valid(frame) for frame in frames)
    assert all(isinstance(error, ProtocolError) for error in errors)
    if family.decode is not None:
        for frame in frames:
            family.decode(frame)


@each_family
def test_random_bytes_never_raise(family: Family) -> None:
    @settings(max_examples=family.random.examples, deadline=None)
    @given(st.data(), st.binary(max_size=family.random.size))
    def run(data: st.DataObject, raw: bytes) -> None:
        assert_only_valid(family, feed_chunks(family.make(), data.draw(chunked(raw))))

    run()


@each_family
def test_mutated_frames_never_raise(family: Family) -> None:
    @settings(max_examples=family.mutated.examples, deadline=None)
    @given(
        st.data(),
        mutated_stream(family.frames, family.mutated.size, family.inserts),
    )
    def run(data: st.DataObject, stream: bytes) -> None:
        assert_only_valid(
            family, feed_chunks(family.make(), data.draw(chunked(stream)))
        )

    run()


@over([family for family in FAMILIES if family.survives])
def test_valid_frames_survive_any_chunking_and_garbage(family: Family) -> None:
    fuzz = family.survives
    assert fuzz is not None

    @settings(max_examples=fuzz.examples, deadline=None)
    @given(
        st.data(),
        st.lists(st.sampled_from(family.frames), min_size=1, max_size=fuzz.size),
        family.garbage,
    )
    def run(data: st.DataObject, frames: list[bytes], garbage: bytes) -> None:
        stream = garbage + garbage.join(frames) + garbage
        got, _errors = feed_chunks(family.make(), data.draw(chunked(stream)))
        assert got == frames

    run()


def notifications(stream: bytes, size: int, first: int) -> list[bytes]:
    """``stream`` cut into ``size`` bytes, after a first part of ``first``."""
    rest = range(first, len(stream), size)
    return [stream[:first], *(stream[i : i + size] for i in rest)]


@each_family
def test_split_at_every_boundary(family: Family) -> None:
    for frame in family.frames:
        for cut in range(1, len(frame)):
            chunks = [frame[:cut], frame[cut:]]
            assert feed_chunks(family.make(), chunks) == ([frame], []), cut
        one_by_one = [bytes((byte,)) for byte in frame]
        assert feed_chunks(family.make(), one_by_one) == ([frame], [])


@each_family
def test_glued_frames_in_any_notification(family: Family) -> None:
    """Every two frames glued, cut in notifications at any alignment."""
    glued = [*family.frames, family.frames[0]]
    stream = b"".join(glued)
    assert feed_chunks(family.make(), [stream]) == (glued, [])
    for size in family.notifications:
        chunks = notifications(stream, size, size)
        assert feed_chunks(family.make(), chunks) == (glued, []), size
        for first, second in itertools.product(family.frames, repeat=2):
            for start in range(1, size + 1, max(1, size // 20)):
                chunks = notifications(first + second, size, start)
                found = feed_chunks(family.make(), chunks)
                assert found == ([first, second], []), (size, start)


@over([family for family in FAMILIES if family.junk])
def test_junk_before_and_between_frames(family: Family) -> None:
    for junk in family.junk:
        for first, second in itertools.product(family.frames, repeat=2):
            if any(held(family, junk, frame + junk) for frame in (first, second)):
                continue
            stream = junk + first + junk + second + junk
            assert feed_chunks(family.make(), [stream])[0] == [first, second], junk
            chunks = notifications(stream, 20, 20)
            assert feed_chunks(family.make(), chunks)[0] == [first, second], junk


@each_family
def test_a_truncated_frame_never_hides_the_next(family: Family) -> None:
    """Every cut of every frame, then every frame, whole or in two chunks."""
    for frame in family.frames:
        for after in family.frames:
            for cut in range(1, len(frame)):
                if held(family, frame[:cut], after):
                    continue
                if poses(family, frame[:cut] + after[: len(frame) - cut]):
                    continue
                glued = feed_chunks(family.make(), [frame[:cut] + after])[0]
                assert glued == [after], cut
                found, errors = feed_chunks(family.make(), [frame[:cut], after])
                assert found == [after], cut
                if family.header is not None and cut >= family.header:
                    assert errors, cut
                split = cut % (len(after) - 1) + 1
                chunks = [frame[:cut], after[:split], after[split:]]
                assert feed_chunks(family.make(), chunks)[0] == [after], cut


@each_family
def test_an_incomplete_frame_waits_and_reset_drops_it(family: Family) -> None:
    every = b"".join(family.frames)
    for frame in family.frames:
        for cut in range(1, len(frame)):
            reassembler = family.make()
            assert reassembler.feed(frame[:cut]) == ([], []), cut
            reassembler.reset()
            assert reassembler.feed(frame[cut:]) == ([], []), cut
            assert reassembler.feed(every) == (list(family.frames), []), cut


@over([family for family in FAMILIES if family.foreign])
def test_foreign_frames_yield_nothing(family: Family) -> None:
    for foreign in family.foreign:
        assert feed_chunks(family.make(), [foreign])[0] == [], foreign.hex()
        for frame in family.frames:
            found = feed_chunks(family.make(), [foreign + frame])[0]
            assert found == [frame], foreign.hex()
