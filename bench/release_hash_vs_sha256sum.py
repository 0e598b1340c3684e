#!/usr/bin/env python3
"""cavra-release digest_files (SHA-256 *and* SHA-512, parallel) against coreutils sha256sum.

Creates N files totalling --size bytes in a temp dir (default 2G; --size 256M for a quick run),
builds the `digest` bench target of cavra-release, then hashes the files with `sha256sum` and with
the bench binary (once with one thread, once with --threads, default all cores) in the same run.
The page cache is warmed first so both read from memory. Prints times, the ratio to sha256sum
(goal: <= 1.2) and the peak RSS (goal: < 100 MB), from /usr/bin/time -v when present and from
the binary's own VmHWM.

    python3 bench/release_hash_vs_sha256sum.py --size 256M
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def parse_size(s):
    m = re.fullmatch(r"(\d+)([KMG]?)", s.strip().upper())
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {s}")
    return int(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2)]


def build_bench():
    out = subprocess.run(
        ["cargo", "bench", "-p", "cavra-release", "--bench", "digest", "--no-run",
         "--message-format=json"],
        cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "digest" \
                and msg.get("executable"):
            return msg["executable"]
    sys.exit("could not find the digest bench executable")


def timed(cmd, env=None):
    """(seconds, peak RSS in KiB or None, stdout)"""
    full = [GNU_TIME, "-v"] + cmd if GNU_TIME else cmd
    start = time.perf_counter()
    p = subprocess.run(full, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    secs = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed: {p.stderr}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return secs, int(m.group(1)) if m else None, p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=parse_size, default=parse_size("2G"))
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=2, help="runs of each tool; the best is kept")
    args = ap.parse_args()

    exe = build_bench()
    tmp = tempfile.mkdtemp(prefix="cavra-hash-bench-")
    try:
        per = args.size // args.files
        paths = []
        chunk = os.urandom(1 << 20)
        for i in range(args.files):
            p = os.path.join(tmp, f"artifact-{i}.bin")
            with open(p, "wb") as f:
                left = per
                while left:
                    n = min(left, len(chunk))
                    f.write(chunk[:n])
                    left -= n
            paths.append(p)
        total = per * args.files
        subprocess.run(["cat"] + paths, stdout=subprocess.DEVNULL, check=True)  # warm the cache

        def best(cmd, env=None):
            runs = [timed(cmd, env) for _ in range(args.repeat)]
            return min(runs, key=lambda r: r[0])

        sha_s, sha_rss, _ = best(["sha256sum"] + paths)
        results = {}
        for threads in sorted({1, args.threads}):
            env = dict(os.environ, CAVRA_DIGEST_FILES="\n".join(paths),
                       CAVRA_DIGEST_THREADS=str(threads))
            secs, rss, out = best([exe], env)
            results[threads] = (secs, rss, json.loads(out.strip().splitlines()[-1]))

        mb = total / 1e6
        print(f"{args.files} files, {total / (1 << 20):.0f} MiB in all, cores: {os.cpu_count()}")
        print(f"sha256sum (coreutils, sha256 only, 1 thread): {sha_s:7.3f} s  {mb / sha_s:7.1f} MB/s"
              f"  peak RSS {sha_rss or '?'} KiB")
        for threads, (secs, rss, inner) in results.items():
            ratio = secs / sha_s
            print(f"cavra digest_files (sha256+sha512, {threads} thread{'s' if threads > 1 else ''}):"
                  f" {secs:7.3f} s  {mb / secs:7.1f} MB/s  ratio {ratio:.2f}x"
                  f" ({'meets' if ratio <= 1.2 else 'misses'} the 1.2x goal)"
                  f"  peak RSS {rss or '?'} KiB (VmHWM {inner['vm_hwm_kib']} KiB,"
                  f" {'meets' if max(rss or 0, inner['vm_hwm_kib']) < 100_000 else 'misses'} the 100 MB goal)")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
