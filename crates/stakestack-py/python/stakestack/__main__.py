"""``python -m stakestack``: run a scenario or a sweep from the shell, locally or on Ray.

    python -m stakestack run scenarios/eth-staking-basics.toml --paths 10
    python -m stakestack sweep scenarios/lst-markets.toml --set 'events[0].fraction=5%,15%' \\
        --paths 4 --ray auto --csv sweep.csv
"""

import argparse
import json
import sys

import stakestack


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m stakestack")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a scenario; print its summary as JSON")
    r.add_argument("scenario")
    r.add_argument("--seed", type=int)
    r.add_argument("--paths", type=int)
    s = sub.add_parser("sweep", help="run a grid of scenario values (same keys as `stakestack sweep --set`)")
    s.add_argument("scenario")
    s.add_argument("--set", action="append", required=True, metavar="KEY=V1,V2,...")
    s.add_argument("--paths", type=int)
    s.add_argument("--seed", type=int)
    s.add_argument("--ray", metavar="ADDRESS", help="run on the Ray cluster at ADDRESS ('auto', 'ray://host:10001', or 'local')")
    s.add_argument("--chunk", type=int, default=1, help="points per Ray task")
    s.add_argument("--csv", help="write the DataFrame to this CSV file")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "run":
            res = stakestack.run(a.scenario, seed=a.seed, paths=a.paths)
            print(json.dumps(res.summary, indent=2, default=str))
            return 0
        grid = {}
        for item in a.set:
            key, sep, values = item.partition("=")
            if not sep or not key.strip():
                print(f"error: --set `{item}`: expected KEY=V1,V2,…", file=sys.stderr)
                return 1
            grid[key.strip()] = [v.strip() for v in values.split(",")]
        backend = "ray" if a.ray else "local"
        address = None if a.ray in (None, "local") else a.ray
        df = stakestack.sweep(a.scenario, grid=grid, paths=a.paths, seed=a.seed,
                              backend=backend, address=address, chunk=a.chunk)
        if a.csv:
            df.to_csv(a.csv, index=False)
        print(df.to_string(index=False))
        return 0
    except stakestack.StakestackError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.code if e.code in (1, 2, 3) else 1


if __name__ == "__main__":
    sys.exit(main())
