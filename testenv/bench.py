#!/usr/bin/env python3
"""make bench: mesh-egress at 5,000 external services, side by side with kubectl.

Seeds N ServiceEntries (default 5,000) across N/20 namespaces — HTTP, HTTPS/TLS and TCP, one to
three hosts, one or two ports — and a Sidecar in every tenth namespace; starts the release
server; waits until istiod has pushed the seeded entries and the server's caches serve; then
measures, in one run:
  kubectl get serviceentries -A -o json (median of 5); the list API for all namespaces and one;
  the pages /, /services, a namespace, an entry, the reachability map (median and p95 of 50); a policy switch round
  trip; live-update latency (kubectl apply until the push reaches a connected page, median of
  10); the bytes of a first page load as served (HTML + wasm + js + css, compressed); the
  server's peak RSS.
It prints a table and, last, one line (`bench: list_vs_kubectl=…`). Not a test: these machines
are shared and noisy, so nothing here fails on a time; `BENCH_SERVICE_ENTRIES=200` (make test)
checks that every step still runs.
"""

import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
STATE = os.environ.get("TESTENV_STATE_DIR", os.path.join(ROOT, "target/testenv"))
KUBECTL = os.path.join(STATE, "kubectl")
KUBECONFIG = os.path.join(STATE, "kubeconfig")
N = int(os.environ.get("BENCH_SERVICE_ENTRIES", "5000"))
PER_NS = 20
PORT = int(os.environ.get("BENCH_PORT", "3195"))
BASE = f"http://127.0.0.1:{PORT}"
# BENCH_KEEP=1 keeps the seeded objects (and remembers their label) so that a later
# BENCH_KEEP=1 run measures again without seeding for ten minutes.
KEEP = os.environ.get("BENCH_KEEP") == "1"
KEPT = os.path.join(STATE, "bench-kept")
RUN = f"bench{int(time.time()) % 100000}"
# Pages read traffic from the test control plane's Prometheus, as in the demo.
PROMETHEUS = os.environ.get("PROMETHEUS_URL", "http://127.0.0.1:" + os.environ.get("TESTENV_PROMETHEUS_PORT", "19090"))
# istiod's own metrics: the bench waits there until istiod has pushed what was seeded.
ISTIOD_METRICS = "http://127.0.0.1:" + os.environ.get("TESTENV_ISTIOD_MONITORING_PORT", "15014") + "/metrics"


def kubectl(*args, stdin=None):
    env = dict(os.environ, KUBECONFIG=KUBECONFIG)
    done = subprocess.run([KUBECTL, *args], input=stdin, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench: kubectl {' '.join(args[:3])} failed: {done.stderr.strip()[:2000]}")
    return done.stdout


def entry(ns, i):
    kind = i % 3
    # istiod refuses several hosts on a TCP port: TCP entries get one.
    extra = 0 if kind == 2 else i % 3
    hosts = [f"svc{i}.{ns}.example.com"] + [f"alt{j}-{i}.{ns}.example.com" for j in range(extra)]
    if kind == 0:
        ports = [{"number": 80, "name": "http", "protocol": "HTTP"}]
    elif kind == 1:
        ports = [{"number": 443, "name": "https", "protocol": "HTTPS"},
                 {"number": 8443, "name": "tls", "protocol": "TLS"}][: 1 + i % 2]
    else:
        ports = [{"number": 5432, "name": "tcp", "protocol": "TCP"}]
    return {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "metadata": {"name": f"ext-{i}", "namespace": ns, "labels": {"mesh-egress.io/bench": RUN}},
            "spec": {"hosts": hosts, "ports": ports, "resolution": "DNS",
                     "location": "MESH_EXTERNAL"}}


def seed():
    global RUN
    if KEEP and os.path.exists(KEPT):
        with open(KEPT) as kept:
            RUN, count = kept.read().split()
        if int(count) == N:
            return [f"{RUN}-{k:03d}" for k in range(max(1, N // PER_NS))]
        raise SystemExit(f"bench: {KEPT} holds {count} entries, not {N}: delete the label {RUN} and the file")
    namespaces = [f"{RUN}-{k:03d}" for k in range(max(1, N // PER_NS))]
    items = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in namespaces]
    kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    objects = [entry(namespaces[i % len(namespaces)], i) for i in range(N)]
    objects += [{"apiVersion": "networking.istio.io/v1", "kind": "Sidecar",
                 "metadata": {"name": "default", "namespace": ns, "labels": {"mesh-egress.io/bench": RUN}},
                 "spec": {"outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}}}
                for ns in namespaces[::10]]
    for start in range(0, len(objects), 500):
        chunk = {"apiVersion": "v1", "kind": "List", "items": objects[start:start + 500]}
        kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(chunk))
    if KEEP:
        with open(KEPT, "w") as kept:
            kept.write(f"{RUN} {N}\n")
    return namespaces


def istiod_pushes():
    """istiod's count of debounced pushes, or None when its metrics do not answer."""
    try:
        with urllib.request.urlopen(ISTIOD_METRICS, timeout=5) as answer:
            text = answer.read().decode()
    except OSError:
        return None
    found = re.search(r"^pilot_debounce_time_count (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else None


def istiod_settled(quiet=12.0, limit=1200.0):
    """Waits until istiod has pushed the seeded entries: no new push for `quiet` seconds (longer than
    istiod's 10 s debounce limit).

    On these 2 cores istiod takes minutes at nearly both cores to push 5,000 new entries;
    pages timed meanwhile measure a starved machine, not the dashboard. Returns the seconds
    waited (None: istiod's metrics do not answer, nothing waited for)."""
    started = time.time()
    last = istiod_pushes()
    if last is None:
        return None
    still_since = time.time()
    while time.time() - started < limit:
        time.sleep(1)
        now = istiod_pushes()
        if now != last:
            last, still_since = now, time.time()
        elif time.time() - still_since >= quiet:
            return time.time() - started
    raise SystemExit(f"bench: istiod still pushing after {limit:.0f} s")


def fetch(path, data=None, headers=None):
    request = urllib.request.Request(BASE + path, data=data, headers=headers or {})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as answer:
        body = answer.read()
        status = answer.status
        got = dict(answer.headers)
    return time.perf_counter() - started, status, body, got


def timed(path, runs, data=None):
    times = []
    for _ in range(runs):
        took, status, _, _ = fetch(path, data)
        if status != 200:
            raise SystemExit(f"bench: {path} answered {status}")
        times.append(took * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def live_latency(namespace, runs):
    """kubectl apply → the push reaches a page connected to /api/events."""
    pushes = []
    lock = threading.Condition()

    def listen():
        request = urllib.request.Request(BASE + "/api/events", headers={"accept": "text/event-stream"})
        with urllib.request.urlopen(request, timeout=600) as stream:
            for line in stream:
                if line.startswith(b"data:"):
                    with lock:
                        pushes.append(time.perf_counter())
                        lock.notify_all()

    threading.Thread(target=listen, daemon=True).start()
    time.sleep(1.0)
    samples = []
    for k in range(runs):
        with lock:
            seen = len(pushes)
        started = time.perf_counter()
        kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(entry(namespace, N + k)))
        with lock:
            lock.wait_for(lambda: len(pushes) > seen, timeout=30)
            if len(pushes) > seen:
                samples.append((pushes[seen] - started) * 1000)
        time.sleep(0.3)
    return statistics.median(samples) if samples else float("nan")


def wire_kb():
    """A first load of / as a browser gets it: each file as served to `accept-encoding: br`."""
    enc = {"accept-encoding": "br, gzip"}
    total = len(fetch("/", headers=enc)[2])
    page = fetch("/")[2].decode()
    for asset in sorted(set(re.findall(r'/pkg/[A-Za-z0-9._-]+\.(?:wasm|js|css)', page))):
        total += len(fetch(asset, headers=enc)[2])
    return total / 1024


def return_kept(namespaces):
    """Only the live-update entries go; the seeded ones stay for the next BENCH_KEEP=1 run."""
    env = dict(os.environ, KUBECONFIG=KUBECONFIG)
    names = [f"ext-{N + k}" for k in range(10)]
    subprocess.run([KUBECTL, "delete", "serviceentries", "-n", namespaces[0], "--ignore-not-found", *names],
                   env=env, capture_output=True)


def delete_seeded(namespaces):
    # The test control plane runs no namespace controller: delete the objects themselves.
    env = dict(os.environ, KUBECONFIG=KUBECONFIG)
    subprocess.run([KUBECTL, "delete", "serviceentries,sidecars", "-A", "-l", f"mesh-egress.io/bench={RUN}",
                    "--wait=false"], env=env, capture_output=True)
    for start in range(0, len(namespaces), 100):
        subprocess.run([KUBECTL, "delete", "namespace", "--wait=false", *namespaces[start:start + 100]],
                       env=env, capture_output=True)


def main():
    t0 = time.time()
    namespaces = seed()
    print(f"bench: seeded {N} ServiceEntries in {len(namespaces)} namespaces in {time.time() - t0:.0f} s", flush=True)
    settled = istiod_settled()
    if settled is not None:
        print(f"bench: istiod pushed them {settled:.0f} s later (no push for 12 s)", flush=True)
    kube = []
    for _ in range(5):
        started = time.perf_counter()
        kubectl("get", "serviceentries", "-A", "-o", "json")
        kube.append((time.perf_counter() - started) * 1000)
    kube_ms = statistics.median(kube)

    env = dict(os.environ, LEPTOS_SITE_ROOT=os.path.join(ROOT, "target/site"), LEPTOS_ENV="PROD", RUST_LOG="warn")
    log = open(os.path.join(STATE, "logs/bench-server.log"), "w")
    server = subprocess.Popen([os.path.join(ROOT, "target/release/mesh-egress"), "--kubeconfig", KUBECONFIG,
                               "--prometheus", PROMETHEUS, "serve", "--addr", f"127.0.0.1:{PORT}"], env=env, stdout=log, stderr=log)
    try:
        deadline = time.time() + 120
        while True:
            try:
                if fetch("/readyz")[1] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise SystemExit("bench: the server never became ready")
            time.sleep(0.2)
        timed("/", 3)  # the copies take over from LISTs
        one = namespaces[0]
        runs = 50
        rows = []
        list_all = timed("/api/service_entries", 20, data=b"namespace=")
        list_one = timed("/api/service_entries", 20, data=f"namespace={one}".encode())
        rows += [("list API, all namespaces", list_all), ("list API, one namespace", list_one)]
        overview = timed("/", runs)
        all_page = timed("/services", runs)
        ns_page = timed(f"/namespaces/{one}", runs)
        entry_page = timed(f"/namespaces/{one}/serviceentries/ext-0", runs)
        # The reachability map (#16): every namespace against every host, grouped; and its JSON.
        map_page = timed("/map", runs)
        map_api = timed("/api/reachability_map", runs, data=b"window=1h&namespace=&host=")
        rows += [("page /", overview), ("page /services", all_page), ("page /namespaces/NS", ns_page),
                 ("page of one entry", entry_page), ("page /map (budget 200 ms)", map_page),
                 ("map API (JSON)", map_api)]
        switch = []
        for mode in ["REGISTRY_ONLY", "ALLOW_ANY", "REGISTRY_ONLY", "ALLOW_ANY"]:
            switch.append(fetch("/api/set_outbound_policy", data=f"mode={mode}".encode(),
                                headers={"accept": "application/json"})[0] * 1000)
        _, _, html, _ = fetch("/services")
        live_ms = live_latency(one, 10)
        wire = wire_kb()
        rss = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
        if KEEP:
            return_kept(namespaces)
        else:
            delete_seeded(namespaces)
    ratio = kube_ms / list_all[0]
    print(f"{'what':<34} {'p50 ms':>9} {'p95 ms':>9}")
    print(f"{'kubectl get serviceentries -A':<34} {kube_ms:>9.1f} {'':>9}")
    for what, (p50, p95) in rows:
        print(f"{what:<34} {p50:>9.1f} {p95:>9.1f}")
    print(f"{'policy switch round trip':<34} {statistics.median(switch):>9.1f}")
    print(f"{'live update (apply → push)':<34} {live_ms:>9.1f}")
    print(f"HTML of /services: {len(html) / 1024:.0f} KB uncompressed; first load of / on the wire: {wire:.0f} KB; peak RSS {rss:.0f} MB")
    print(f"bench: list_vs_kubectl={ratio:.0f} overview_p50_ms={overview[0]:.1f} ns_page_p50_ms={ns_page[0]:.1f} "
          f"all_page_p50_ms={all_page[0]:.1f} live_ms={live_ms:.0f} wire_kb={wire:.0f} rss_mb={rss:.0f}")


if __name__ == "__main__":
    sys.exit(main())
