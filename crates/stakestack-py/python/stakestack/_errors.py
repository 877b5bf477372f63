"""The exceptions of stakestack: one base class, a subclass per kind of failure.

Every exception carries ``code`` and ``message``. ``code`` is the command line's exit code for
scenario and run failures (1 bad input, 2 the run stopped, 3 an invariant broke) and the stable
rejection code for ``calc`` (9100 bad request, 9101 unknown function, 9102 bad argument, else the
protocol's own code, e.g. 103 for ``ln(0)``).
"""

from __future__ import annotations


class StakestackError(Exception):
    """Base class of every stakestack error."""

    def __init__(self, message: str = "", code: int = 1, **fields: object) -> None:
        super().__init__(message)
        self.code: int = int(code)
        self.message: str = message
        for k, v in fields.items():
            setattr(self, k, v)

    def __str__(self) -> str:
        return self.message


class ScenarioError(StakestackError):
    """The scenario (or an override, or a sweep point) is invalid: ``code`` 1.

    ``file`` and ``line`` say where (``line`` is 1-based, ``None`` when unknown), ``key`` names the
    dotted key (``lst.stETH.fee``, ``actions[2].amount``), ``column`` the column when known.
    """

    file: str | None = None
    line: int | None = None
    key: str | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = ":".join(str(x) for x in (self.file, self.line) if x is not None)
        s = f"{where}: {self.message}" if where else self.message
        return f"{s} (key: {self.key})" if self.key else s


class GridError(ScenarioError):
    """A grid or override key cannot be applied (no such key, a value of the wrong type)."""


class RunError(StakestackError):
    """A path could not finish: time could not advance (``code`` 2).

    ``path`` is its index, ``seed`` its seed, ``scenario_seed`` the seed that with ``path``
    reproduces it alone (``run(..., seed=scenario_seed, path=path)``); ``point`` the sweep point.
    """

    path: int | None = None
    seed: int | None = None
    scenario_seed: int | None = None
    point: int | None = None


class InvariantError(RunError):
    """A path broke an invariant (``code`` 3): a bug in the engine or a model."""


class CalcError(StakestackError):
    """A ``calc`` request was refused; ``code`` is the stable rejection code, ``function`` its name."""

    function: str | None = None
