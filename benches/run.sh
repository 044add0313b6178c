#!/usr/bin/env bash
# scalesim's performance benchmarks (release build), each beside its reference point.
# Run from the project root: bash benches/run.sh
# Absolute figures drift on shared machines; the ratio to ../shared/bench/floor.sh, measured in
# the same session, is the figure to quote.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin=target/release/scalesim

echo "== 1. M/M/10 at utilisation 0.85, 10M customers: scalesim vs the bare-loop floor"
floor=$(bash ../shared/bench/floor.sh 8.5 1.0 10 10000000)
ours=$($bin validate mmc --rate 8.5 --servers 10 --service-mean-ms 1000 --customers 10000000 --json)
python3 - "$floor" "$ours" <<'PY'
import json, sys
f, o = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"floor    {f['customers_per_s']:>12,.0f} customers/s")
print(f"scalesim {o['customers_per_second']:>12,.0f} customers/s   ratio {o['customers_per_second']/f['customers_per_s']:.2f}")
PY

echo "== 2. retry storm: simulated requests per wall-clock second, one core per variant"
RAYON_NUM_THREADS=1 $bin run experiments/retry_storm.ron --json --out /tmp/scalesim-bench-rs > /tmp/scalesim-bench-rs.json
python3 - <<'PY'
import json
d = json.load(open("/tmp/scalesim-bench-rs.json"))
req = sum(v["requests"]["issued"] for v in d["variants"].values())
att = sum(v["attempts"] for v in d["variants"].values())
ev = sum(v["events"] for v in d["variants"].values())
wall = sum(v["wall_seconds"] for v in d["variants"].values())
print(f"{req:,} requests ({att:,} attempts, {ev:,} events) in {wall:.2f} s of simulation: "
      f"{req/wall:,.0f} requests/s, {att/wall:,.0f} attempts/s, {ev/wall:,.0f} events/s")
PY

echo "== 3. closed population of 200,000 users (think 10 s) over 10 simulated minutes"
/usr/bin/time -v $bin run benches/closed_200k.ron --json --out /tmp/scalesim-bench-200k > /tmp/scalesim-bench-200k.json 2> /tmp/scalesim-bench-200k.time
python3 - <<'PY'
import json, re
d = json.load(open("/tmp/scalesim-bench-200k.json"))
v = list(d["variants"].values())[0]
t = open("/tmp/scalesim-bench-200k.time").read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", t).group(1)
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
print(f"{v['requests']['issued']:,} requests, {v['events']:,} events; simulation {v['wall_seconds']:.2f} s, "
      f"process wall {wall}, peak memory {rss/1024:.0f} MiB")
PY
