"""Runs both sides of the engine benchmarks in one sitting and prints the table of the
README's performance section.

    bash benches/compare.sh              # builds, runs both, prints the table
    python3 benches/compare.py --quick   # shorter criterion runs
    bash benches/compare.sh --quick --rounds 3   # both sides three times, alternated

Ratio = PyTorch time / lamppost time (above 1: lamppost is faster). GFLOP/s come from the
operation counts of benches/pytorch_bench.py (the same shapes on both sides); "of peak" is
the share of the machine's peak, measured as the best GEMM (128, 512 or 1024 square) of either library.

With `--rounds N` the two sides run one after the other N times (lamppost, PyTorch,
lamppost, …). Each time column is then the median over the rounds, the ratio is that of
the two medians, and a last column gives the lowest and highest of the N ratios of the
rounds (each round's lamppost time against the PyTorch time that followed it). On a
shared machine whose speed drifts by tens of percent within minutes (benches/README.md),
that range is the honest error bar of a single sitting.
"""
import json
import re
import statistics
import subprocess
import sys


def count(name, default):
    """The whole number after `name` on the command line, at least 1, else `default`."""
    if name not in sys.argv:
        return default
    at = sys.argv.index(name) + 1
    value = sys.argv[at] if at < len(sys.argv) else ""
    if not value.isdigit() or int(value) < 1:
        sys.exit(f"compare.py: {name} needs a whole number of at least 1, got {value!r}")
    return int(value)


args = sys.argv[1:]
unknown = [a for i, a in enumerate(args)
           if a not in ("--quick", "--rounds", "--check") and (i == 0 or args[i - 1] != "--rounds")]
if unknown:
    sys.exit(f"compare.py: unknown option {unknown[0]!r} (options: --quick, --rounds N)")
quick = "--quick" in sys.argv
rounds = count("--rounds", 1)
if "--check" in sys.argv:  # compare.sh: the options are valid, before it builds
    sys.exit(0)
times = ["--warm-up-time", "1", "--measurement-time", "2" if quick else "4"]
cmd = ["cargo", "bench", "--bench", "engine", "--", "--output-format", "bencher", *times]
torch_cmd = [sys.executable, "benches/pytorch_bench.py", "--json"]


def run_ours():
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    ours = {}
    for line in out.splitlines():
        m = re.match(r"test (\S+) +\.\.\. bench: +([\d,]+) ns/iter", line)
        if m:
            ours[m.group(1)] = int(m.group(2).replace(",", "")) * 1e-9
    return ours


def run_theirs():
    return json.loads(subprocess.run(torch_cmd, check=True, capture_output=True, text=True).stdout)


ours_runs, theirs_runs = [], []
for r in range(rounds):
    print(f"round {r + 1} of {rounds}: {' '.join(cmd)}", file=sys.stderr)
    ours_runs.append(run_ours())
    print(f"round {r + 1} of {rounds}: {' '.join(torch_cmd[1:])}", file=sys.stderr)
    theirs_runs.append(run_theirs())

theirs = theirs_runs[0]
benches = theirs["benches"]
their_times = {name: statistics.median(t["benches"][name]["seconds"] for t in theirs_runs)
               for name in benches}
ours = {name: statistics.median(o[name] for o in ours_runs)
        for name in benches if all(name in o for o in ours_runs)}
ranges = {name: [t["benches"][name]["seconds"] / o[name] for o, t in zip(ours_runs, theirs_runs)]
          for name in ours}
peak = max(b["flops"] / t for name, b in benches.items() if name.startswith("gemm/")
           for t in (their_times[name], ours.get(name, float("inf"))))
sitting = "one run each" if rounds == 1 else f"medians of {rounds} alternated rounds"
print(f"PyTorch {theirs['torch']}, {theirs['threads']} threads; {sitting}; peak "
      f"{peak / 1e9:.1f} GFLOP/s (best GEMM of either library, any size)\n")
spread = rounds > 1
head = "| benchmark | lamppost ms | PyTorch ms | ratio | lamppost GFLOP/s (of peak) | PyTorch GFLOP/s (of peak) |"
print(head + (" ratio per round, low–high |" if spread else ""))
print("| --- | ---: | ---: | ---: | ---: | ---: |" + (" ---: |" if spread else ""))
for name, b in benches.items():
    tp = their_times[name]
    if name not in ours:
        print(f"| {name} | missing | {tp * 1e3:.2f} | | | |" + (" |" if spread else ""))
        continue
    t, f = ours[name], b["flops"]
    row = (f"| {name} | {t * 1e3:.2f} | {tp * 1e3:.2f} | {tp / t:.2f}× | "
           f"{f / t / 1e9:.1f} ({f / t / peak:.0%}) | {f / tp / 1e9:.1f} ({f / tp / peak:.0%}) |")
    if spread:
        row += f" {min(ranges[name]):.2f}–{max(ranges[name]):.2f}× |"
    print(row)
