"""The benchmark's summary of the decode CPU target (issue 19)."""

from __future__ import annotations

from bench.report import decode_target


def _family(ratio: float, gate: float | None = None) -> dict[str, object]:
    ours: dict[str, float] = {"protocol_cpu_us": 10.0}
    if gate is not None:
        ours["gate_cpu_us"] = gate
    return {"cpu_ratio": ratio, "ours": ours}


def test_decode_target_names_the_families_above_it_worst_first() -> None:
    aio = {
        "families": {
            "jbd": _family(0.82, 3.4),
            "ant": _family(0.28, 5.5),
            "jk": _family(2.37, 5.0),
            "gobel": _family(0.5),
        }
    }
    assert decode_target(aio) == (
        "decode CPU: 2 of 4 families at most 0.5x aiobmsble's;"
        " above: jk 2.37, jbd 0.82;"
        " our plausibility gate (not in the ratio) 3.4-5.5 µs per snapshot"
    )


def test_decode_target_met_by_every_family() -> None:
    aio = {"families": {"ant": _family(0.28), "pace": _family(0.24)}}
    assert decode_target(aio) == "decode CPU: 2 of 2 families at most 0.5x aiobmsble's"
