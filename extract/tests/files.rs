//! The non-YAML extractors through the public entry point: Dockerfiles, package.json, Makefiles
//! and shell scripts, with the line of every step checked against the file, plus a mutation
//! fuzz test that no input makes them panic.

use cavra_extract::{Extraction, FileKind, NoFiles, Step, Via, extract};
use cavra_shell::Context;

mod common;
use cavra_testkit::fuzz::Rng;
use common::{no_errors, run};

/// (line, location, shell, script) of each step.
fn summary(e: &Extraction) -> Vec<(u32, &str, Option<&str>, &str)> {
    e.steps
        .iter()
        .map(|s| {
            (
                s.line,
                s.location.as_str(),
                s.shell.as_deref(),
                s.script.as_str(),
            )
        })
        .collect()
}

/// Every line of the step's script, without continuation characters and make/Docker
/// rewriting, is found on the file line it claims.
fn assert_lines_map(text: &str, step: &Step) {
    let lines: Vec<&str> = text.lines().collect();
    for (n, script_line) in step.script.lines().enumerate() {
        let core = script_line
            .trim_end_matches(['\\', '`', '^'])
            .trim_start_matches('\\')
            .trim();
        let at = step.line as usize + n;
        let file_line = lines.get(at - 1).copied().unwrap_or_default();
        assert!(
            file_line.contains(core),
            "{}:{at}: script line {core:?} is not on file line {file_line:?}",
            step.file
        );
    }
}

const DOCKERFILE: &str = r#"# syntax=docker/dockerfile:1.7
# A multi-stage build.
ARG GO_VERSION=1.22

FROM golang:${GO_VERSION} AS build
WORKDIR /src
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=bind,source=go.mod,target=go.mod \
    go mod download -x
COPY . .
RUN set -eux; \
    # fetch the linter
    curl -sSfL https://raw.githubusercontent.com/golangci/golangci-lint/master/install.sh \
      | sh -s -- -b /usr/local/bin v1.57.2; \
    golangci-lint run ./... && \
    CGO_ENABLED=0 go build -o /out/app ./cmd/app

FROM build AS test
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN go test ./... | tee /tmp/test.log

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/app /app
COPY <<EOF /etc/app.conf
RUN this is config text, not an instruction
EOF
RUN ["/app", "--self-check"]
RUN <<EOF
apk add --no-cache ca-certificates
wget -qO- https://example.com/setup | sh
EOF
ONBUILD RUN echo "built on top"
CMD ["/app"]
ENTRYPOINT /app --serve
"#;

#[test]
fn dockerfile() {
    let e = run(FileKind::Dockerfile, "build/Dockerfile", DOCKERFILE);
    no_errors(&e);
    assert_eq!(
        summary(&e),
        vec![
            (9, "RUN (stage build)", None, "go mod download -x"),
            (
                11,
                "RUN (stage build)",
                None,
                "set -eux; \\\n\\\n    curl -sSfL https://raw.githubusercontent.com/golangci/golangci-lint/master/install.sh \\\n      | sh -s -- -b /usr/local/bin v1.57.2; \\\n    golangci-lint run ./... && \\\n    CGO_ENABLED=0 go build -o /out/app ./cmd/app"
            ),
            (
                20,
                "RUN (stage test)",
                Some("bash"),
                "go test ./... | tee /tmp/test.log"
            ),
            (27, "RUN (stage 2)", None, "/app --self-check"),
            (
                29,
                "RUN (stage 2)",
                None,
                "apk add --no-cache ca-certificates\nwget -qO- https://example.com/setup | sh\n"
            ),
            (32, "ONBUILD RUN (stage 2)", None, "echo \"built on top\""),
        ]
    );
    for step in &e.steps {
        assert_eq!(step.context, Context::Dockerfile);
        assert_eq!(step.file, "build/Dockerfile");
        assert_eq!(step.via, Via::Direct);
        assert!(!step.lifecycle);
        if !step.script.starts_with("/app") {
            assert_lines_map(DOCKERFILE, step);
        }
    }
}

#[test]
fn containerfile_with_backtick_escape_and_heredocs() {
    let text = "# escape=`\n\
                FROM mcr.microsoft.com/windows/servercore:ltsc2022\n\
                SHELL [\"powershell\", \"-Command\", \"$ErrorActionPreference = 'Stop';\"]\n\
                RUN Invoke-WebRequest https://x/install.ps1 -OutFile i.ps1; `\n\
                \x20   .\\i.ps1 -Quiet\n\
                RUN <<-EOT pwsh\n\
                \tWrite-Host hi\n\
                \tEOT\n\
                RUN cat <<A <<'B'\n\
                a\n\
                A\n\
                b\n";
    let e = run(FileKind::Dockerfile, "Containerfile", text);
    assert_eq!(
        summary(&e),
        vec![
            (
                4,
                "RUN",
                Some("powershell"),
                "Invoke-WebRequest https://x/install.ps1 -OutFile i.ps1; `\n    .\\i.ps1 -Quiet"
            ),
            (
                6,
                "RUN",
                Some("powershell"),
                "<<-EOT pwsh\n\tWrite-Host hi\nEOT"
            ),
            (9, "RUN", Some("powershell"), "cat <<A <<'B'\na\nA\nb\n"),
        ]
    );
    assert_eq!(e.errors.len(), 1);
    assert_eq!(e.errors[0].line, 9);
    assert_eq!(e.errors[0].file, "Containerfile");
}

const PACKAGE_JSON: &str = r#"{
  "name": "@acme/widget",
  "version": "2.3.1",
  "description": "Widgets \"for\" everyone \u2728",
  "scripts": {
    "preinstall": "node -e \"if (process.env.CI) process.exit(0)\"",
    "install": "node-gyp rebuild",
    "postinstall": "curl -fsSL https://acme.example/bootstrap.sh | bash",
    "prepare": "husky",
    "build": "tsc -b && esbuild src/index.ts --bundle --outfile=dist/index.js",
    "test": "vitest run",
    "lint": "eslint . --ext .ts\t--max-warnings=0",
    "release": "npm publish --access public",
    "timeout": 30
  },
  "devDependencies": {
    "typescript": "^5.4.0"
  }
}
"#;

#[test]
fn package_json() {
    let e = run(
        FileKind::PackageJson,
        "packages/widget/package.json",
        PACKAGE_JSON,
    );
    let got: Vec<(u32, &str, bool, &str)> = e
        .steps
        .iter()
        .map(|s| (s.line, s.location.as_str(), s.lifecycle, s.script.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                6,
                "scripts.preinstall",
                true,
                "node -e \"if (process.env.CI) process.exit(0)\""
            ),
            (7, "scripts.install", true, "node-gyp rebuild"),
            (
                8,
                "scripts.postinstall",
                true,
                "curl -fsSL https://acme.example/bootstrap.sh | bash"
            ),
            (9, "scripts.prepare", true, "husky"),
            (
                10,
                "scripts.build",
                false,
                "tsc -b && esbuild src/index.ts --bundle --outfile=dist/index.js"
            ),
            (11, "scripts.test", false, "vitest run"),
            (
                12,
                "scripts.lint",
                false,
                "eslint . --ext .ts\t--max-warnings=0"
            ),
            (13, "scripts.release", false, "npm publish --access public"),
        ]
    );
    assert_eq!(e.errors.len(), 1);
    assert_eq!(e.errors[0].line, 14);
    assert!(e.errors[0].message.contains("scripts.timeout"));
    for step in &e.steps {
        assert_eq!(step.context, Context::PackageScripts);
        assert_eq!(step.shell, None);
        assert_eq!(step.file, "packages/widget/package.json");
    }
}

#[test]
fn package_json_invalid() {
    let text = "{\n  \"scripts\": {\n    \"postinstall\": \"sh evil.sh\",\n  }\n}\n";
    let e = run(FileKind::PackageJson, "package.json", text);
    assert_eq!(e.steps.len(), 1);
    assert_eq!(e.steps[0].script, "sh evil.sh");
    assert_eq!(e.errors.len(), 1);
    assert_eq!(e.errors[0].line, 4);
}

const MAKEFILE: &str = "\
# Project build
SHELL := /bin/bash
.DEFAULT_GOAL := all
GIT_SHA := $(shell git rev-parse --short HEAD)
PREFIX ?= /usr/local
Q ?= @

.PHONY: all build test install clean

all: build test

build: ## Build the binary
\t@echo \"Building $(GIT_SHA)\"
\t$(Q)go build -ldflags \"-X main.sha=$(GIT_SHA)\" \\
\t\t-o bin/app ./cmd/app

test: build
\t-go vet ./...
\tgo test -race ./... | tee test.log; exit $${PIPESTATUS[0]}

tools: ; curl -sSfL https://get.example.sh | sh -s -- -b $(PREFIX)/bin

install: build
ifeq ($(shell uname -s),Darwin)
\tinstall -m 0755 bin/app $(PREFIX)/bin/app
else
\t+install -D -m 0755 bin/app $(DESTDIR)$(PREFIX)/bin/app
endif

clean:
\trm -rf bin/ $(wildcard *.log)
";

#[test]
fn makefile() {
    let e = run(FileKind::Makefile, "Makefile", MAKEFILE);
    no_errors(&e);
    let got: Vec<(u32, &str, &str)> = e
        .steps
        .iter()
        .map(|s| (s.line, s.location.as_str(), s.script.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (4, "variable GIT_SHA", "git rev-parse --short HEAD"),
            (13, "target build", "echo \"Building ${GIT_SHA}\""),
            (
                14,
                "target build",
                "go build -ldflags \"-X main.sha=${GIT_SHA}\" \\\n\t-o bin/app ./cmd/app"
            ),
            (18, "target test", "go vet ./..."),
            (
                19,
                "target test",
                "go test -race ./... | tee test.log; exit ${PIPESTATUS[0]}"
            ),
            (
                21,
                "target tools",
                "curl -sSfL https://get.example.sh | sh -s -- -b ${PREFIX}/bin"
            ),
            (24, "$(shell)", "uname -s"),
            (
                25,
                "target install",
                "install -m 0755 bin/app ${PREFIX}/bin/app"
            ),
            (
                27,
                "target install",
                "install -D -m 0755 bin/app ${DESTDIR}${PREFIX}/bin/app"
            ),
            (31, "target clean", "rm -rf bin/ '$(wildcard *.log)'"),
        ]
    );
    for step in &e.steps {
        assert_eq!(step.context, Context::Makefile);
        assert_eq!(step.shell.as_deref(), Some("bash"));
        assert_eq!(step.via, Via::Direct);
    }
}

#[test]
fn shell_scripts() {
    let cases = [
        ("#!/usr/bin/env bash\nset -euo pipefail\n", Some("bash")),
        ("#!/bin/sh\n", Some("sh")),
        ("#!/usr/bin/env -S zsh -f\n", Some("zsh")),
        ("#!/bin/dash -e\r\n", Some("dash")),
        ("echo no shebang\n", None),
    ];
    for (text, shell) in cases {
        let e = run(FileKind::ShellScript, "scripts/ci.sh", text);
        no_errors(&e);
        assert_eq!(summary(&e), vec![(1, "script", shell, text)]);
        assert_eq!(e.steps[0].context, Context::Shell);
    }
}

#[test]
fn oversized_files_are_refused() {
    let big = vec![b'a'; cavra_extract::MAX_FILE_BYTES + 1];
    for kind in KINDS {
        let e = extract(kind, "big", &big, &NoFiles);
        assert!(e.steps.is_empty());
        assert_eq!(e.errors.len(), 1);
    }
}

const KINDS: [FileKind; 4] = [
    FileKind::Dockerfile,
    FileKind::PackageJson,
    FileKind::Makefile,
    FileKind::ShellScript,
];

/// Fragments that matter to one of the grammars.
const TOKENS: &[&[u8]] = &[
    b"\\\n",
    b"`\n",
    b"\n",
    b"\r\n",
    b"\t",
    b"RUN ",
    b"run <<EOF ",
    b"<<-'E'\n",
    b"\nEOF\n",
    b"# escape=`\n",
    b"SHELL [\"pwsh\", \"-c\"]\n",
    b"FROM x AS y\n",
    b"ONBUILD RUN ",
    b"--mount=type=cache,target=\"/a b\" ",
    b"[\"sh\", \"-c\", \"x\"]",
    b"$(",
    b"${",
    b")",
    b"$$",
    b"$(shell ",
    b"$(wildcard $(shell ",
    b":",
    b"::=",
    b" != ",
    b";",
    b"define X\n",
    b"endef\n",
    b"ifeq (a,b)\n",
    b"endif\n",
    b".RECIPEPREFIX = >\n",
    b"\"",
    b"'",
    b"\\",
    b"\\u",
    b"\\ud83d",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b"\"scripts\": {",
    b"#!",
    b"#!/usr/bin/env ",
    b"\xff",
    b"\xe2\x9c",
    b"\xef\xbb\xbf",
    b"\0",
];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(input.len() + 1);
        match rng.below(6) {
            0 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                input.splice(at..at, token.iter().copied());
            }
            1 if at < input.len() => {
                let end = (at + 1 + rng.below(16)).min(input.len());
                input.drain(at..end);
            }
            2 if at < input.len() => input[at] = rng.next() as u8,
            3 if at < input.len() => {
                let end = (at + 1 + rng.below(64)).min(input.len());
                let copy = input[at..end].to_vec();
                let to = rng.below(input.len() + 1);
                input.splice(to..to, copy);
            }
            4 => input.truncate(at),
            _ => {
                let token = TOKENS[rng.below(TOKENS.len())];
                for _ in 0..rng.below(40) {
                    input.splice(at..at, token.iter().copied());
                }
            }
        }
    }
}

fn check(kind: FileKind, input: &[u8]) {
    let e = extract(kind, "fuzz/file", input, &NoFiles);
    let lines = u32::try_from(input.split(|&b| b == b'\n').count()).unwrap_or(u32::MAX);
    for step in &e.steps {
        assert_eq!(step.file, "fuzz/file");
        assert!(
            step.line >= 1 && step.line <= lines + 1,
            "{kind:?}: step line {} of {lines} in {:?}",
            step.line,
            String::from_utf8_lossy(input)
        );
        assert!(!step.location.is_empty());
    }
    for error in &e.errors {
        assert_eq!(error.file, "fuzz/file");
        assert!(error.line <= lines + 1, "{kind:?}: error {error:?}");
    }
}

#[test]
fn mutated_inputs_never_panic() {
    let rounds = cavra_testkit::fuzz::rounds(3000);
    let seeds: [&[u8]; 4] = [
        DOCKERFILE.as_bytes(),
        PACKAGE_JSON.as_bytes(),
        MAKEFILE.as_bytes(),
        b"#!/bin/bash\nset -e\ncurl x | sh\n",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..rounds {
        let mut input = seeds[round % seeds.len()].to_vec();
        mutate(&mut rng, &mut input);
        for kind in KINDS {
            check(kind, &input);
        }
    }
    // Inputs built from tokens alone, and pathological shapes.
    for _ in 0..rounds / 4 {
        let mut input = Vec::new();
        for _ in 0..rng.below(60) {
            input.extend_from_slice(TOKENS[rng.below(TOKENS.len())]);
        }
        for kind in KINDS {
            check(kind, &input);
        }
    }
    let deep = format!("all:\n\t{}x{}\n", "$(strip ".repeat(5000), ")".repeat(5000));
    let backslashes = format!("RUN {}\n", "\\".repeat(100_001));
    let nested = format!("{{\"scripts\": {}}}", "[".repeat(100_000));
    for input in [deep.as_str(), backslashes.as_str(), nested.as_str()] {
        for kind in KINDS {
            check(kind, input.as_bytes());
        }
    }
}

/// (file line, program) of every command the shell parser finds in the steps.
fn commands(e: &Extraction) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for step in &e.steps {
        let parsed = cavra_shell::parse(&step.script, &step.parse_options());
        for command in parsed.commands {
            out.push((step.line + command.line - 1, command.program));
        }
    }
    out
}

#[test]
fn the_shell_parser_attributes_commands_to_file_lines() {
    let docker = commands(&run(FileKind::Dockerfile, "Dockerfile", DOCKERFILE));
    let make = commands(&run(FileKind::Makefile, "Makefile", MAKEFILE));
    let expected = [
        (
            &docker,
            [
                (9, "go"),
                (13, "curl"),
                (14, "sh"),
                (16, "go"),
                (30, "wget"),
            ],
        ),
        (
            &make,
            [
                (4, "git"),
                (14, "go"),
                (19, "tee"),
                (21, "curl"),
                (24, "uname"),
            ],
        ),
    ];
    for (found, wanted) in expected {
        for (line, program) in wanted {
            assert!(
                found.iter().any(|(l, p)| *l == line && p == program),
                "no `{program}` at line {line} in {found:?}"
            );
        }
    }
}
