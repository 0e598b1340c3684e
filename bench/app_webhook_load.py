#!/usr/bin/env python3
"""Load on the GitHub App's webhook endpoint: N signed deliveries, C at a time.

Starts nothing itself: give it the URL of a running `cavra-github-app` and the webhook secret.
Each thread keeps one HTTP/1.1 connection open (http.client keep-alive) and sends deliveries
with unique `X-GitHub-Delivery` ids, each signed with HMAC-SHA256 like GitHub does. It prints
the answers by status, accepted deliveries per second and the ack latency (p50/p90/p99/max).
Standard library only.

    python3 bench/app_webhook_load.py --url http://127.0.0.1:8080/webhook \
        --secret-env CAVRA_APP_WEBHOOK_SECRET -n 5000 -c 16

By default every delivery is `pull_request.synchronize` for its own pull request number, so
that none coalesces with another (`--same-pr` sends them all for one pull request instead).

Running the App against SQLite for this (its workers fail to reach GitHub and retry later,
which does not matter for the acks measured here):

    cargo build --release -p cavra-github-app
    dir=$(mktemp -d)
    openssl genrsa -out "$dir/app.pem" 2048
    export CAVRA_APP_ID=1 CAVRA_APP_PRIVATE_KEY_PATH="$dir/app.pem" \
        CAVRA_APP_WEBHOOK_SECRET=bench-secret \
        CAVRA_APP_DATABASE_URL="sqlite:$dir/app.db" CAVRA_APP_CACHE_DIR="$dir/cache" \
        CAVRA_APP_API_URL=http://127.0.0.1:9/ CAVRA_APP_LISTEN=127.0.0.1:8080 CAVRA_APP_WORKERS=1
    target/release/cavra-github-app 2>"$dir/app.log" &
    python3 bench/app_webhook_load.py --url http://127.0.0.1:8080/webhook \
        --secret-env CAVRA_APP_WEBHOOK_SECRET -n 5000 -c 16
    curl -s http://127.0.0.1:8080/metrics | grep cavra_app_deliveries_total
    kill %1
"""

import argparse
import hashlib
import hmac
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PAYLOAD = os.path.join(
    HERE, "..", "testkit", "fixtures", "github-webhooks", "examples", "pull_request",
    "synchronize.payload.json",
)


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="the webhook URL, e.g. http://127.0.0.1:8080/webhook")
    secret = ap.add_mutually_exclusive_group(required=True)
    secret.add_argument("--secret-env", help="the environment variable holding the webhook secret")
    secret.add_argument("--secret-file", help="a file holding the webhook secret")
    secret.add_argument("--secret", help="the webhook secret (visible in ps; prefer --secret-env)")
    ap.add_argument("-n", "--requests", type=int, default=2000)
    ap.add_argument("-c", "--concurrency", type=int, default=8)
    ap.add_argument("--event", default="pull_request")
    ap.add_argument("--payload", default=DEFAULT_PAYLOAD, help="a JSON payload file")
    ap.add_argument("--same-pr", action="store_true", help="do not vary the pull request number")
    ap.add_argument("--timeout", type=float, default=30.0)
    args = ap.parse_args()

    if args.secret_env:
        key = os.environ.get(args.secret_env)
        if not key:
            sys.exit(f"{args.secret_env} is not set")
    elif args.secret_file:
        with open(args.secret_file) as f:
            key = f.read().strip()
    else:
        key = args.secret
    key = key.encode()

    url = urllib.parse.urlsplit(args.url)
    if url.scheme not in ("http", "https"):
        sys.exit("--url must be http:// or https://")
    conn_class = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    path = url.path or "/"
    if url.query:
        path += "?" + url.query

    with open(args.payload, "rb") as f:
        template = json.load(f)
    run = uuid.uuid4().hex[:12]

    def body_for(i):
        if not args.same_pr and isinstance(template.get("pull_request"), dict):
            template["pull_request"]["number"] = 100000 + i
            template["number"] = 100000 + i
        return json.dumps(template, separators=(",", ":")).encode()

    # Bodies and signatures are prepared before the clock starts.
    work = []
    for i in range(args.requests):
        body = body_for(i)
        sig = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        work.append((f"bench-{run}-{i}", body, sig))

    lock = threading.Lock()
    nxt = [0]
    latencies = []
    statuses = {}
    errors = []

    def worker():
        conn = conn_class(url.hostname, url.port, timeout=args.timeout)
        mine = []
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(work):
                break
            delivery, body, sig = work[i]
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "GitHub-Hookshot/bench",
                "X-GitHub-Event": args.event,
                "X-GitHub-Delivery": delivery,
                "X-Hub-Signature-256": sig,
            }
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.getheader("connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                conn = conn_class(url.hostname, url.port, timeout=args.timeout)
                status = f"error: {type(e).__name__}"
                with lock:
                    errors.append(str(e))
            mine.append((time.perf_counter() - t0, status))
        conn.close()
        with lock:
            for lat, status in mine:
                latencies.append(lat)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(max(1, args.concurrency))]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start

    latencies.sort()
    accepted = statuses.get(202, 0)
    ms = lambda s: f"{s * 1000:.2f} ms"
    print(f"deliveries   {args.requests} ({args.event}), concurrency {args.concurrency}, {elapsed:.2f} s")
    print("answers      " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=str)))
    print(f"accepted/s   {accepted / elapsed:.1f}")
    print(f"requests/s   {len(latencies) / elapsed:.1f}")
    print(f"ack latency  p50 {ms(percentile(latencies, 50))}  p90 {ms(percentile(latencies, 90))}"
          f"  p99 {ms(percentile(latencies, 99))}  max {ms(latencies[-1] if latencies else float('nan'))}")
    if errors:
        print(f"first error  {errors[0]}")
    return 0 if accepted == args.requests else 1


if __name__ == "__main__":
    sys.exit(main())
