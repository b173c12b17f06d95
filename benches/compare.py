"""Runs both sides of the engine benchmarks in one sitting and prints the table of the
README's performance section.

    bash benches/compare.sh            # builds, runs both, prints the table
    python3 benches/compare.py --quick # shorter criterion runs

Ratio = PyTorch time / lamppost time (above 1: lamppost is faster). GFLOP/s come from the
operation counts of benches/pytorch_bench.py (the same shapes on both sides); "of peak" is
the share of the machine's peak, measured as the best GEMM (128, 512 or 1024 square) of either library.
"""
import json
import re
import subprocess
import sys

quick = "--quick" in sys.argv
times = ["--warm-up-time", "1", "--measurement-time", "2" if quick else "4"]
cmd = ["cargo", "bench", "--bench", "engine", "--", "--output-format", "bencher", *times]
print("running:", " ".join(cmd), file=sys.stderr)
out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
ours = {}
for line in out.splitlines():
    m = re.match(r"test (\S+) +\.\.\. bench: +([\d,]+) ns/iter", line)
    if m:
        ours[m.group(1)] = int(m.group(2).replace(",", "")) * 1e-9
print("running: python3 benches/pytorch_bench.py --json", file=sys.stderr)
theirs = json.loads(subprocess.run([sys.executable, "benches/pytorch_bench.py", "--json"],
                                   check=True, capture_output=True, text=True).stdout)
benches = theirs["benches"]
peak = max(b["flops"] / t for name, b in benches.items() if name.startswith("gemm/")
           for t in (b["seconds"], ours.get(name, float("inf"))))
print(f"PyTorch {theirs['torch']}, {theirs['threads']} threads; peak {peak / 1e9:.1f} GFLOP/s "
      "(best GEMM of either library, any size)\n")
print("| benchmark | lamppost ms | PyTorch ms | ratio | lamppost GFLOP/s (of peak) | PyTorch GFLOP/s (of peak) |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for name, b in benches.items():
    if name not in ours:
        print(f"| {name} | missing | {b['seconds'] * 1e3:.2f} | | | |")
        continue
    t, tp, f = ours[name], b["seconds"], b["flops"]
    print(f"| {name} | {t * 1e3:.2f} | {tp * 1e3:.2f} | {tp / t:.2f}× | "
          f"{f / t / 1e9:.1f} ({f / t / peak:.0%}) | {f / tp / 1e9:.1f} ({f / tp / peak:.0%}) |")
