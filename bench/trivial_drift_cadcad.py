"""The trivial-drift model in cadCAD and radCAD, for comparison with `stakestack bench`.

One state variable, two policies — a drift and a Gaussian noise term, the same GBM step as
`scenarios/trivial-drift.toml` (ln S' = ln S + (mu - sigma^2/2) dt + sigma sqrt(dt) Z) —
1,000 timesteps x 100 runs. Prints each framework's wall time and steps per second.

    python3 -m venv /tmp/cad && /tmp/cad/bin/pip install cadCAD radcad
    /tmp/cad/bin/python bench/trivial_drift_cadcad.py

Not part of the test suite (it needs both frameworks installed).
"""

import math
import random
import time

STEPS, RUNS = 1000, 100
MU, SIGMA, DT = 0.05, 0.60, 1.0 / 365.0


def p_drift(params, substep, history, state):
    return {"dlog": (MU - SIGMA * SIGMA / 2.0) * DT}


def p_noise(params, substep, history, state):
    return {"dlog": SIGMA * math.sqrt(DT) * random.gauss(0.0, 1.0)}


def s_price(params, substep, history, state, signal):
    return "price", state["price"] * math.exp(signal["dlog"])


BLOCKS = [{"policies": {"drift": p_drift, "noise": p_noise}, "variables": {"price": s_price}}]
INITIAL = {"price": 3300.0}


def bench_cadcad():
    from cadCAD.configuration import Experiment
    from cadCAD.configuration.utils import config_sim
    from cadCAD.engine import ExecutionContext, ExecutionMode, Executor

    exp = Experiment()
    exp.append_model(
        initial_state=INITIAL,
        partial_state_update_blocks=BLOCKS,
        sim_configs=config_sim({"N": RUNS, "T": range(STEPS)}),
    )
    ctx = ExecutionContext(context=ExecutionMode().local_mode)
    t0 = time.perf_counter()
    Executor(exec_context=ctx, configs=exp.configs).execute()
    return time.perf_counter() - t0


def bench_radcad():
    from radcad import Engine, Experiment, Model, Simulation

    model = Model(initial_state=INITIAL, state_update_blocks=BLOCKS, params={})
    sim = Simulation(model=model, timesteps=STEPS, runs=RUNS)
    exp = Experiment([sim])
    exp.engine = Engine()
    t0 = time.perf_counter()
    exp.run()
    return time.perf_counter() - t0


if __name__ == "__main__":
    for name, f in [("cadCAD", bench_cadcad), ("radCAD", bench_radcad)]:
        try:
            s = f()
        except Exception as e:  # a framework missing or failing is reported, not fatal
            print(f"{name}: not run ({e})")
            continue
        print(f"{name}: {STEPS} steps x {RUNS} runs in {s:.2f} s, {STEPS * RUNS / s:,.0f} steps/s")
