"""Propagation (path loss) models, chosen by name.

Theory of operation
-------------------
A channel model answers one question: how many dB are lost between two antennas
``distance_m`` apart. It is a small object with one method,
``path_loss_db(distance_m, pair_seed) -> float``. ``pair_seed`` is an integer the medium
derives from the scenario seed and the *unordered* pair of radios, so a model that adds a
random but fixed per-link offset (shadowing) draws it deterministically from that seed:
the same link gets the same offset in both directions and on every run, and no global
random generator is involved (this module is sans-IO).

Models are registered by name in :data:`CHANNEL_MODELS` and built from scenario data with
:func:`make_channel_model` (``medium: {model: log_distance, path_loss_exponent: 2.5}``);
unknown names or parameters are refused with a :class:`ChannelModelError` listing what is
accepted. Built-in models:

* ``log_distance`` (the default) — PL(d) = PL0 + 10·n·log10(max(d, d0)/d0) + X, X a
  seeded Gaussian per link with standard deviation ``shadowing_sigma_db``.
* ``free_space`` — Friis: 20·log10(4π·d·f/c), d clamped to ``min_distance_m``.
* ``fixed`` — a constant loss whatever the distance (for tests and cabled set-ups).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable, Protocol, runtime_checkable

_MASK64 = (1 << 64) - 1
_SPEED_OF_LIGHT_M_S = 299_792_458.0


class ChannelModelError(ValueError):
    """A channel model name or parameter is unknown or out of range (caller misuse)."""


@runtime_checkable
class ChannelModel(Protocol):
    """A path-loss model: the interface every registered model implements."""

    def path_loss_db(self, distance_m: float, pair_seed: int) -> float:
        """Loss in dB between two antennas ``distance_m`` apart, for the link ``pair_seed``."""
        ...


def splitmix64(x: int) -> int:
    """One step of the SplitMix64 mixer: a well-spread 64-bit hash of ``x``."""
    z = (x + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def mix_seed(*values: int) -> int:
    """Combine integers (any sign) into one 64-bit seed, order-sensitively."""
    h = 0x243F6A8885A308D3
    for v in values:
        h = splitmix64(h ^ (v & _MASK64))
    return h


def standard_normal(seed: int) -> float:
    """A standard-normal value determined by ``seed`` alone (Box–Muller on SplitMix64)."""
    a = splitmix64(seed & _MASK64)
    b = splitmix64(a)
    u1 = ((a >> 11) + 1) * (1.0 / (1 << 53))  # (0, 1]
    u2 = (b >> 11) * (1.0 / (1 << 53))  # [0, 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def _number(model: str, name: str, value: object, *, minimum: float | None = None,
            strictly_positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ChannelModelError(f"{model}: {name} must be a finite number, got {value!r}")
    v = float(value)
    if strictly_positive and v <= 0:
        raise ChannelModelError(f"{model}: {name} must be > 0, got {value!r}")
    if minimum is not None and v < minimum:
        raise ChannelModelError(f"{model}: {name} must be >= {minimum}, got {value!r}")
    return v


@dataclass(frozen=True, slots=True)
class LogDistanceModel:
    """Log-distance path loss with optional log-normal shadowing (``log_distance``).

    PL(d) = ``reference_loss_db`` + 10·``path_loss_exponent``·log10(max(d, d0)/d0) + X.

    Parameters:
        path_loss_exponent: n; 2.0 is free space, 2.7–3.5 typical indoors with clutter,
            4–6 through walls and floors. Default 2.0.
        reference_loss_db: PL0, the loss at the reference distance. Default 40.05 dB,
            free-space loss at 1 m for 2.4 GHz (Friis; 40.2 dB at 2.44 GHz).
        reference_distance_m: d0 in metres; distances below it are clamped to it.
            Default 1.0.
        shadowing_sigma_db: standard deviation of X, a Gaussian offset fixed per link
            (same for both directions, drawn from ``pair_seed``). Default 0 (off).
    """

    path_loss_exponent: float = 2.0
    reference_loss_db: float = 40.05
    reference_distance_m: float = 1.0
    shadowing_sigma_db: float = 0.0

    def __post_init__(self) -> None:
        name = "log_distance"
        object.__setattr__(self, "path_loss_exponent",
                           _number(name, "path_loss_exponent", self.path_loss_exponent, minimum=0.0))
        object.__setattr__(self, "reference_loss_db",
                           _number(name, "reference_loss_db", self.reference_loss_db))
        object.__setattr__(self, "reference_distance_m",
                           _number(name, "reference_distance_m", self.reference_distance_m,
                                   strictly_positive=True))
        object.__setattr__(self, "shadowing_sigma_db",
                           _number(name, "shadowing_sigma_db", self.shadowing_sigma_db, minimum=0.0))

    def path_loss_db(self, distance_m: float, pair_seed: int) -> float:
        """PL(d) in dB; see the class docstring."""
        d0 = self.reference_distance_m
        d = distance_m if distance_m > d0 else d0
        loss = self.reference_loss_db + 10.0 * self.path_loss_exponent * math.log10(d / d0)
        if self.shadowing_sigma_db:
            loss += self.shadowing_sigma_db * standard_normal(pair_seed)
        return loss


@dataclass(frozen=True, slots=True)
class FreeSpaceModel:
    """Friis free-space loss, 20·log10(4π·d·f/c), no shadowing (``free_space``).

    Parameters:
        frequency_mhz: carrier frequency used for every channel. Default 2400.0, which
            gives 40.05 dB at 1 m (the ``log_distance`` default reference loss).
        min_distance_m: distances below this are clamped to it (the far-field formula
            is meaningless at zero distance). Default 1.0.
    """

    frequency_mhz: float = 2400.0
    min_distance_m: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "frequency_mhz",
                           _number("free_space", "frequency_mhz", self.frequency_mhz,
                                   strictly_positive=True))
        object.__setattr__(self, "min_distance_m",
                           _number("free_space", "min_distance_m", self.min_distance_m,
                                   strictly_positive=True))

    def path_loss_db(self, distance_m: float, pair_seed: int) -> float:
        """Friis loss in dB at ``max(distance_m, min_distance_m)``."""
        d = distance_m if distance_m > self.min_distance_m else self.min_distance_m
        return 20.0 * math.log10(4.0 * math.pi * d * self.frequency_mhz * 1e6 / _SPEED_OF_LIGHT_M_S)


@dataclass(frozen=True, slots=True)
class FixedModel:
    """The same loss on every link whatever the distance (``fixed``).

    Parameters:
        loss_db: the loss in dB. Default 60.0.
    """

    loss_db: float = 60.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "loss_db", _number("fixed", "loss_db", self.loss_db))

    def path_loss_db(self, distance_m: float, pair_seed: int) -> float:
        """Always ``loss_db``."""
        return self.loss_db


#: Name -> factory. Factories take keyword parameters only.
CHANNEL_MODELS: dict[str, Callable[..., ChannelModel]] = {
    "log_distance": LogDistanceModel,
    "free_space": FreeSpaceModel,
    "fixed": FixedModel,
}

#: The model a scenario gets when it names none.
DEFAULT_CHANNEL_MODEL = "log_distance"


def register_channel_model(name: str, factory: Callable[..., ChannelModel]) -> None:
    """Add a model to the registry under ``name`` (refuses to replace an existing one)."""
    if name in CHANNEL_MODELS:
        raise ChannelModelError(f"channel model {name!r} is already registered")
    CHANNEL_MODELS[name] = factory


def _accepted_params(factory: Callable[..., ChannelModel]) -> list[str] | None:
    if isinstance(factory, type) and dataclasses.is_dataclass(factory):
        return [f.name for f in dataclasses.fields(factory)]
    return None


def make_channel_model(name: str = DEFAULT_CHANNEL_MODEL, **params: Any) -> ChannelModel:
    """Build the channel model registered as ``name`` with ``params``.

    Raises :class:`ChannelModelError` (a ValueError) naming the known models for an
    unknown name, and the accepted parameters for an unknown or ill-typed parameter.
    """
    factory = CHANNEL_MODELS.get(name)
    if factory is None:
        known = ", ".join(sorted(CHANNEL_MODELS))
        raise ChannelModelError(f"unknown channel model {name!r}; known models: {known}")
    accepted = _accepted_params(factory)
    if accepted is not None:
        unknown = sorted(set(params) - set(accepted))
        if unknown:
            raise ChannelModelError(
                f"channel model {name!r} has no parameter(s) {', '.join(unknown)}; "
                f"accepted: {', '.join(accepted) or '(none)'}")
    try:
        return factory(**params)
    except ChannelModelError:
        raise
    except TypeError as exc:
        raise ChannelModelError(f"channel model {name!r}: {exc}") from None
