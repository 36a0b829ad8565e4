"""Lapis against Azurite, side by side, on this machine: the same workloads against both, each
figure for both and the ratio, written to docs/performance.md. Run through run.sh."""

import argparse
import ctypes
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GO_DIR = os.path.join(HERE, "go")
sys.path.insert(0, HERE)

import blob_workloads  # noqa: E402
import queue_workloads  # noqa: E402
import wrk  # noqa: E402
import report  # noqa: E402
import servers  # noqa: E402
import table_workloads  # noqa: E402


def tune_client_allocator():
    """Fixes glibc's mmap and trim thresholds in this process, the Python SDK client of every row.

    With the dynamic thresholds, the SDK's parallel download of the 8 MiB chunks of a fast
    server returned its buffers to the kernel and faulted them back in: 345,000 page faults for
    512 MiB against Lapis, 160,000 against Azurite, whose chunks overlap less in time. That made
    the client, not the server, the bound of the row (docs/performance.md). Fixed thresholds give
    the same 160,000-170,000 against both. Only this process: the servers are not affected."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return  # not glibc: nothing to tune
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    libc.mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024)
    libc.mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024)


def at_least(factor):
    return lambda lapis, azurite, r: r is not None and r >= factor


def absolute(check):
    return lambda lapis, azurite, r: check(lapis)


# (workload, unit) -> (what the issue asks, check(lapis, azurite, ratio))
TARGETS = {
    ("blob PUT 4 KiB, 32 conn", "req/s"): ("≥ 10×", at_least(10)),
    ("blob GET 4 KiB, 32 conn", "req/s"): ("≥ 15×", at_least(15)),
    ("blob PUT 4 KiB, 1 conn", "req/s"): ("≥ 8×", at_least(8)),
    ("blob GET 4 KiB, 1 conn", "req/s"): ("≥ 8×", at_least(8)),
    ("512 MiB upload, SDK 8 MiB blocks x4", "MiB/s"): ("≥ 5×", at_least(5)),
    ("512 MiB upload, Go SDK 8 MiB blocks x4", "MiB/s"): ("≥ 5×", at_least(5)),
    ("512 MiB download, curl", "MiB/s"): ("≥ 1 GB/s", absolute(lambda v: v * 1.048576 >= 1000)),
    ("list 10,000 blobs flat (2 pages)", "ms"): ("≥ 10×", at_least(10)),
    ("list by prefix d3/ (1,000 of 10,000)", "ms"): ("≥ 10×", at_least(10)),
    ("idle RSS", "MiB"): ("≤ 10 MiB", absolute(lambda v: v <= 10)),
    ("RSS after workloads", "MiB"): ("≤ 1/5 of Azurite", at_least(5)),
    ("peak RSS (VmHWM)", "MiB"): ("≤ 1/5 of Azurite", at_least(5)),
    ("cold start to first 200", "ms"): ("≤ 50 ms", absolute(lambda v: v <= 50)),
    ("cold start, page cache dropped", "ms"): ("≤ 50 ms", absolute(lambda v: v <= 50)),
    ("queue Put Message, 32 conn", "req/s"): ("≥ 10×", at_least(10)),
    ("queue Put Message, 1 conn", "req/s"): ("≥ 8×", at_least(8)),
    ("queue Get+Delete Message, 32 conn", "ops/s"): ("≥ 10×", at_least(10)),
    ("queue Get+Delete Message, 1 conn", "ops/s"): ("≥ 8×", at_least(8)),
}
for _label in ("insert", "point get", "filtered query ({n} rows)", "100-entity batch"):
    _label = _label.format(n=table_workloads.FILTER_EXPECTED)
    TARGETS[(f"table {_label}, SDK 8 threads", "ops/s")] = ("≥ 2×", at_least(2))
    TARGETS[(f"table {_label}, Go SDK 8 goroutines", "ops/s")] = ("≥ 2×", at_least(2))
    TARGETS[(f"table {_label}, wrk 32 conn", "req/s")] = ("≥ 10×", at_least(10))


def build_go_sdk(out_dir):
    """Builds benches/compare/go (the Go SDK workloads) into out_dir, with the module cache that
    scripts/test fills, and returns a function (server, workload) -> figures that runs it."""
    go = shutil.which("go")
    if go is None:
        sys.exit("go is missing: the Go SDK rows need Go 1.26 or newer on PATH (https://go.dev/dl/); "
                 "scripts/test fills the module cache in .cache/gomod")
    env = dict(os.environ)
    env.setdefault("GOMODCACHE", os.path.join(ROOT, ".cache", "gomod"))
    env.setdefault("GOCACHE", os.path.join(ROOT, ".cache", "gobuild"))
    env.setdefault("GOFLAGS", "-mod=mod")
    binary = os.path.join(out_dir, "sdkbench")
    built = subprocess.run([go, "build", "-o", binary, "."], cwd=GO_DIR, env=env, capture_output=True, text=True)
    if built.returncode != 0:
        sys.exit(f"go build in {GO_DIR} failed:\n{built.stdout}{built.stderr}")

    def run(server, workload):
        # stderr goes to the terminal: on failure it says what went wrong.
        out = subprocess.run(
            [binary, "-conn", server.connection_string(), "-workload", workload],
            stdout=subprocess.PIPE, text=True, timeout=1200,
        )
        if out.returncode != 0:
            raise RuntimeError(f"Go SDK workload {workload} against {server.name} failed (exit {out.returncode})")
        return json.loads(out.stdout.strip().splitlines()[-1])

    run.version = subprocess.run([go, "version"], capture_output=True, text=True, env=env).stdout.split()[2]
    return run


# The workload groups --workloads selects from. The cold start and RSS rows belong to a run of all.
GROUPS = ("blob", "table", "queue", "tls")


def run_server(server, data, digest, seconds, results, go_sdk, groups, tls=None):
    figures = results.setdefault(server.name, {})
    every = set(groups) == set(GROUPS)

    def record(label, values):
        figures[label] = values
        shown = ", ".join(f"{report.UNITS[k][0]} {report.fmt(v)}" for k, v in values.items() if k in report.UNITS)
        errors = f" ({values['errors']} errors!)" if values.get("errors") else ""
        print(f"  {server.name:8} {label:48} {shown}{errors}", flush=True)

    try:
        if every:
            if drop_page_cache():
                record("cold start, page cache dropped", {"start_ms": server.start() * 1000})
                server.stop()
            record("cold start to first 200", {"start_ms": server.start() * 1000})
            time.sleep(1)
            record("idle RSS", {"mib": server.rss_mib()})
        else:
            server.start()
        if "blob" in groups:
            blob_workloads.small_blobs(server, seconds, record)
            blob_workloads.large_blob(server, data, digest, record)
            blob_workloads.large_blob_go(server, go_sdk, record)
            blob_workloads.listing(server, record)
            blob_workloads.batch_delete(server, record)
            blob_workloads.blob_features(server, seconds, record)
        if "table" in groups:
            table_workloads.sdk(server, record)
            table_workloads.sdk_go(server, go_sdk, record)
            table_workloads.load(server, max(3, seconds * 4 // 5), record)
        if "queue" in groups:
            queue_workloads.load(server, seconds, record)
        if every:
            record("RSS after workloads", {"mib": server.rss_mib()})
            record("peak RSS (VmHWM)", {"mib": server.hwm_mib()})
        if "tls" in groups:
            # Last, after the RSS rows: the same 4 KiB rows over https, the server started again
            # with a certificate. wrk keeps its connections: the rows measure TLS records, not
            # handshakes.
            # Plain http first, in the same run, so that the two can be compared row by row.
            server.stop()
            server.start()
            blob_workloads.small_blobs(server, seconds, record, over=" over http")
            server.stop()
            server.tls = tls
            try:
                server.start()
                blob_workloads.small_blobs(server, seconds, record, over=" over TLS")
            finally:
                server.tls = None
    finally:
        server.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--lapis", required=True)
    p.add_argument("--azurite", required=True)
    p.add_argument("--floor", required=True, help="the floor server (benches/src/bin/floor.rs)")
    p.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    p.add_argument("--doc", required=True, help="docs/performance.md to update")
    p.add_argument("--only", choices=["Lapis", "Azurite"], help="run one server (no ratios)")
    p.add_argument("--workloads", default=",".join(GROUPS),
                   help=f"comma-separated groups of {', '.join(GROUPS)} (default all); with some only, no cold "
                        "start or RSS rows and no floor unless blob, and the rows go into the existing table")
    args = p.parse_args()
    args.groups = [g for g in GROUPS if g in args.workloads.split(",")]
    unknown = set(args.workloads.split(",")) - set(GROUPS)
    if unknown or not args.groups:
        p.error(f"--workloads: unknown group(s) {', '.join(sorted(unknown)) or '(none given)'}; "
                f"choose from {', '.join(GROUPS)}")
    tune_client_allocator()

    go_dir = tempfile.mkdtemp(prefix="compare-go-")
    try:
        sdk_rows = "blob" in args.groups or "table" in args.groups
        go_sdk = build_go_sdk(go_dir) if sdk_rows else None
        run_all(args, go_sdk)
    finally:
        shutil.rmtree(go_dir, ignore_errors=True)


def drop_page_cache():
    """Writes dirty pages out and empties the page cache, so that the next start reads its
    binary, libraries and files from disk. Needs root; False (and nothing done) otherwise."""
    if not os.access("/proc/sys/vm/drop_caches", os.W_OK):
        return False
    subprocess.run(["sync"], check=True)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")
    return True


def measure_floor(binary, seconds):
    """The machine's one-connection floor (benches/src/bin/floor.rs, Lapis's HTTP stack with
    nothing on top) under the same wrk scripts: GET of a fixed 4 KiB body, and PUT of 4 KiB
    appended to a file and fdatasync'ed."""
    data_dir = tempfile.mkdtemp(prefix="compare-floor-")
    proc = subprocess.Popen([binary, data_dir], stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the floor server did not start (exit {proc.poll()})")
        put = wrk.run(f"{url}/floor", ("thread_id.lua", "put_blob.lua"), ["sas", blob_workloads.VERSION], 1, seconds)
        get = wrk.run(f"{url}/floor/get-4k", ("get.lua",), [blob_workloads.VERSION], 1, seconds)
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
    for label, figures in (("PUT", put), ("GET", get)):
        print(f"  {'floor':8} {label + ' 4 KiB, 1 conn':48} req/s {report.fmt(figures['rps'])}, "
              f"p50 ms {report.fmt(figures['p50_ms'])}", flush=True)
    return {"PUT": put, "GET": get}


def run_all(args, go_sdk):
    data = os.urandom(blob_workloads.LARGE_SIZE) if "blob" in args.groups else b""
    digest = hashlib.sha256(data).digest()
    results = {}
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    lapis_bin, azurite_bin = os.path.abspath(args.lapis), os.path.abspath(args.azurite)
    if not args.only and "blob" in args.groups:
        print("== floor", flush=True)
        results["floor"] = measure_floor(os.path.abspath(args.floor), args.seconds)
    cert_dir = tempfile.mkdtemp(prefix="compare-tls-")
    try:
        tls = servers.make_certificate(cert_dir) if "tls" in args.groups else None
        for server in (servers.lapis(lapis_bin), servers.azurite(azurite_bin)):
            if args.only and server.name != args.only:
                continue
            print(f"== {server.name}", flush=True)
            run_server(server, data, digest, args.seconds, results, go_sdk, args.groups, tls)
    finally:
        shutil.rmtree(cert_dir, ignore_errors=True)

    if args.only == "Azurite":
        return  # its figures are printed above; there is nothing to compare them with
    print("\n== Lapis advantage (>1 means Lapis is better)")
    for label, unit, lapis, azurite, r in report.rows(results):
        print(f"  {label:48} {unit:7} Lapis {report.fmt(lapis):>9}  Azurite {report.fmt(azurite):>9}  "
              f"{report.fmt(r) + 'x' if r else '-':>8}")
    if args.only:
        return
    info = report.machine()
    # Other work on the machine moves every figure: the load average says how quiet it was.
    when = (f"wrk {args.seconds} s per run, one wrk thread; "
            f"run took {time.perf_counter() - started:.0f} s on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"1-min load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after.")
    if set(args.groups) != set(GROUPS):
        key = f"Rows of `--workloads {','.join(args.groups)}`"
        note = f"{key}: from a run of those workloads only, both servers on disk, {when}"
        report.merge_results(args.doc, report.table_rows(results, TARGETS), key, note)
        print(f"\nmerged the {', '.join(args.groups)} rows into {args.doc}")
        return
    notes = (f"{go_sdk.version} (Go SDK rows: azcore 1.23.3, aztables 1.4.1, azblob 1.8.3); "
             f"both on disk, {when}")
    report.write_results(args.doc, report.markdown(results, TARGETS, info, notes))
    print(f"\nwrote {args.doc}")


if __name__ == "__main__":
    main()
