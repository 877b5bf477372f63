"""Type stubs of the native engine module (see ``stakestack`` for the documented API)."""

__version__: str

def run(text: str, file: str | None = None, seed: int | None = None, paths: int | None = None,
        path: int | None = None, overrides: list[tuple[str, str]] = ..., full_check_every: int = 30,
        paranoid: bool = False) -> tuple[str, list[str], int, bytes, bytes, bytes, list[str], list[bytes]]:
    """Runs a scenario: (summary JSON, metric columns, rows, path/step/t int64 LE bytes, dates, float64 LE bytes per column)."""

def check(text: str, file: str | None = None, overrides: list[tuple[str, str]] = ...) -> str:
    """Validates a scenario; returns its one-line description."""

def calc(name: str, args_json: str) -> str:
    """Evaluates one calc request; returns the answer's JSON object."""

def calc_functions() -> list[tuple[str, str]]:
    """Every calc function: (name, signature)."""

def sweep_check(text: str, keys: list[str], points: list[tuple[int, list[str]]], file: str | None = None,
                seed: int | None = None, paths: int | None = None) -> int:
    """Builds every point of a sweep; returns their number."""

def sweep(text: str, keys: list[str], points: list[tuple[int, list[str]]], file: str | None = None,
          seed: int | None = None, paths: int | None = None) -> list[str]:
    """Runs the given points; one JSON row per point."""
