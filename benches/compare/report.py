"""The side-by-side table: printed as it goes, and written to docs/performance.md."""

import os
import platform
import subprocess

# figure key -> (unit, higher is better)
UNITS = {
    "rps": ("req/s", True), "p50_ms": ("p50 ms", False), "p99_ms": ("p99 ms", False),
    "mbps": ("MiB/s", True), "ms": ("ms", False), "ops": ("ops/s", True),
    "mib": ("MiB", False), "start_ms": ("ms", False),
}


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    wrk_version = " ".join(subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[:2])
    return {
        "nproc": os.cpu_count(), "cpu": cpu, "ram": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(), "python": platform.python_version(), "wrk": wrk_version.strip(),
    }


def ratio(lapis, azurite, higher_better):
    if not lapis or not azurite:
        return None
    return lapis / azurite if higher_better else azurite / lapis


def rows(results):
    """(workload, unit, lapis, azurite, speedup) for every figure both servers produced."""
    out = []
    for label, figures in results["Lapis"].items():
        other = results.get("Azurite", {}).get(label, {})
        for key, value in figures.items():
            if key not in UNITS:
                continue
            unit, higher = UNITS[key]
            out.append((label, unit, value, other.get(key), ratio(value, other.get(key), higher)))
    return out


def fmt(v):
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.2f}" if v < 10 else f"{v:.1f}"


TABLE_HEAD = "| Workload | Unit | Lapis | Azurite | Lapis advantage | Target | Met |"


def table_rows(results, targets):
    """The rows of the results table, one line each."""
    lines = []
    for label, unit, lapis, azurite, r in rows(results):
        target = targets.get((label, unit))
        met = "–"
        if target:
            met = "met" if target[1](lapis, azurite, r) else "**not met**"
        lines.append(
            f"| {label} | {unit} | {fmt(lapis)} | {fmt(azurite)} | {fmt(r) + '×' if r else '–'} "
            f"| {target[0] if target else ''} | {met} |"
        )
    return lines


def machine_line(info, notes):
    return (f"Machine: {info['nproc']} cores ({info['cpu']}), {info['ram']} RAM, Linux {info['kernel']}; "
            f"{info['wrk']}, Python {info['python']}, {notes}")


def markdown(results, targets, info, notes):
    lines = [TABLE_HEAD, "|---|---|---:|---:|---:|---|---|"] + table_rows(results, targets)
    header = [machine_line(info, notes), ""]
    return "\n".join(header + lines) + "\n" + floor_markdown(results)


def floor_markdown(results):
    """Lapis at one connection against the floor server measured in the same run."""
    floor, lapis = results.get("floor"), results.get("Lapis", {})
    if not floor:
        return ""
    lines = [
        "",
        "One connection against this machine's floor (`benches/src/bin/floor.rs`: Lapis's tokio and "
        "hyper with nothing on top; its GET answers a fixed 4 KiB body, its PUT appends the 4 KiB "
        "to a file and `fdatasync`s it), the same wrk scripts, measured just before Lapis:",
        "",
        "| Request | Floor req/s | Floor p50 ms | Lapis req/s | Lapis p50 ms | Lapis throughput / floor "
        "| Lapis p50 / floor p50 | Goal | Met |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    goals = {"GET": ("p50 ≤ 1.3× the floor's", 1.3), "PUT": ("p50 ≤ the floor's (HTTP + one sync)", 1.0)}
    for method in ("GET", "PUT"):
        f, l = floor[method], lapis.get(f"blob {method} 4 KiB, 1 conn")
        if not l:
            continue
        latency = l["p50_ms"] / f["p50_ms"]
        goal, bound = goals[method]
        lines.append(
            f"| {method} 4 KiB | {fmt(f['rps'])} | {f['p50_ms']:.3f} | {fmt(l['rps'])} | {l['p50_ms']:.3f} "
            f"| {l['rps'] / f['rps']:.0%} | {fmt(latency)}× | {goal} | {'met' if latency <= bound else '**not met**'} |"
        )
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- RESULTS BEGIN -->", "<!-- RESULTS END -->"


def write_results(path, table_md):
    """Replaces the text between the RESULTS markers of docs/performance.md, keeping the prose."""
    begin, end = BEGIN, END
    text = open(path).read() if os.path.exists(path) else f"# Performance\n\n{begin}\n{end}\n"
    if begin not in text or end not in text:
        text += f"\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w") as f:
        f.write(f"{head}{begin}\n{table_md}{end}{tail}")


def merge_results(path, new_rows, note_key, note):
    """Puts the rows of a run of some workloads only (`--workloads`) into the results table of
    docs/performance.md: they replace the rows of the same workloads, or, new, go before the
    "RSS after workloads" row. `note` ("<note_key>: ...", what was run when) goes under the
    machine line, in place of the note of an earlier such run; the rest stays as it was."""
    text = open(path).read()
    if BEGIN not in text or END not in text or TABLE_HEAD not in text:
        raise RuntimeError(f"{path} has no results table to merge into: run every workload once")
    head, rest = text.split(BEGIN, 1)
    block, tail = rest.split(END, 1)
    lines = block.strip("\n").split("\n")

    def label(line):
        return line.split("|")[1].strip()

    labels = {label(row) for row in new_rows}
    start = lines.index(TABLE_HEAD) + 2  # past the head and the |---| line
    stop = start
    while stop < len(lines) and lines[stop].startswith("|"):
        stop += 1
    table = lines[start:stop]
    kept = [row for row in table if label(row) not in labels]
    at = next((i for i, row in enumerate(table) if label(row) in labels), None)
    if at is None:
        at = next((i for i, row in enumerate(kept) if label(row) == "RSS after workloads"), len(kept))
    else:
        at -= sum(1 for row in table[:at] if label(row) in labels)
    lines[start:stop] = kept[:at] + new_rows + kept[at:]

    # Notes sit between the machine line and the table, each followed by a blank line.
    lines = [line for line in lines if not line.startswith(note_key)]
    while lines[1:3] == ["", ""]:
        del lines[1]
    lines[1:1] = ["", note]
    with open(path, "w") as f:
        f.write(f"{head}{BEGIN}\n" + "\n".join(lines) + f"\n{END}{tail}")
