# Draws results/summary.json as one PNG: throughput, main-thread CPU per event, loop delay and e2e latency at 20k/s.
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

s = json.load(open(sys.argv[1]))
order = ["logger", "confluent", "platformatic", "kafkajs-batch", "kafkajs-single", "rust-ceiling"]
label = {"logger": "this package", "confluent": "confluent", "platformatic": "platformatic", "kafkajs-batch": "kafkajs\nbatched", "kafkajs-single": "kafkajs\n1 send/event", "rust-ceiling": "rdkafka\nceiling"}
load = s["load"]

def col(rate, metric, clients, k=1.0):
    xs, meds, lo, hi = [], [], [], []
    for c in clients:
        st = (load.get(c, {}).get(str(rate)) or {}).get(metric)
        if st:
            xs.append(label[c]); meds.append(st["med"] * k); lo.append((st["med"] - st["min"]) * k); hi.append((st["max"] - st["med"]) * k)
    return xs, meds, [lo, hi]

fig, ax = plt.subplots(2, 2, figsize=(13, 8.5))
panels = [
    (ax[0][0], 0, "ackedRate", order, 1e-3, "max throughput to acknowledged (k events/s)", False),
    (ax[0][1], 20000, "netJsCpuNsPerEvent", order[:-1], 1e-3, "JS-thread CPU per event at 20k/s, net of baseline (µs, log)", True),
    (ax[1][0], 20000, "loopDelayMs.p99", ["none"] + order[:-1], 1.0, "event-loop delay p99 at 20k/s (ms, log)", True),
    (ax[1][1], 20000, "latencyMs.p99", order, 1.0, "event → broker ack p99 at 20k/s (ms, log)", True),
]
label["none"] = "no logging"
for a, rate, metric, clients, k, title, logy in panels:
    xs, meds, err = col(rate, metric, clients, k)
    colors = ["#d62728" if x == "this package" else "#7f7f7f" if x in ("rdkafka\nceiling", "no logging") else "#1f77b4" for x in xs]
    a.bar(xs, meds, yerr=err, color=colors, capsize=3)
    a.set_title(title, fontsize=10)
    if logy:
        a.set_yscale("log")
    a.tick_params(axis="x", labelsize=8)
    for i, v in enumerate(meds):
        a.annotate(f"{v:.3g}", (i, v), ha="center", va="bottom", fontsize=8)
ax[0][1].axhline(1.0, ls="--", c="k", lw=0.8); ax[1][1].axhline(50, ls="--", c="k", lw=0.8)
m = s.get("machine", {})
fig.suptitle(f"n8n-kafka-execution-logger vs Node Kafka clients — median with min/max over reps; load before: {m.get('uptimeBefore', '?').split('load average:')[-1].strip()}", fontsize=10)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
print("chart:", sys.argv[2])
