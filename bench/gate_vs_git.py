#!/usr/bin/env python3
"""Benchmark: `cavra gate` against `git diff` on a synthetic change of N files (default 100,000).

Builds a repository with `git fast-import` (base: N text files; head: every file edited, so the
change touches all N), then times, in the same run and on the same machine:
  - cavra gate --format json            (reads every blob: the baseline pack has content rules)
  - git diff -M base head               (full patch: git reads the same blobs)
  - git diff --name-status -M base head (names only)
and prints the ratios and the peak memory (RSS) of each process.

Goals (issue 2): cavra no slower than git's full patch, within 3x of git's name-only diff,
peak memory under 300 MB.

Usage: bench/gate_vs_git.py [--files N] [--runs R] [--cavra PATH] [--keep DIR]
"""
import argparse, os, shutil, subprocess, sys, tempfile, time


def fast_import(repo, files):
    """Writes the two commits through git fast-import; returns nothing (branches base, head)."""
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=repo, stdin=subprocess.PIPE)
    out = proc.stdin
    def commit(branch, message, body_of, parent=None):
        msg = message.encode()
        out.write(f"commit refs/heads/{branch}\ncommitter Bench <b@example.com> 1700000000 +0000\n".encode())
        out.write(b"data %d\n%s\n" % (len(msg), msg))
        if parent:
            out.write(f"from refs/heads/{parent}\n".encode())
        for i in range(files):
            data = body_of(i)
            out.write(f"M 100644 inline src/d{i % 1000}/file{i}.txt\n".encode())
            out.write(b"data %d\n%s\n" % (len(data), data))
    base_body = lambda i: b"".join(b"line %d of file %d: some ordinary text\n" % (n, i) for n in range(12))
    commit("base", "base", base_body)
    commit("head", "head", lambda i: base_body(i) + b"an added line in file %d\n" % i, parent="base")
    out.close()
    if proc.wait() != 0:
        sys.exit("git fast-import failed")
    subprocess.run(["git", "symbolic-ref", "HEAD", "refs/heads/head"], cwd=repo, check=True)


def measure(cmd, cwd, runs):
    """Best wall time of `runs` runs, and the largest peak RSS (MB) seen."""
    best, peak = float("inf"), 0.0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1, 2):  # cavra exits 1/2 for fail/needs-approval: still a full run
            sys.exit(f"{' '.join(cmd)} exited {code}: {proc.stderr.read().decode()}")
        best = min(best, elapsed)
        peak = max(peak, usage.ru_maxrss / 1024)
    return best, peak


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cavra", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "cavra"))
    ap.add_argument("--keep", help="build the repository here and keep it")
    args = ap.parse_args()
    cavra = os.path.abspath(args.cavra)
    if not os.access(cavra, os.X_OK):
        sys.exit(f"no cavra binary at {cavra}: run `cargo build --release -p cavra` first")
    repo = args.keep or tempfile.mkdtemp(prefix="cavra-bench-")
    os.makedirs(repo, exist_ok=True)
    try:
        subprocess.run(["git", "init", "-q", repo], check=True)
        t0 = time.perf_counter()
        fast_import(repo, args.files)
        print(f"repository: {args.files} files changed, built in {time.perf_counter() - t0:.1f}s ({repo})")
        rows = [
            ("cavra gate --format json", [cavra, "gate", "--base", "base", "--head", "head", "--format", "json"]),
            ("git diff -M (full patch)", ["git", "diff", "-M", "base", "head"]),
            ("git diff --name-status -M", ["git", "diff", "--name-status", "-M", "base", "head"]),
        ]
        results = {}
        for name, cmd in rows:
            results[name] = measure(cmd, repo, args.runs)
            print(f"  {name:<28} {results[name][0]:8.3f} s   peak RSS {results[name][1]:7.1f} MB")
        gate, patch, names = (results[n][0] for n, _ in rows)
        print(f"ratio cavra / git full patch : {gate / patch:.2f}  (goal <= 1.00)")
        print(f"ratio cavra / git name-only  : {gate / names:.2f}  (goal <= 3.00)")
        print(f"cavra peak memory            : {results[rows[0][0]][1]:.1f} MB (goal < 300 MB)")
    finally:
        if not args.keep:
            shutil.rmtree(repo, ignore_errors=True)


if __name__ == "__main__":
    main()
