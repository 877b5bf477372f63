"""A notebook-style tour of the Python package: a fan chart of a multi-path run and a sweep heat
map, drawn with matplotlib into PNG files.

    python examples/python_fan_and_heatmap.py --out out/examples
"""

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import stakestack  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
DRIFT = ROOT / "scenarios" / "trivial-drift.toml"

ap = argparse.ArgumentParser()
ap.add_argument("--out", default="out/examples")
out = pathlib.Path(ap.parse_args().out)
out.mkdir(parents=True, exist_ok=True)

# %% 1. Fifty paths of ETH/USD on a GBM (a year of daily steps), one row per path and step.
r = stakestack.run(DRIFT, paths=50, overrides={"clock.horizon": "365d"})
df = r.steps
band = df.groupby("date")["eth_usd.price"].quantile([0.05, 0.5, 0.95]).unstack()
dates = band.index.astype("datetime64[ns]")
fig, ax = plt.subplots(figsize=(9, 4.5))
ax.fill_between(dates, band[0.05], band[0.95], alpha=0.3, label="p5–p95 across paths")
ax.plot(dates, band[0.5], lw=2, label="median")
ax.set_title(f"ETH/USD, {r.paths} paths (trivial-drift: GBM, 5 % drift, 60 % vol)")
ax.set_xlabel("date")
ax.set_ylabel("ETH/USD (USD)")
ax.legend(loc="upper left")
fig.autofmt_xdate()
fig.tight_layout()
fig.savefig(out / "fan.png", dpi=110)

# %% 2. A sweep: drift × volatility, 20 paths a point, the median year-end price.
drifts, vols = ["0%", "5%", "10%"], ["20%", "40%", "60%", "80%"]
sw = stakestack.sweep(DRIFT, grid={"market.ETH_USD.drift": drifts, "market.ETH_USD.vol": vols}, paths=20)
col = "markets.eth_usd.p50"
grid = sw.pivot(index="market.ETH_USD.drift", columns="market.ETH_USD.vol", values=col).loc[drifts, vols]
fig, ax = plt.subplots(figsize=(7, 4.5))
im = ax.imshow(grid.values, cmap="viridis", aspect="auto")
ax.set_xticks(range(len(vols)), vols)
ax.set_yticks(range(len(drifts)), drifts)
ax.set_xlabel("volatility (annual, %)")
ax.set_ylabel("drift (annual, %)")
ax.set_title("Median ETH/USD after 1,000 days across 20 paths (USD)")
for i in range(len(drifts)):
    for j in range(len(vols)):
        ax.text(j, i, f"{grid.values[i, j]:,.0f}", ha="center", va="center", color="w")
fig.colorbar(im, ax=ax, label="ETH/USD (USD)")
fig.tight_layout()
fig.savefig(out / "sweep_heatmap.png", dpi=110)
print(f"wrote {out / 'fan.png'} and {out / 'sweep_heatmap.png'}")
