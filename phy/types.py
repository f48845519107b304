"""Small shared types of the radio layer: PHYs and the random-stream protocol."""

from __future__ import annotations

import enum
from typing import Protocol, Sequence, TypeVar

T = TypeVar("T")


class Phy(enum.IntEnum):
    """A BLE physical layer. Values follow the HCI PHY numbering (Vol 4 Part E 7.8.47)."""

    LE_1M = 1
    LE_2M = 2
    LE_CODED_S8 = 3
    LE_CODED_S2 = 4

    @property
    def is_coded(self) -> bool:
        return self in (Phy.LE_CODED_S8, Phy.LE_CODED_S2)


class Rng(Protocol):
    """The part of :class:`random.Random` protocol code may use.

    Protocol layers never import :mod:`random`; the simulation driver hands each
    component its own seeded stream (``emu.kernel.SeedTree``) satisfying this protocol.
    """

    def random(self) -> float: ...

    def randrange(self, start: int, stop: int | None = ..., step: int = ...) -> int: ...

    def randint(self, a: int, b: int) -> int: ...

    def getrandbits(self, k: int) -> int: ...

    def gauss(self, mu: float = ..., sigma: float = ...) -> float: ...

    def choice(self, seq: Sequence[T]) -> T: ...
