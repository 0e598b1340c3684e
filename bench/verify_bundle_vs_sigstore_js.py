#!/usr/bin/env python3
"""Benchmark: whole-process time of `cavra verify-bundle` against the sigstore-js conformance
client (npm `@sigstore/verify`, `bench/tools/sigstore-js-conformance.js`) on the same keyless
bundle, in the same run. Both verify offline against the same trusted root.

The bundle is the sigstore-conformance `happy-path-v0.3` case (a Fulcio certificate, a Rekor v1
entry with SET, inclusion proof and checkpoint) unless --case names another.

Usage: bench/verify_bundle_vs_sigstore_js.py [--runs N] [--cavra PATH] [--verifiers DIR] [--case NAME]
  --verifiers: the directory `.ci/install-verifiers.sh DIR` installed into (default: $CAVRA_VERIFIERS)
"""
import argparse, hashlib, os, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = os.path.join(ROOT, "sigstore/tests/fixtures/conformance/bundle-verify")
PUBLIC_GOOD = os.path.join(ROOT, "sigstore/roots/public-good.trusted_root.json")
DEF_ID = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
DEF_ISS = "https://token.actions.githubusercontent.com"


def case_args(name):
    d = os.path.join(CASES, name)
    f = lambda n: os.path.join(d, n)
    artifact = f("artifact") if os.path.exists(f("artifact")) else os.path.join(CASES, "a.txt")
    args = ["verify-bundle", "--bundle", f("bundle.sigstore.json")]
    if os.path.exists(f("key.pub")):
        args += ["--key", f("key.pub")]
    else:
        ident = open(f("identity")).read().strip() if os.path.exists(f("identity")) else DEF_ID
        iss = open(f("issuer")).read().strip() if os.path.exists(f("issuer")) else DEF_ISS
        args += ["--certificate-identity", ident, "--certificate-oidc-issuer", iss]
    # Both clients get the trusted root as a file, so both do the same work (read, parse, verify).
    root_file = f("trusted_root.json") if os.path.exists(f("trusted_root.json")) else PUBLIC_GOOD
    return args + ["--trusted-root", root_file, artifact]


def timed(cmd, runs, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} failed verifying the bundle:\n{r.stdout}{r.stderr}")
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env, check=True)
        samples.append(time.perf_counter() - t)
    return statistics.median(samples), min(samples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--cavra", default=os.path.join(ROOT, "target/release/cavra"))
    ap.add_argument("--verifiers", default=os.environ.get("CAVRA_VERIFIERS", ""))
    ap.add_argument("--case", default="happy-path-v0.3")
    a = ap.parse_args()
    if not os.path.exists(a.cavra):
        sys.exit(f"{a.cavra} not found: cargo build --release -p cavra")
    modules = os.path.join(a.verifiers, "js/node_modules")
    if not os.path.isdir(modules):
        sys.exit("sigstore-js not installed: bash .ci/install-verifiers.sh DIR, then --verifiers DIR")
    args = case_args(a.case)
    env = dict(os.environ, NODE_PATH=modules)
    js = ["node", os.path.join(ROOT, "bench/tools/sigstore-js-conformance.js")]
    cavra_med, cavra_min = timed([a.cavra] + args, a.runs)
    js_med, js_min = timed(js + args, a.runs, env)
    print(f"case {a.case}, {a.runs} runs each (whole process, median / best)")
    print(f"  cavra verify-bundle        {cavra_med*1000:8.1f} ms / {cavra_min*1000:6.1f} ms")
    print(f"  sigstore-js (node)         {js_med*1000:8.1f} ms / {js_min*1000:6.1f} ms")
    print(f"  ratio cavra / sigstore-js  {cavra_med/js_med:8.3f}")


if __name__ == "__main__":
    main()
