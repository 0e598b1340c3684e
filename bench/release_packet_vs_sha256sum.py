#!/usr/bin/env python3
"""`cavra release build` and `cavra release verify` against coreutils `sha256sum` over the same files.

Creates --files artifact files totalling --total-mib MiB (default 2048 over 8 files) in a temp dir
(each MiB is one random block with a counter stamped in, so no two MiB are alike), a signing key
(`cavra keys generate`), then times, best of --repeat runs each, in the same run:
  - sha256sum FILES                                   (reference, one process)
  - sha256sum over the files in parallel (xargs -P nproc, one file per process)
  - cavra release build --name bench --version 1 --artifact ... --key k.key --out PKT
    (PKT deleted between runs; the build copies every artifact into PKT, then hashes the copies
    with SHA-256 and SHA-512)
  - cavra release verify PKT --key k.pub              (SHA-256 and SHA-512 of every file, checks)
  - cavra release verify PKT.tar.gz --key k.pub       (PKT.tar.gz from one `build --tar`; verify
    extracts it into a temporary directory first, so it is reported separately)
plus two references for the build's phases: `cp FILES DIR` (the copy) and `sha512sum FILES`.
The page cache cannot be dropped here: every command runs with the files warm in memory.

Prints seconds, the ratios to serial and to parallel sha256sum, and each command's peak RSS (from
`/usr/bin/time -f %M` when present, else os.wait4 on that one process), then the goals: verify within 1.2x of sha256sum, peak memory of
every cavra run under 100 MiB. Exits 0 whatever the goals say; 1 when a command fails (with its
stderr). The temp dir is removed at the end, also on error or Ctrl-C.

    python3 bench/release_packet_vs_sha256sum.py --total-mib 64     # quick check
    python3 bench/release_packet_vs_sha256sum.py                    # 2 GiB, 8 files
    python3 bench/release_packet_vs_sha256sum.py --binary target/release/cavra --repeat 5
"""

import argparse
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIB = 1 << 20
NPROC = os.cpu_count() or 1
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


class Failed(Exception):
    """A measured command exited non-zero."""


CURRENT = []  # the command being measured (its own process group), killed if we are interrupted


def run_once(cmd, cwd=None, env=None, out_dir=None):
    """Runs cmd once: (seconds, peak RSS in MiB). stdout/stderr go to files in out_dir (no pipe
    to fill); a non-zero exit raises Failed. The peak RSS comes from `/usr/bin/time -f %M` when
    present: os.wait4's ru_maxrss of a child forked from this Python process never reads below
    Python's own RSS (the high-water mark survives exec), while GNU time's children start small.
    Without GNU time, os.wait4 on the child is used and the floor is said in the output."""
    out_path = os.path.join(out_dir, "last.stdout")
    err_path = os.path.join(out_dir, "last.stderr")
    rss_path = os.path.join(out_dir, "last.rss")
    full = [GNU_TIME, "-o", rss_path, "-f", "%M"] + cmd if GNU_TIME else cmd
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(full, cwd=cwd, env=env, stdout=out, stderr=err,
                                start_new_session=True)
        CURRENT[:] = [proc]
        _, status, usage = os.wait4(proc.pid, 0)
        CURRENT.clear()
        secs = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen quiet
    if proc.returncode != 0:
        with open(out_path, "rb") as f:
            stdout = f.read().decode(errors="replace")
        with open(err_path, "rb") as f:
            stderr = f.read().decode(errors="replace")
        raise Failed(f"{' '.join(cmd[:4])} ... exited {proc.returncode}\n"
                     f"--- stderr ---\n{stderr}--- stdout ---\n{stdout}")
    kib = usage.ru_maxrss  # KiB on Linux
    if GNU_TIME:
        with open(rss_path) as f:
            kib = int(f.read().split()[-1])
    return secs, kib / 1024


def best(cmd, repeat, before=None, **kw):
    """Best time of `repeat` runs and the largest peak RSS seen; `before()` runs untimed first."""
    times, peak = [], 0.0
    for _ in range(repeat):
        if before:
            before()
        secs, rss = run_once(cmd, **kw)
        times.append(secs)
        peak = max(peak, rss)
    return min(times), peak


def make_artifacts(d, files, total_mib):
    """`files` files of about total_mib/files MiB each; every MiB is a random block with a
    counter in its first 8 bytes (fast to write, no two MiB equal, not compressible)."""
    block = bytearray(os.urandom(MIB))
    per = total_mib * MIB // files
    paths, n = [], 0
    for i in range(files):
        p = os.path.join(d, f"artifact-{i}.bin")
        with open(p, "wb") as f:
            left = per
            while left:
                block[:8] = struct.pack("<Q", n)
                n += 1
                k = min(left, MIB)
                f.write(block if k == MIB else block[:k])
                left -= k
        paths.append(p)
    return paths, per * files


def find_binary(path):
    if path:
        exe = os.path.abspath(path)
        if not os.access(exe, os.X_OK):
            sys.exit(f"--binary {path}: not an executable file")
        return exe
    exe = os.path.join(ROOT, "target", "release", "cavra")
    if not os.access(exe, os.X_OK):
        print("no target/release/cavra: running `cargo build --release -p cavra` ...", flush=True)
        subprocess.run(["cargo", "build", "--release", "-p", "cavra"], cwd=ROOT, check=True)
    return exe


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--total-mib", type=int, default=2048, help="MiB of artifacts in all (default 2048)")
    ap.add_argument("--files", type=int, default=8, help="artifact files (default 8)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each command; the best is kept (default 3)")
    ap.add_argument("--binary", help="the cavra binary (default target/release/cavra, built if missing)")
    args = ap.parse_args()
    if args.files < 1 or args.total_mib < args.files or args.repeat < 1:
        sys.exit("need --files >= 1, --total-mib >= --files and --repeat >= 1")
    cavra = find_binary(args.binary)

    # Terminate cleanly (and remove the temp dir) on SIGTERM as on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = tempfile.mkdtemp(prefix="cavra-packet-bench-", dir="/tmp")
    try:
        # Artifacts, the packet (a copy), PKT.tar.gz and verify's extraction of it are on disk at
        # once: about 4x the artifacts. Shrink to what fits rather than fill the disk.
        free_mib = shutil.disk_usage(tmp).free // MIB
        fits = (free_mib - 2048) // 4
        if fits < args.total_mib:
            if fits < args.files:
                sys.exit(f"only {free_mib} MiB free under /tmp: not enough for a run")
            print(f"NOTE: {free_mib} MiB free under /tmp; about 4x the artifacts are needed at once: "
                  f"running with --total-mib {fits} instead of {args.total_mib}")
            args.total_mib = fits
        return bench(cavra, tmp, args)
    except Failed as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        for proc in CURRENT:  # interrupted mid-measurement: stop that command before cleaning up
            os.killpg(proc.pid, signal.SIGKILL)
            os.waitpid(proc.pid, 0)
        shutil.rmtree(tmp, ignore_errors=True)


def bench(cavra, tmp, args):
    src = os.path.join(tmp, "src")
    os.makedirs(src)
    t0 = time.perf_counter()
    paths, total = make_artifacts(src, args.files, args.total_mib)
    gen_secs = time.perf_counter() - t0
    key = os.path.join(tmp, "k")
    run_once([cavra, "keys", "generate", "--out", key], out_dir=tmp)
    subprocess.run(["cat"] + paths, stdout=subprocess.DEVNULL, check=True)  # warm the cache

    # verify's tarball extraction goes to $TMPDIR: keep it inside our temp dir.
    env = dict(os.environ, TMPDIR=tmp)
    kw = dict(out_dir=tmp, env=env, cwd=tmp)
    pkt = os.path.join(tmp, "pkt")
    copy_dir = os.path.join(tmp, "copy")

    def rm(p):
        return lambda: shutil.rmtree(p, ignore_errors=True)

    def rm_copy():
        shutil.rmtree(copy_dir, ignore_errors=True)
        os.makedirs(copy_dir)

    build_cmd = [cavra, "release", "build", "--name", "bench", "--version", "1"]
    for p in paths:
        build_cmd += ["--artifact", p]
    build_cmd += ["--key", key + ".key", "--out", pkt]

    rows = []  # (label, seconds, peak MiB, is cavra)
    rows.append(("sha256sum FILES", *best(["sha256sum"] + paths, args.repeat, **kw), False))
    par = ["sh", "-c", f'printf "%s\\0" "$@" | xargs -0 -P {NPROC} -n 1 sha256sum', "sh"] + paths
    rows.append((f"sha256sum, xargs -P {NPROC}", *best(par, args.repeat, **kw), False))
    rows.append(("sha512sum FILES (ref)", *best(["sha512sum"] + paths, args.repeat, **kw), False))
    rows.append(("cp FILES DIR (ref)", *best(["cp"] + paths + [copy_dir], args.repeat, before=rm_copy, **kw), False))
    rm(copy_dir)()
    rows.append(("cavra release build", *best(build_cmd, args.repeat, before=rm(pkt), **kw), True))
    verify_row = ("cavra release verify DIR",
                  *best([cavra, "release", "verify", pkt, "--key", key + ".pub"], args.repeat, **kw), True)
    rows.append(verify_row)

    # The tarball: built once (timed, for information), then the packet directory is removed.
    tpkt = os.path.join(tmp, "tpkt")
    tar_cmd = build_cmd[:-1] + [tpkt, "--tar"]
    rm(pkt)()
    rows.append(("cavra release build --tar (1 run)", *run_once(tar_cmd, **kw), True))
    rm(tpkt)()
    tarball = tpkt + ".tar.gz"
    tar_mib = os.path.getsize(tarball) / MIB
    rows.append(("cavra release verify .tar.gz", *best([cavra, "release", "verify", tarball, "--key", key + ".pub"],
                                                        args.repeat, **kw), True))

    sha, sha_par = rows[0][1], rows[1][1]
    print(f"{args.files} files, {total / MIB:.0f} MiB in all (generated in {gen_secs:.1f} s), "
          f"cores: {NPROC}, best of {args.repeat}; PKT.tar.gz {tar_mib:.0f} MiB")
    print("page cache: WARM for every command (dropping it is not possible here); "
          "cavra build writes a full copy of the artifacts each run")
    if GNU_TIME:
        print("peak RSS: /usr/bin/time -f %M (max over the process and the children it waited for)")
    else:
        floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS: os.wait4 ru_maxrss (no /usr/bin/time); it cannot read below this Python's "
              f"own {floor:.1f} MiB, inherited at fork")
    print(f"{'command':<36} {'seconds':>8} {'MB/s':>8} {'x sha256sum':>12} {'x parallel':>11} {'peak RSS MiB':>13}")
    for label, secs, rss, _ in rows:
        print(f"{label:<36} {secs:8.3f} {total / 1e6 / secs:8.1f} {secs / sha:12.2f} {secs / sha_par:11.2f} {rss:13.1f}")
    ratio = verify_row[1] / sha
    print(f"verify within 1.2x of sha256sum: {'yes' if ratio <= 1.2 else 'no'} ({ratio:.2f})"
          f"  [vs parallel sha256sum: {verify_row[1] / sha_par:.2f}]")
    peak_label, _, peak, _ = max((r for r in rows if r[3]), key=lambda r: r[2])
    print(f"peak memory under 100 MiB: {'yes' if peak < 100 else 'no'} "
          f"(largest: {peak:.1f} MiB, {peak_label})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
