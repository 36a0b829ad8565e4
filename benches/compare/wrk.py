"""Runs wrk with one of the Lua workloads and returns its figures."""

import json
import os
import subprocess
import tempfile

LUA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lua")


def _script(*names):
    """wrk takes one script: the workload's pieces and the report, concatenated."""
    text = "\n".join(open(os.path.join(LUA_DIR, n)).read() for n in names + ("report.lua",))
    f = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    f.write(text)
    f.close()
    return f.name


def run(url, scripts, args, connections, seconds):
    """req/s, p50 and p99 in ms, and error counts of one wrk run (one thread: leaves the second
    core to the server under test); ops/s too when the script counts operations itself."""
    script = _script(*scripts)
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", script, url, "--", *args],
            capture_output=True, text=True, timeout=seconds + 60,
        )
    finally:
        os.unlink(script)
    line = next((l for l in out.stdout.splitlines() if l.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")
    r = json.loads(line[len("WRKJSON "):])
    seconds_run = r["duration_us"] / 1e6
    figures = {
        "rps": r["requests"] / seconds_run,
        "p50_ms": r["p50_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "errors": r["status_errors"] + r["socket_errors"] + r["timeouts"],
        "requests": r["requests"],
    }
    if "ops" in r:  # a script that counts its own operations (report_extra in its Lua)
        figures["ops"] = r["ops"] / seconds_run
        figures["empty"] = r["empty"]
    return figures
