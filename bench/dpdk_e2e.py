#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""locusd on DPDK driven end to end with no kernel in the path (issue 14): locus-bench's DPDK
transport (bench/lb_xport_dpdk.c) and one locusd (`--dataplane dpdk --dpdk-poll busy`), two DPDK
primary processes joined by memif (default) or vhost-user/virtio_user, on this 2-CPU machine.

Topology. A private network namespace holds both processes; the kernel there has only the
node's address on `lo` (198.18.0.2/32), which locusd's overlay listener needs to bind (a single
node has no peers, so no TAP: docs/dpdk.md); no packet of the benchmark touches a kernel stack.
locusd is the memif server (or the vhost backend) on a socket file under /run, locus-bench the
client (or virtio_user) on the same file; each has its own --file-prefix and --no-shconf.

CPUs. locusd's worker lcore is alone on CPU 1 (`--lcores 0@0,1@1`); its main lcore (control:
timers, admin; idle in epoll) shares CPU 0 with the generator (`--lcores 0@0`: the EAL pins the
main thread there, and the sending thread it starts inherits that CPU). The generator gets a
whole CPU less a mostly idle control thread, and the worker a CPU of its own: what is measured
is the worker. Both busy-poll.

Phases, each bounded by count and time (--duration of locus-bench, and a subprocess timeout):
REGISTER of new AORs (closed loop, --window), INVITE -> 302 to the registered AORs, LSP LOOKUP
of the same (optional), each --repeats times with a fresh AOR set (seed) per repeat; then one
open-loop INVITE run at half the measured rate (latency when not saturated). For each run:
the rate (= per worker core: locusd has one worker), p50/p99, locusd's CPU (utime+stime of the
whole process, and of its worker thread, from /proc) per request, and the generator's CPU,
send rate and idle time (time its thread spent polling an empty queue, from locus-bench's
JSON), from which the generator's own capacity = answered / (elapsed - idle) is derived: when
it is well above the measured rate, the generator is not the limit.

Usage (root; a build with DPDK and -Dbench=true, default build-release/):
    python3 bench/dpdk_e2e.py [--pmd memif|vhost|both] [--aors N] [--invites N] [--repeats R]
                              [--wait-quiet S] [--out FILE]
Every process it starts is stopped by PID; the namespace, socket files and /var/run/dpdk
directories it creates are removed at exit (also on error and Ctrl-C).
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("LOCUS_BUILD", os.path.join(REPO, "build-release"))
LOCUSD = os.path.join(BUILD, "control", "locusd")
LOCUSCTL = os.path.join(BUILD, "control", "locusctl")
BENCH = os.path.join(BUILD, "bench", "locus-bench")
HZ = os.sysconf("SC_CLK_TCK")
NODE_IP, GEN_IP = "198.18.0.2", "198.18.0.1"
NODE_MAC, GEN_MAC = "02:00:00:00:e2:02", "02:00:00:00:e2:01"
EAL = "--no-huge -m 256 --no-shconf --no-pci --no-telemetry"
TAG = str(os.getpid())


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def sh(*cmd):
    return subprocess.run(list(cmd), capture_output=True, text=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def ticks(pid, tid=None):
    path = "/proc/%d/task/%d/stat" % (pid, tid) if tid else "/proc/%d/stat" % pid
    try:
        with open(path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except OSError:
        return 0


class Node:
    """The namespace and the locusd in it, on one PMD; stop() removes everything."""

    def __init__(self, pmd, work):
        self.pmd, self.work = pmd, work
        self.ns = "lbe2e_" + TAG
        self.sock = "/run/locus-bench-%s-%s.sock" % (TAG, pmd)
        self.prefixes = []
        self.proc = None
        self.nruns = 0

    def vdevs(self):
        """(locusd's vdev, the generator's vdev)."""
        if self.pmd == "memif":
            common = "socket=%s,socket-abstract=no" % self.sock
            return ("net_memif0,role=server,%s,mac=%s" % (common, NODE_MAC),
                    "net_memif0,role=client,%s,mac=%s" % (common, GEN_MAC))
        return ("net_vhost0,iface=%s,queues=1" % self.sock,
                "virtio_user0,path=%s,queues=1,queue_size=1024,mac=%s" % (self.sock, GEN_MAC))

    def start(self):
        self.stop()
        for cmd in (("ip", "netns", "add", self.ns), ("ip", "-n", self.ns, "link", "set", "lo", "up"),
                    ("ip", "-n", self.ns, "addr", "add", NODE_IP + "/32", "dev", "lo")):
            r = sh(*cmd)
            if r.returncode != 0:
                raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
        prefix = "lbe2e-node-%s" % TAG
        self.prefixes.append(prefix)
        self.logpath = os.path.join(self.work, "locusd-%s.log" % self.pmd)
        self.logf = open(self.logpath, "w+")
        eal = "--lcores 0@0,1@1 %s --file-prefix %s --vdev=%s" % (EAL, prefix, self.vdevs()[0])
        argv = ["ip", "netns", "exec", self.ns, LOCUSD, "--dataplane", "dpdk", "--dpdk-poll", "busy",
                "--dpdk-args", eal, "--sip", NODE_IP + ":5060", "--lsp", NODE_IP + ":7400",
                "--admin", os.path.join(self.work, "admin.sock"), "--max-bindings", "4000000"]
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("locusd exited %d:\n%s" % (self.proc.returncode, self.log()))
            if "locusd ready" in self.log() and os.path.exists(self.sock):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("locusd not ready in 20 s:\n" + self.log())
        self.worker_tid = None
        for tid in os.listdir("/proc/%d/task" % self.proc.pid):
            with open("/proc/%d/task/%s/comm" % (self.proc.pid, tid)) as f:
                if f.read().strip().startswith("rte-worker"):
                    self.worker_tid = int(tid)

    def io_stats(self):
        """locusd's io counters (totals over its queues) that are not 0, from locusctl stats."""
        r = sh(LOCUSCTL, "--admin", os.path.join(self.work, "admin.sock"), "stats")
        try:
            io = json.loads(r.stdout)["total"]["io"]
        except (ValueError, KeyError, TypeError):
            return {"error": (r.stdout + r.stderr)[-300:]}
        return {k: v for k, v in io.items() if v}

    def log(self):
        self.logf.seek(0)
        return self.logf.read()

    def cpu(self):
        """(process ticks, worker thread ticks)."""
        return ticks(self.proc.pid), ticks(self.proc.pid, self.worker_tid)

    def bench(self, args, timeout):
        """One locus-bench run against the node; returns its JSON record."""
        if self.proc.poll() is not None:
            raise RuntimeError("locusd died:\n" + self.log())
        self.nruns += 1
        prefix = "lbe2e-gen-%s-%d" % (TAG, self.nruns)
        self.prefixes.append(prefix)
        eal = "--lcores 0@0 %s --file-prefix %s --vdev=%s" % (EAL, prefix, self.vdevs()[1])
        out = os.path.join(self.work, "run.json")
        if os.path.exists(out):
            os.unlink(out)
        argv = [BENCH, "--dpdk-args", eal, "--bind", GEN_IP, "--target", NODE_IP + ":5060",
                "--lsp-target", NODE_IP + ":7400", "--quiet", "--no-progress", "--json", out] + \
            [str(a) for a in args]
        r = subprocess.run(["ip", "netns", "exec", self.ns] + argv, capture_output=True, text=True,
                           timeout=timeout)
        if not os.path.exists(out):
            raise RuntimeError("locus-bench exit %d:\n%s" % (r.returncode, r.stderr[-3000:]))
        with open(out) as f:
            rec = json.load(f)
        rec["exit"] = r.returncode
        rec["argv"] = argv
        rec["stderr"] = "\n".join(l for l in r.stderr.splitlines()
                                  if "mp action callback" not in l)
        return rec

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        sh("ip", "netns", "del", self.ns)
        for path in [self.sock] + ["/var/run/dpdk/" + p for p in self.prefixes]:
            if os.path.isdir(path):
                subprocess.run(["rm", "-rf", path])
            elif os.path.exists(path):
                os.unlink(path)
        self.prefixes = []


def measure(node, args, timeout):
    c0, w0, t0 = node.cpu() + (time.time(),)
    rec = node.bench(args, timeout)
    c1, w1 = node.cpu()
    n = max(rec["answered"], 1)
    g = rec["generator"]
    busy = rec["elapsed_s"] - g["wait_s"]
    return {
        "rate": rec["throughput"], "p50": rec["latency_us"]["p50"], "p99": rec["latency_us"]["p99"],
        "sent": rec["sent"], "answered": rec["answered"], "right": rec["right"],
        "wrong": rec["wrong"], "missing": rec["missing"], "end": rec["end"],
        "elapsed": rec["elapsed_s"], "wall": time.time() - t0,
        "node_us": (c1 - c0) / HZ * 1e6 / n, "worker_us": (w1 - w0) / HZ * 1e6 / n,
        "node_cpu_s": (c1 - c0) / HZ,
        "gen_cpu_s": g["cpu_s"], "gen_us": g["cpu_s"] * 1e6 / n, "gen_idle": g["idle_frac"],
        "gen_sent_rate": rec["sent_rate"], "gen_capacity": rec["answered"] / busy if busy > 0 else 0,
        "gen_oncpu": g["threads_cpu_s"] / rec["elapsed_s"] if rec["elapsed_s"] > 0 else 0,
        "retrans": rec["retransmissions"], "rx_dropped": g["rx_dropped"],
        "lag_max_us": g["lag_max_us"], "exit": rec["exit"], "argv": rec["argv"],
        "stderr": rec["stderr"], "offered": rec.get("offered_rate", 0), "unsent": rec["unsent"],
    }


def check(name, m):
    ok = m["exit"] == 0 and m["wrong"] == 0 and m["missing"] == 0 and m["answered"] == m["sent"]
    log("%s: %.0f/s p50 %.0f us p99 %.0f us; %d sent, %d right, %d wrong, %d missing; generator "
        "idle %.0f %%, capacity %.0f/s%s" % (name, m["rate"], m["p50"], m["p99"], m["sent"],
                                             m["right"], m["wrong"], m["missing"],
                                             m["gen_idle"] * 100, m["gen_capacity"],
                                             "" if ok else " NOT CLEAN: " + m["stderr"][-500:]))
    return ok


def run_pmd(pmd, o, work):
    node = Node(pmd, work)
    res = {"pmd": pmd, "runs": {}}
    try:
        node.start()
        log("%s: locusd %d up, worker thread %s" % (pmd, node.proc.pid, node.worker_tid))
        res["node_argv"] = node.argv
        w = ["--window", o.window, "--duration", o.max_seconds]
        smoke = measure(node, ["--aors", 1000, "--seed", 900, "--workload", "register"] + w, 60)
        check(pmd + " warm-up", smoke)
        for rep in range(o.repeats):
            seed = 1000 + rep
            r = measure(node, ["--aors", o.aors, "--seed", seed, "--workload", "register",
                               "--count", o.aors] + w, o.max_seconds + 60)
            check("%s register #%d" % (pmd, rep + 1), r)
            res["runs"].setdefault("register", []).append(r)
            registered = r["right"] if r["wrong"] == 0 and r["missing"] == 0 else 0
            if registered == 0:
                continue
            phases = [("invite", "invite")] + ([("lsp-lookup", "lsp-lookup")] if o.lsp else [])
            for name, wl in phases:
                r = measure(node, ["--aors", registered, "--seed", seed, "--workload", wl,
                                   "--count", o.invites] + w, o.max_seconds + 60)
                check("%s %s #%d" % (pmd, name, rep + 1), r)
                res["runs"].setdefault(name, []).append(r)
        inv = res["runs"].get("invite")
        if inv:
            rate = int(statistics.median(x["rate"] for x in inv) / 2)
            seed = 1000
            registered = res["runs"]["register"][0]["right"]
            r = measure(node, ["--aors", registered, "--seed", seed, "--workload", "invite",
                               "--rate", rate, "--duration", min(o.max_seconds, 5)],
                        o.max_seconds + 60)
            check("%s invite open loop at %d/s" % (pmd, rate), r)
            res["runs"]["invite-open"] = [r]
        res["node_io"] = node.io_stats()
        res["node_log_tail"] = node.log()[-1500:]
    finally:
        node.stop()
    return res


def med(runs, key):
    v = [r[key] for r in runs]
    if not v:
        return "-"
    m = statistics.median(v)
    return m, min(v), max(v)


def fmt(t, digits=0):
    if t == "-":
        return "-"
    m, lo, hi = t
    f = "%%.%df" % digits
    if lo == hi:
        return f % m
    return (f + " [" + f + "-" + f + "]") % (m, lo, hi)


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return "%s, %d CPUs, kernel %s" % (model, os.cpu_count(), platform.release())


def commit():
    r = sh("git", "-C", REPO, "rev-parse", "--short", "HEAD")
    dirty = sh("git", "-C", REPO, "status", "--porcelain", "--untracked-files=no").stdout.strip()
    return r.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def report(o, results, load0, load1, started):
    L = []
    L.append("# locusd on DPDK end to end, no kernel in the path (issue 14)\n")
    L.append("Date: %s. Machine: %s. Commit: %s. Build: %s (release)." %
             (started, machine(), commit(), os.path.relpath(BUILD, REPO)))
    L.append("Load average (1, 5, 15 min) before: %s; after: %s. The machine is shared with other "
             "engineers' builds and tests: figures are noisy.\n" % (load0, load1))
    L.append("Command: `%s`\n" % " ".join(["python3", "bench/dpdk_e2e.py"] + sys.argv[1:]))
    L.append("Topology: one locusd (`--dataplane dpdk --dpdk-poll busy`, one worker lcore alone on "
             "CPU 1, control on CPU 0) and locus-bench's DPDK transport (one sending thread on CPU "
             "0), two DPDK primaries (`%s`, own `--file-prefix`) joined by the PMD below, in a "
             "private namespace whose kernel holds only the node's address on `lo` for the "
             "overlay listener. Every answer is checked (lb_check.c) as with sockets. Closed "
             "loop, window %d; %d repeats, each with a fresh AOR set; figures are the median "
             "[min-max] of the repeats. locusd has one worker, so every rate is per worker core.\n"
             % (EAL, o.window, o.repeats))
    for res in results:
        pmd = res["pmd"]
        L.append("## %s\n" % pmd)
        L.append("locusd: `%s`\n" % " ".join(res["node_argv"][4:]))
        first = next(iter(res["runs"].values()))[0]
        L.append("locus-bench (e.g. the first run): `%s`\n" % " ".join(first["argv"]))
        L.append("| phase | requests/s per worker core | p50 us | p99 us | right / sent "
                 "(retransmitted) | locusd CPU us/request (process; worker thread) | generator CPU "
                 "us/request | generator thread on CPU | generator idle | generator capacity/s |")
        L.append("|---|---|---|---|---|---|---|---|---|---|")
        for name, runs in res["runs"].items():
            right = sum(r["right"] for r in runs)
            sent = sum(r["sent"] for r in runs)
            idle = med(runs, "gen_idle")
            idle = (idle[0] * 100, idle[1] * 100, idle[2] * 100)
            oncpu = med(runs, "gen_oncpu")
            oncpu = (oncpu[0] * 100, oncpu[1] * 100, oncpu[2] * 100)
            L.append("| %s | %s | %s | %s | %d / %d (%d) | %s; %s | %s | %s %% | %s %% | %s |" % (
                name, fmt(med(runs, "rate")), fmt(med(runs, "p50"), 1), fmt(med(runs, "p99"), 1),
                right, sent, sum(r["retrans"] for r in runs), fmt(med(runs, "node_us"), 2),
                fmt(med(runs, "worker_us"), 2), fmt(med(runs, "gen_us"), 2), fmt(oncpu),
                fmt(idle, 1), fmt(med(runs, "gen_capacity"))))
        L.append("")
        L.append("Every run: exit status %s, wrong %d, missing %d." % (
            sorted(set(r["exit"] for runs in res["runs"].values() for r in runs)),
            sum(r["wrong"] for runs in res["runs"].values() for r in runs),
            sum(r["missing"] for runs in res["runs"].values() for r in runs)))
        op = res["runs"].get("invite-open")
        if op:
            r = op[0]
            L.append("Open loop (INVITE at half the closed-loop rate, %.1f s): offered %.0f/s, "
                     "sent %.0f/s, answered %.0f/s, p50 %.1f us, p99 %.1f us, generator lag max "
                     "%.0f us, unsent %d." % (r["elapsed"], r["offered"], r["gen_sent_rate"],
                                             r["rate"], r["p50"], r["p99"], r["lag_max_us"],
                                             r["unsent"]))
        L.append("")
        L.append("locusd's io counters at the end (`locusctl stats`, total over its queues, those "
                 "not 0): `%s`" % json.dumps(res.get("node_io", {}), sort_keys=True))
        L.append("")
    L.append("## Is the generator the limit?\n")
    L.append("locus-bench counts the time its sending thread spends polling an empty queue with "
             "its window in flight (`generator.wait_s` in its JSON): time in which it could have "
             "sent more but had no answer to react to. `generator idle` is that time over the "
             "run; `generator capacity` = answered / (elapsed - idle) is the rate its one thread "
             "would reach if locusd answered instantly (its own cost per request; time it lost "
             "the CPU while working counts as work, so this errs low). `generator thread on CPU` "
             "is its sending thread's CPU time (getrusage) over the run: below 100 % the "
             "scheduler gave its CPU to someone else for a while (the other engineers' jobs, or "
             "locusd's control thread), which the idle time also contains. locusd's "
             "worker is busy-polling, so its CPU per request is its core's time divided by the "
             "requests (1 / rate): that column says what one request costs the worker core at "
             "saturation, not an efficiency of polling.\n")
    for res in results:
        for name in ("register", "invite", "lsp-lookup"):
            runs = res["runs"].get(name)
            if not runs:
                continue
            rate, cap = med(runs, "rate")[0], med(runs, "gen_capacity")[0]
            idle, oncpu = med(runs, "gen_idle")[0], med(runs, "gen_oncpu")[0]
            if oncpu < 0.8:
                verdict = "inconclusive: the generator thread had its CPU only %.0f %% of the " \
                    "time" % (oncpu * 100)
            elif cap > 1.3 * rate and idle > 0.2:
                verdict = "the generator is not the limit"
            else:
                verdict = "the generator may be the limit"
            L.append("- %s %s: locusd answered %.0f/s; the generator thread was on its CPU %.0f %% "
                     "of the run, idle %.0f %%, and could have driven %.0f/s (%.1fx): %s." % (
                         res["pmd"], name, rate, oncpu * 100, idle * 100, cap,
                         cap / rate if rate else 0, verdict))
    L.append("")
    return "\n".join(L) + "\n"


def wait_quiet(limit_s, threshold):
    """Wait in 30 s steps, at most limit_s, until the 1-minute load average is below threshold."""
    end = time.time() + limit_s
    while time.time() < end:
        one = float(loadavg().split()[0])
        if one < threshold:
            return
        log("load average %s: waiting for quiet (until %s)" %
            (loadavg(), time.strftime("%H:%M:%S", time.localtime(end))))
        time.sleep(min(30, max(1, end - time.time())))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pmd", choices=("memif", "vhost", "both"), default="memif")
    ap.add_argument("--aors", type=int, default=500000, help="new REGISTERs per repeat")
    ap.add_argument("--invites", type=int, default=1000000, help="INVITEs (and lookups) per repeat")
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-seconds", type=int, default=20, help="time bound of each run")
    ap.add_argument("--no-lsp", dest="lsp", action="store_false", help="skip LSP LOOKUP")
    ap.add_argument("--wait-quiet", type=int, default=0,
                    help="first wait up to S seconds for the load average to drop below 1.5")
    ap.add_argument("--out", default=None, help="the results file (default "
                    "bench/results/DATE-dpdk-e2e.md; '-' for stdout only)")
    o = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit("dpdk_e2e: stopped by SIGTERM"))
    if os.geteuid() != 0:
        sys.exit("dpdk_e2e: needs root (namespaces, DPDK)")
    for path in (LOCUSD, BENCH):
        if not os.path.exists(path):
            sys.exit("dpdk_e2e: %s missing: meson setup %s -Dbench=true -Dbuildtype=release && "
                     "ninja -C %s" % (path, BUILD, BUILD))
    if o.wait_quiet:
        wait_quiet(o.wait_quiet, 1.5)
    started = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    load0 = loadavg()
    work = tempfile.mkdtemp(prefix="locus-dpdk-e2e-")
    results = []
    try:
        for pmd in (("memif", "vhost") if o.pmd == "both" else (o.pmd,)):
            results.append(run_pmd(pmd, o, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load1 = loadavg()
    text = report(o, results, load0, load1, started)
    print(text)
    if o.out != "-":
        out = o.out or os.path.join(REPO, "bench", "results", "%s-dpdk-e2e.md" %
                                    datetime.date.today().isoformat())
        with open(out, "w") as f:
            f.write(text)
        log("wrote " + out)


if __name__ == "__main__":
    main()
