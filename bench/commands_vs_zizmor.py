#!/usr/bin/env python3
"""Commands benchmark: cavra's extraction + evaluation over the CI corpus, and its whole gate over
a change that adds the corpus, against `zizmor --offline` over the GitHub workflows alone.

Usage: bench/commands_vs_zizmor.py [--copies N] [--runs R] [--cavra PATH]

The corpus is `extract/tests/fixtures/ci-corpora` (GitHub, GitLab and Azure files), copied N times
(default 10) into a fresh git repository: the base commit holds a README, the head commit adds
every file. GitHub workflows go to .github/workflows/, GitLab files to gitlab/ (plus a root
.gitlab-ci.yml), Azure templates to azure/azure-pipelines-*.yml (their `{{ x }}` placeholders
substituted as the reference counter does).

Measured, best of R runs each, in the same run:
  - `cavra commands --judge FILE...` over every corpus file: files/s and commands/s;
  - `cavra gate --base HEAD~1 --format json` over the head commit (the whole gate: diff, paths,
    extraction, shell parsing, diff-aware comparison, policy);
  - `zizmor --offline .github/workflows` (PyPI `zizmor`) over the same GitHub workflows only
    (zizmor 1.32 refuses some of the schemastore test workflows, so those stay out of its run).
Prints the ratios cavra-gate / zizmor and cavra-commands / zizmor (below 1.0: cavra is faster).
"""
import json, os, re, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "extract", "tests", "fixtures", "ci-corpora")
args = sys.argv[1:]
def opt(name, default):
    if name in args:
        i = args.index(name); v = args[i + 1]; del args[i:i + 2]; return v
    return default
copies = int(opt("--copies", "10"))
runs = int(opt("--runs", "5"))
cavra = opt("--cavra", os.path.join(ROOT, "target", "release", "cavra"))

def git(cwd, *a):
    subprocess.run(["git", *a], cwd=cwd, check=True, stdout=subprocess.DEVNULL)

def best(cmd, cwd, ok=(0,)):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
        if p.returncode not in ok:
            sys.exit(f"{' '.join(cmd[:3])}... exited {p.returncode}")
    return min(times), p.stdout

def main():
    if not os.path.exists(cavra):
        subprocess.run(["cargo", "build", "--release", "--locked", "-q", "-p", "cavra"], cwd=ROOT, check=True)
    zizmor = shutil.which("zizmor")
    work = tempfile.mkdtemp(prefix="cavra-bench-")
    try:
        repo = os.path.join(work, "repo")
        os.makedirs(repo)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "config", "user.email", "bench@example.com")
        git(repo, "config", "user.name", "bench")
        open(os.path.join(repo, "README.md"), "w").write("bench\n")
        git(repo, "add", "-A"); git(repo, "commit", "-q", "-m", "base")
        files, workflows = [], 0
        def put(rel, data):
            path = os.path.join(repo, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "wb").write(data)
            files.append(rel)
        for n in range(copies):
            for folder, target in [("github/zizmor-sample-workflows", ".github/workflows"),
                                   ("github/schemastore/test", ".github/workflows")]:
                for name in sorted(os.listdir(os.path.join(CORPUS, folder))):
                    if name.endswith((".yml", ".yaml")):
                        data = open(os.path.join(CORPUS, folder, name), "rb").read()
                        prefix = "z" if "zizmor" in folder else "s"
                        put(f"{target}/{prefix}{n:02}-{name}", data)
                        workflows += prefix == "z"
            for name in sorted(os.listdir(os.path.join(CORPUS, "gitlab/socialgouv"))):
                if name.endswith(".yml"):
                    data = open(os.path.join(CORPUS, "gitlab/socialgouv", name), "rb").read()
                    put(f"gitlab/{n:02}/{name.lstrip('.')}", data)
            for name in sorted(os.listdir(os.path.join(CORPUS, "azure/azure-pipelines-yaml-templates"))):
                if name.endswith(".yml"):
                    data = open(os.path.join(CORPUS, "azure/azure-pipelines-yaml-templates", name), "rb").read()
                    data = re.sub(rb"(?<!\$)\{\{\s*[\w.-]+\s*\}\}", b"PLACEHOLDER", data)
                    put(f"azure/{n:02}/azure-pipelines-{name}", data)
        git(repo, "add", "-A"); git(repo, "commit", "-q", "-m", "head: add the corpus")

        t_cmd, out = best([cavra, "commands", "--judge", "--json", *files], repo, ok=(0, 1, 2))
        doc = json.loads(out)
        n_commands = len(doc["commands"])
        t_gate, out = best([cavra, "gate", "--base", "HEAD~1", "--format", "json"], repo, ok=(0, 1, 2))
        verdict = json.loads(out)
        n_findings = verdict["counts"]["findings"]
        print(f"corpus: {len(files)} files ({copies} copies), {workflows} zizmor-sample workflows; "
              f"{n_commands} commands; gate findings {n_findings}")
        print(f"cavra commands --judge : {t_cmd*1000:8.1f} ms  {len(files)/t_cmd:9.0f} files/s  {n_commands/t_cmd:9.0f} commands/s")
        print(f"cavra gate (whole)     : {t_gate*1000:8.1f} ms  {len(files)/t_gate:9.0f} files/s  {n_commands/t_gate:9.0f} commands/s")
        if zizmor:
            only = os.path.join(work, "zizmor")
            os.makedirs(os.path.join(only, ".github", "workflows"))
            for f in files:
                if os.path.basename(f).startswith("z") and f.startswith(".github/workflows/"):
                    shutil.copy(os.path.join(repo, f), os.path.join(only, ".github", "workflows"))
            t_z, _ = best([zizmor, "--offline", "--no-progress", ".github/workflows"], only, ok=(0, 10, 11, 12, 13, 14))
            print(f"zizmor --offline       : {t_z*1000:8.1f} ms  {workflows/t_z:9.0f} files/s  (workflows only: {workflows})")
            print(f"ratio gate/zizmor      : {t_gate/t_z:.3f}  (below 1: cavra's whole gate over the whole corpus is faster)")
            print(f"ratio commands/zizmor  : {t_cmd/t_z:.3f}")
        else:
            print("zizmor not found: `pip install zizmor` for the reference line")
    finally:
        shutil.rmtree(work, ignore_errors=True)

main()
