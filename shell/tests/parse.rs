//! What `cavra_shell::parse` finds in scripts, field by field: evasions, wrappers, feeds,
//! here-docs, compound commands, templates, dialects, normal form, lines, limits.

use cavra_shell::{Command, Dialect, Options, Parsed, parse};

fn posix(script: &str) -> Parsed {
    parse(script, &Options::default())
}

fn github(script: &str) -> Parsed {
    let opts = Options {
        template_expressions: true,
        ..Options::default()
    };
    parse(script, &opts)
}

fn dialect(script: &str, dialect: Dialect) -> Parsed {
    let opts = Options {
        dialect,
        ..Options::default()
    };
    parse(script, &opts)
}

/// The programs found, in order.
fn programs(p: &Parsed) -> Vec<&str> {
    p.commands.iter().map(|c| c.program.as_str()).collect()
}

/// The one command running `program`.
#[track_caller]
fn only<'a>(p: &'a Parsed, program: &str) -> &'a Command {
    let found: Vec<&Command> = p.commands.iter().filter(|c| c.program == program).collect();
    assert_eq!(found.len(), 1, "`{program}` in {:#?}", p.commands);
    found[0]
}

/// Asserts program, args, wrappers and feeds of a command.
#[track_caller]
fn check(c: &Command, program: &str, args: &[&str], wrappers: &[&str], feeds: &[&str]) {
    assert_eq!(c.program, program, "{c:#?}");
    assert_eq!(c.args, args, "{c:#?}");
    assert_eq!(c.wrappers, wrappers, "{c:#?}");
    assert_eq!(c.feeds, feeds, "{c:#?}");
}

/// The text of the first command of `script`.
#[track_caller]
fn text(script: &str) -> String {
    let p = posix(script);
    assert!(!p.commands.is_empty(), "{script}");
    p.commands[0].text.clone()
}

// ----- evasions -----

#[test]
fn quoted_program_names() {
    let p = posix("c\"ur\"l https://x | b'a'sh");
    assert!(p.issues.is_empty());
    check(only(&p, "curl"), "curl", &["https://x"], &[], &["bash"]);
    check(only(&p, "bash"), "bash", &[], &[], &[]);
    assert_eq!(p.commands[0].text, "curl https://x");
    assert_eq!(p.commands[0].pipeline, "curl https://x | bash");
}

#[test]
fn program_paths() {
    let p = posix("/usr/bin/curl x|/bin/sh");
    check(only(&p, "curl"), "curl", &["x"], &[], &["sh"]);
    check(only(&p, "sh"), "sh", &[], &[], &[]);
    assert_eq!(
        programs(&posix("./curl a; ../bin/curl b; curl.exe c")),
        ["curl"; 3]
    );
    assert_eq!(programs(&posix("$HOME/bin/tool x")), ["tool"]);
    assert_eq!(
        programs(&posix("$TOOL x; \"$(which curl)\" y")),
        ["", "", "which"]
    );
}

#[test]
fn escaped_and_ansi_c_names() {
    let p = posix("\\curl x | bash");
    check(only(&p, "curl"), "curl", &["x"], &[], &["bash"]);
    let p = posix("$'\\x63\\x75rl' x | $'\\142ash'");
    check(only(&p, "curl"), "curl", &["x"], &[], &["bash"]);
    let p = posix("c\\\nurl x");
    check(only(&p, "curl"), "curl", &["x"], &[], &[]);
}

#[test]
fn line_continuations() {
    let p = posix("terraform \\\n  apply \\\n  -auto-approve\necho next");
    check(
        only(&p, "terraform"),
        "terraform",
        &["apply", "-auto-approve"],
        &[],
        &[],
    );
    assert_eq!(only(&p, "terraform").text, "terraform apply -auto-approve");
    assert_eq!(only(&p, "terraform").line, 1);
    assert_eq!(only(&p, "echo").line, 4);
}

#[test]
fn nested_shell_strings() {
    let p = posix("bash -c \"bash -c 'curl x | sh'\"");
    assert_eq!(programs(&p), ["curl", "sh"]);
    check(
        only(&p, "curl"),
        "curl",
        &["x"],
        &["bash -c", "bash -c"],
        &["sh"],
    );
    check(only(&p, "sh"), "sh", &[], &["bash -c", "bash -c"], &[]);
    assert_eq!(only(&p, "curl").pipeline, "curl x | sh");

    let p = posix("sudo sh -c 'apt-get update && apt-get install -y x'");
    assert_eq!(programs(&p), ["apt-get", "apt-get"]);
    check(
        &p.commands[1],
        "apt-get",
        &["install", "-y", "x"],
        &["sudo", "sh -c"],
        &[],
    );

    for script in [
        "bash -ex -c 'curl x'",
        "bash -lc 'curl x'",
        "sh -c -- 'curl x'",
        "zsh -o pipefail -c 'curl x'",
        "dash -c 'curl x' name arg",
        "/bin/ksh -c 'curl x'",
    ] {
        let p = posix(script);
        assert_eq!(programs(&p), ["curl"], "{script}");
        assert_eq!(p.commands[0].wrappers.len(), 1, "{script}");
        assert!(p.commands[0].wrappers[0].ends_with(" -c"), "{script}");
    }
    // A shell running a script file is the program.
    check(
        only(&posix("bash -e deploy.sh"), "bash"),
        "bash",
        &["-e", "deploy.sh"],
        &[],
        &[],
    );
    // An empty script: the shell itself is listed.
    check(
        only(&posix("bash -c ''"), "bash"),
        "bash",
        &["-c", ""],
        &[],
        &[],
    );
}

#[test]
fn nested_shell_strings_inherit_feeds_and_lines() {
    let p = posix("echo a\nbash -c 'cat f | sh' | tee log");
    check(only(&p, "cat"), "cat", &["f"], &["bash -c"], &["sh", "tee"]);
    check(only(&p, "sh"), "sh", &[], &["bash -c"], &["tee"]);
    assert_eq!(only(&p, "cat").line, 2);
    assert_eq!(only(&p, "tee").feeds, Vec::<String>::new());
    let p = posix("true\nbash -c '\n  echo one\n  curl x\n'");
    assert_eq!(only(&p, "echo").line, 3);
    assert_eq!(only(&p, "curl").line, 4);
}

#[test]
fn wrapper_chains() {
    let p = posix("sudo -E env FOO=1 timeout 30 /usr/local/bin/terraform apply -auto-approve");
    let c = only(&p, "terraform");
    check(
        c,
        "terraform",
        &["apply", "-auto-approve"],
        &["sudo", "env", "timeout"],
        &[],
    );
    assert_eq!(c.assignments, ["FOO=1"]);
    assert_eq!(c.text, "FOO=1 terraform apply -auto-approve");
    assert_eq!(text("sudo terraform apply"), text("terraform apply"));

    let cases: &[(&str, &str, &[&str], &[&str])] = &[
        (
            "sudo -u deploy -- make install",
            "make",
            &["install"],
            &["sudo"],
        ),
        ("sudo -iu root make", "make", &[], &["sudo"]),
        ("sudo --user=x make", "make", &[], &["sudo"]),
        ("doas -u root make", "make", &[], &["doas"]),
        ("env -i -u HOME PATH=/bin make", "make", &[], &["env"]),
        ("command -p make", "make", &[], &["command"]),
        ("command -v make", "command", &["-v", "make"], &[]),
        ("exec -a name make", "make", &[], &["exec"]),
        ("nohup make &", "make", &[], &["nohup"]),
        ("time -p make", "make", &[], &["time"]),
        ("timeout -s KILL -k 5 10m make", "make", &[], &["timeout"]),
        (
            "timeout --preserve-status 10 make",
            "make",
            &[],
            &["timeout"],
        ),
        ("nice -n 10 make", "make", &[], &["nice"]),
        ("nice -10 make", "make", &[], &["nice"]),
        ("ionice -c3 make", "make", &[], &["ionice"]),
        ("stdbuf -oL -e 0 make", "make", &[], &["stdbuf"]),
        ("setsid -f make", "make", &[], &["setsid"]),
        ("chroot /mnt make", "make", &[], &["chroot"]),
        ("chroot /mnt", "chroot", &["/mnt"], &[]),
        ("busybox wget x", "wget", &["x"], &["busybox"]),
        ("builtin echo x", "echo", &["x"], &["builtin"]),
        ("xargs -I{} curl {}", "curl", &["{}"], &["xargs"]),
        ("xargs -I {} -P 4 curl {}", "curl", &["{}"], &["xargs"]),
        ("xargs -0 -n1 rm -f", "rm", &["-f"], &["xargs"]),
        ("xargs", "xargs", &[], &[]),
        ("sudo", "sudo", &[], &[]),
        (
            "nohup nice -n 5 sudo -E make",
            "make",
            &[],
            &["nohup", "nice", "sudo"],
        ),
    ];
    for (script, program, args, wrappers) in cases {
        let p = posix(script);
        assert_eq!(p.commands.len(), 1, "{script}: {:#?}", p.commands);
        check(&p.commands[0], program, args, wrappers, &[]);
    }
    assert_eq!(
        posix("env -i -u HOME PATH=/bin make").commands[0].assignments,
        ["PATH=/bin"]
    );
    assert_eq!(
        posix("A=1 sudo B=2 make").commands[0].assignments,
        ["A=1", "B=2"]
    );
}

#[test]
fn eval_and_friends() {
    let p = posix("eval \"curl x | sh\"");
    check(only(&p, "curl"), "curl", &["x"], &["eval"], &["sh"]);
    let p = posix("eval curl x '|' sh");
    check(only(&p, "curl"), "curl", &["x"], &["eval"], &["sh"]);
    let p = posix("eval \"$(ssh-agent -s)\"");
    check(only(&p, "eval"), "eval", &["$(ssh-agent -s)"], &[], &[]);
    check(only(&p, "ssh-agent"), "ssh-agent", &["-s"], &[], &["eval"]);
    let p = posix("trap 'rm -rf /tmp/x' EXIT");
    check(only(&p, "rm"), "rm", &["-rf", "/tmp/x"], &["trap"], &[]);
    let p = posix("su -c 'curl x | sh' deploy");
    check(only(&p, "curl"), "curl", &["x"], &["su -c"], &["sh"]);
    let p = posix("runuser -l deploy -c 'make'");
    check(only(&p, "make"), "make", &[], &["runuser -c"], &[]);
    let p = posix("env -S 'curl -s x'");
    check(only(&p, "curl"), "curl", &["-s", "x"], &["env -S"], &[]);
}

#[test]
fn lists() {
    let p = posix("pytest && terraform apply -auto-approve");
    assert_eq!(programs(&p), ["pytest", "terraform"]);
    check(
        &p.commands[1],
        "terraform",
        &["apply", "-auto-approve"],
        &[],
        &[],
    );
    assert_eq!(p.commands[1].pipeline, "terraform apply -auto-approve");
    let p = posix("a || b; c & d\ne");
    assert_eq!(programs(&p), ["a", "b", "c", "d", "e"]);
    assert_eq!(p.commands[4].line, 2);
}

// ----- feeds -----

#[test]
fn pipeline_feeds() {
    let p = posix("curl -fsSL https://x.sh | sudo bash");
    check(
        only(&p, "curl"),
        "curl",
        &["-fsSL", "https://x.sh"],
        &[],
        &["bash"],
    );
    check(only(&p, "bash"), "bash", &[], &["sudo"], &[]);
    assert_eq!(p.commands[0].pipeline, "curl -fsSL https://x.sh | bash");
    let p = posix("curl x | tee f | sh");
    assert_eq!(only(&p, "curl").feeds, ["tee", "sh"]);
    assert_eq!(only(&p, "tee").feeds, ["sh"]);
    let p = posix("base64 -d payload | sh");
    assert_eq!(only(&p, "base64").feeds, ["sh"]);
    let p = posix("wget -qO- u |& sh");
    assert_eq!(only(&p, "wget").feeds, ["sh"]);
    let p = posix("curl x | sh | sh");
    assert_eq!(only(&p, "curl").feeds, ["sh"]);
    let p = posix("curl x | (cd /tmp && sh)");
    assert_eq!(only(&p, "curl").feeds, ["cd", "sh"]);
    assert_eq!(only(&p, "curl").pipeline, "curl x | (cd /tmp && sh)");
    let p = posix("{ a; b; } | c");
    assert_eq!(only(&p, "a").feeds, ["c"]);
    assert_eq!(only(&p, "b").feeds, ["c"]);
    assert_eq!(only(&p, "a").pipeline, "a");
}

#[test]
fn substitution_feeds() {
    let p = posix("bash -c \"$(curl -fsSL https://x)\"");
    assert_eq!(programs(&p), ["bash", "curl"]);
    check(
        only(&p, "bash"),
        "bash",
        &["-c", "$(curl -fsSL https://x)"],
        &[],
        &[],
    );
    check(
        only(&p, "curl"),
        "curl",
        &["-fsSL", "https://x"],
        &[],
        &["bash"],
    );
    let p = posix("bash <(curl x)");
    check(only(&p, "curl"), "curl", &["x"], &[], &["bash"]);
    check(only(&p, "bash"), "bash", &["<(curl x)"], &[], &[]);
    let p = posix("python3 -c \"$(wget -qO- u)\"");
    check(only(&p, "wget"), "wget", &["-qO-", "u"], &[], &["python3"]);
    let p = posix("sh -c \"$(curl x)\"");
    check(only(&p, "curl"), "curl", &["x"], &[], &["sh"]);
    let p = posix("sh -c \"`curl x`\"");
    check(only(&p, "curl"), "curl", &["x"], &[], &["sh"]);
    let p = posix("sudo sh < <(curl x)");
    check(only(&p, "curl"), "curl", &["x"], &[], &["sh"]);
    let p = posix("echo $(curl -s x | base64 -d | sh)");
    assert_eq!(programs(&p), ["echo", "curl", "base64", "sh"]);
    check(
        only(&p, "curl"),
        "curl",
        &["-s", "x"],
        &[],
        &["base64", "sh", "echo"],
    );
    check(only(&p, "sh"), "sh", &[], &[], &["echo"]);
    assert_eq!(only(&p, "curl").pipeline, "curl -s x | base64 -d | sh");
    assert_eq!(only(&p, "echo").text, "echo $(curl -s x | base64 -d | sh)");
    // Nested substitutions: each holder, then what it feeds.
    let p = posix("a $(b $(c)) | d");
    assert_eq!(only(&p, "c").feeds, ["b", "a", "d"]);
    assert_eq!(only(&p, "b").feeds, ["a", "d"]);
    // Substitutions run before a wrapper: not under it.
    let p = posix("sudo tee $(mktemp)");
    check(only(&p, "mktemp"), "mktemp", &[], &[], &["tee"]);
}

#[test]
fn bare_assignments() {
    let p = posix("A=$(curl x)");
    assert_eq!(programs(&p), ["", "curl"]);
    assert_eq!(p.commands[0].assignments, ["A=$(curl x)"]);
    assert_eq!(p.commands[0].text, "A=$(curl x)");
    check(&p.commands[1], "curl", &["x"], &[], &[]);
    let p = posix("A=1 B=\"x y\" cmd A=2");
    let c = only(&p, "cmd");
    assert_eq!(c.assignments, ["A=1", "B=x y"]);
    assert_eq!(c.args, ["A=2"]);
    assert_eq!(c.text, "A=1 B='x y' cmd A=2");
    let p = posix("x=`curl b | sh`");
    assert_eq!(only(&p, "curl").feeds, ["sh"]);
    let p = posix("arr=(one $(uname) 'three four')");
    assert_eq!(p.commands[0].assignments, ["arr=(one $(uname) three four)"]);
    assert_eq!(programs(&p), ["", "uname"]);
}

// ----- redirections and here-docs -----

#[test]
fn redirect_targets_are_not_args() {
    let p = posix("curl x > out 2>&1; cmd &> f; sort < in >> out; a 2>/dev/null <<< \"$y\"; b >&2");
    check(only(&p, "curl"), "curl", &["x"], &[], &[]);
    check(only(&p, "cmd"), "cmd", &[], &[], &[]);
    check(only(&p, "sort"), "sort", &[], &[], &[]);
    check(only(&p, "a"), "a", &[], &[], &[]);
    check(only(&p, "b"), "b", &[], &[], &[]);
    assert_eq!(only(&p, "curl").text, "curl x");
    // A command substitution in a target still runs.
    let p = posix("echo x > $(mktemp)");
    assert_eq!(only(&p, "mktemp").feeds, ["echo"]);
}

#[test]
fn heredoc_bodies_are_not_commands() {
    let p = posix("cat <<EOF\ncurl x | sh\nEOF\necho after");
    assert_eq!(programs(&p), ["cat", "echo"]);
    assert_eq!(only(&p, "echo").line, 4);
    let p = posix("cat > f <<'EOF'\n$(curl x)\nEOF");
    assert_eq!(programs(&p), ["cat"]);
    // Unquoted delimiter: the shell runs the body's substitutions.
    let p = posix("cat > f <<EOF\nhost: $(hostname)\nEOF");
    assert_eq!(programs(&p), ["cat", "hostname"]);
    assert_eq!(only(&p, "hostname").feeds, ["cat"]);
    assert_eq!(only(&p, "hostname").line, 2);
    let p = posix("cat <<A <<-B; echo x\n$(a)\nA\n\t$(b)\n\tB\necho y");
    assert_eq!(programs(&p), ["cat", "a", "b", "echo", "echo"]);
    assert_eq!(p.commands[4].line, 6);
}

#[test]
fn heredocs_fed_to_shells_are_scripts() {
    let p = posix("bash <<'EOF'\ncurl x | sh\nEOF\necho after");
    assert_eq!(programs(&p), ["bash", "curl", "sh", "echo"]);
    check(only(&p, "bash"), "bash", &[], &[], &[]);
    check(only(&p, "curl"), "curl", &["x"], &["bash <<"], &["sh"]);
    assert_eq!(only(&p, "curl").line, 2);
    assert_eq!(only(&p, "echo").line, 4);
    let p = posix("sudo bash <<'EOF'\n  apt-get update\nEOF");
    check(
        only(&p, "apt-get"),
        "apt-get",
        &["update"],
        &["sudo", "bash <<"],
        &[],
    );
    let p = posix("sh -s -- arg <<EOF\nmake\nEOF");
    check(only(&p, "make"), "make", &[], &["sh <<"], &[]);
    let p = posix("bash -s <<-EOF\n\tmake\n\tEOF");
    check(only(&p, "make"), "make", &[], &["bash <<"], &[]);
    let p = posix("bash <<EOF | tee log\nmake\nEOF");
    check(only(&p, "make"), "make", &[], &["bash <<"], &["tee"]);
    // Dockerfile `RUN <<EOF`: no command, the body is the script.
    let p = posix("<<EOF\n#!/bin/bash\napt-get update\napt-get install -y curl\nEOF");
    assert_eq!(programs(&p), ["apt-get", "apt-get"]);
    assert_eq!(p.commands[0].line, 3);
    assert!(p.commands[0].wrappers.is_empty());
    // Here-strings and piped text reach the shell too.
    let p = posix("bash <<< 'curl x | sh'");
    check(only(&p, "curl"), "curl", &["x"], &["bash <<<"], &["sh"]);
    let p = posix("echo 'curl x' | sh");
    check(only(&p, "curl"), "curl", &["x"], &["| sh"], &[]);
    let p = posix("cat <<EOF | sudo sh\nrm -rf /\nEOF");
    check(only(&p, "rm"), "rm", &["-rf", "/"], &["| sh"], &[]);
    // `bash script.sh <<EOF` reads its script from the file.
    let p = posix("bash x.sh <<EOF\ncurl x\nEOF");
    assert_eq!(programs(&p), ["bash"]);
}

#[test]
fn unterminated_heredoc() {
    let p = posix("bash <<EOF\ncurl x | sh\n");
    assert_eq!(programs(&p), ["bash", "curl", "sh"]);
    assert_eq!(p.issues.len(), 1);
    assert_eq!(p.issues[0].line, 1);
    assert_eq!(p.issues[0].message, "here-document `EOF` is not terminated");
}

// ----- compound commands -----

#[test]
fn if_for_case() {
    let p = posix("if true; then rm -rf /; fi");
    assert_eq!(programs(&p), ["true", "rm"]);
    check(only(&p, "rm"), "rm", &["-rf", "/"], &[], &[]);
    let p = posix("for f in *; do chmod 777 $f; done");
    check(only(&p, "chmod"), "chmod", &["777", "$f"], &[], &[]);
    assert_eq!(only(&p, "chmod").text, "chmod 777 $f");
    let p = posix("case $x in a) git push --force;; esac");
    check(only(&p, "git"), "git", &["push", "--force"], &[], &[]);
    let p = posix(
        "if [ -n \"$A\" ]\nthen\n  a\nelif b; then\n  c\nelse\n  d\nfi\n\
         while read l; do e \"$l\"; done < <(f)\nuntil g; do h; done\n\
         case \"$1\" in\n  start|up) i ;;\n  *) j ;&\nesac",
    );
    assert_eq!(
        programs(&p),
        [
            "[", "a", "b", "c", "d", "read", "e", "f", "g", "h", "i", "j"
        ]
    );
    assert_eq!(only(&p, "c").line, 5);
    assert_eq!(only(&p, "j").line, 13);
    assert_eq!(only(&p, "[").text, "[ -n $A ]");
}

#[test]
fn loops_and_words_with_substitutions() {
    let p = posix("for u in $(curl -s list); do wget \"$u\"; done");
    assert_eq!(programs(&p), ["curl", "wget"]);
    let p = posix("case $(uname) in Linux) x;; esac");
    assert_eq!(programs(&p), ["uname", "x"]);
    let p = posix("[[ $(id -u) -eq 0 && -f x ]] && echo root");
    assert_eq!(programs(&p), ["id", "echo"]);
    let p = posix("(( n = $(nproc) * 2 )); echo $(( $(nproc) + 1 ))");
    assert_eq!(programs(&p), ["nproc", "echo", "nproc"]);
    let p = posix("for ((i = 0; i < 3; i++)); do x; done");
    assert_eq!(programs(&p), ["x"]);
}

#[test]
fn functions_subshells_groups_negation() {
    let p = posix("deploy() {\n  curl x | sh\n}\nfunction clean { rm -rf build; }\nf () ( cd x )");
    assert_eq!(programs(&p), ["curl", "sh", "rm", "cd"]);
    assert_eq!(only(&p, "rm").line, 4);
    let p = posix("(cd x && make) ; { a; b; }");
    assert_eq!(programs(&p), ["cd", "make", "a", "b"]);
    let p = posix("! grep -q x f && echo missing");
    check(only(&p, "grep"), "grep", &["-q", "x", "f"], &[], &[]);
    assert_eq!(only(&p, "grep").pipeline, "! grep -q x f");
    // Keywords are not programs, anywhere else they are words.
    let p = posix("echo if then fi done");
    check(
        only(&p, "echo"),
        "echo",
        &["if", "then", "fi", "done"],
        &[],
        &[],
    );
}

// ----- templates -----

#[test]
fn template_expressions_are_opaque_words() {
    let p = github("echo \"${{ github.event.issue.title }}\"");
    check(
        only(&p, "echo"),
        "echo",
        &["${{ github.event.issue.title }}"],
        &[],
        &[],
    );
    assert_eq!(p.commands[0].text, "echo ${{ github.event.issue.title }}");
    let p = github("run ${{ a && 'x | y' || b }} --flag; next");
    check(
        only(&p, "run"),
        "run",
        &["${{ a && 'x | y' || b }}", "--flag"],
        &[],
        &[],
    );
    assert_eq!(programs(&p), ["run", "next"]);
    let p = github("echo '${{ toJSON('a') }}' | jq .");
    check(
        only(&p, "echo"),
        "echo",
        &["${{ toJSON('a') }}"],
        &[],
        &["jq"],
    );
    let p = github("${{ inputs.tool }} --version");
    check(&p.commands[0], "", &["--version"], &[], &[]);
    assert_eq!(p.commands[0].text, "${{ inputs.tool }} --version");
    let p = github("${{ github.workspace }}/bin/tool x");
    assert_eq!(programs(&p), ["tool"]);
    // Without the option the braces are a (strange) parameter expansion.
    let p = posix("echo ${{ x }}");
    assert_eq!(programs(&p), ["echo"]);
}

#[test]
fn azure_macros() {
    let opts = Options {
        azure_macros: true,
        template_expressions: true,
        ..Options::default()
    };
    let p = parse("cd $(Build.SourcesDirectory) && echo $(curl x)", &opts);
    assert_eq!(programs(&p), ["cd", "echo", "curl"]);
    check(
        only(&p, "cd"),
        "cd",
        &["$(Build.SourcesDirectory)"],
        &[],
        &[],
    );
    let p = posix("cd $(Build.SourcesDirectory)");
    assert_eq!(programs(&p), ["cd", "Build.SourcesDirectory"]);
}

// ----- unterminated input -----

#[test]
fn unterminated_quotes_keep_commands() {
    let p = posix("make build\ncurl x | sh\necho \"unterminated\nrm -rf /");
    assert_eq!(programs(&p), ["make", "curl", "sh", "echo"]);
    assert_eq!(only(&p, "echo").args, ["unterminated\nrm -rf /"]);
    assert_eq!(p.issues.len(), 1);
    assert_eq!(p.issues[0].line, 3);
    assert_eq!(p.issues[0].message, "unterminated double quote");
    let p = posix("a 'b\nc");
    assert_eq!(programs(&p), ["a"]);
    assert_eq!(p.issues[0].message, "unterminated single quote");
    let p = posix("x $(curl y | sh");
    assert_eq!(programs(&p), ["x", "curl", "sh"]);
    assert_eq!(p.issues[0].message, "unterminated `$(`");
    let p = posix("if a; then\n  b");
    assert_eq!(programs(&p), ["a", "b"]);
    assert_eq!(p.issues[0].message, "`if` without `fi`");
}

// ----- normal form -----

#[test]
fn equal_commands_have_equal_text() {
    let same = [
        "curl -fsSL https://x",
        "curl   -fsSL \"https://x\"",
        "curl -fsSL 'https://x'",
        "c\"url\" -fsSL https://x # comment",
        "curl \\\n  -fsSL \\\n  https://x",
        "/usr/bin/curl -fsSL https://x",
        "\\curl -f\"sSL\" http's'://x",
        "sudo curl -fsSL https://x",
        "$'curl' -fsSL $'https://x'",
        "curl -fsSL https://x 2>/dev/null",
    ];
    for script in same {
        assert_eq!(text(script), "curl -fsSL https://x", "{script}");
    }
    let quoted = [
        "echo 'a b'",
        "echo \"a b\"",
        "echo a\\ b",
        "echo 'a'\" b\"",
        "echo $'a b'",
    ];
    for script in quoted {
        assert_eq!(text(script), "echo 'a b'", "{script}");
    }
    assert_eq!(text("echo \"it's\""), "echo 'it'\\''s'");
    assert_eq!(text("echo ''"), "echo ''");
    assert_eq!(text("echo *.txt '*.md'"), "echo *.txt '*.md'");
    assert_eq!(text("echo \"$HOME/a b\""), "echo $HOME'/a b'");
    assert_eq!(text("echo `date`"), text("echo $(date)"));
    assert_eq!(text("echo $(  date   -u )"), "echo $(date -u)");
    assert_eq!(text("X=\"1\" make"), "X=1 make");
    // Different commands stay different.
    assert_ne!(text("rm -rf '/'"), text("rm -rf /tmp"));
    assert_ne!(text("echo '$X'"), text("echo $X"));
}

// ----- lines -----

#[test]
fn lines() {
    let p = posix("# header\n\na\n  b; c\nd \\\n e\nf <<EOF\nbody\nEOF\ng\n");
    let lines: Vec<(&str, u32)> = p
        .commands
        .iter()
        .map(|c| (c.program.as_str(), c.line))
        .collect();
    assert_eq!(
        lines,
        [("a", 3), ("b", 4), ("c", 4), ("d", 5), ("f", 7), ("g", 10)]
    );
    let p = posix("x=$(\n  curl a\n)\ny `\nwget b`");
    assert_eq!(only(&p, "curl").line, 2);
    assert_eq!(only(&p, "wget").line, 5);
    let p = posix("a\r\nb\r\n");
    assert_eq!(programs(&p), ["a", "b"]);
    assert_eq!(p.commands[1].line, 2);
}

// ----- PowerShell -----

#[test]
fn powershell() {
    let p = dialect("iwr https://x | iex", Dialect::PowerShell);
    check(only(&p, "iwr"), "iwr", &["https://x"], &[], &["iex"]);
    let p = dialect(
        "& \"C:\\x\\curl.exe\" -o out https://y",
        Dialect::PowerShell,
    );
    check(
        only(&p, "curl"),
        "curl",
        &["-o", "out", "https://y"],
        &[],
        &[],
    );
    let p = dialect(
        "iex ((New-Object System.Net.WebClient).DownloadString('https://z'))",
        Dialect::PowerShell,
    );
    assert_eq!(programs(&p), ["iex", "New-Object"]);
    assert_eq!(only(&p, "New-Object").feeds, ["iex"]);
    let p = dialect(
        "Write-Host \"build $(git rev-parse HEAD)\"; dotnet build && dotnet test\n<# c\n #> npm ci # x",
        Dialect::PowerShell,
    );
    assert_eq!(
        programs(&p),
        ["Write-Host", "git", "dotnet", "dotnet", "npm"]
    );
    assert_eq!(only(&p, "npm").line, 3);
    let p = dialect("Invoke-Expression `\n  $payload", Dialect::PowerShell);
    check(
        only(&p, "Invoke-Expression"),
        "Invoke-Expression",
        &["$payload"],
        &[],
        &[],
    );
}

#[test]
fn powershell_and_posix_wrap_each_other() {
    let p = posix("pwsh -NoProfile -Command \"iwr https://x | iex\"");
    check(
        only(&p, "iwr"),
        "iwr",
        &["https://x"],
        &["pwsh -Command"],
        &["iex"],
    );
    let p = posix("powershell -c 'Remove-Item -Recurse C:\\x'");
    check(
        only(&p, "Remove-Item"),
        "Remove-Item",
        &["-Recurse", "C:\\x"],
        &["powershell -Command"],
        &[],
    );
    let p = dialect("bash -c 'curl x | sh'", Dialect::PowerShell);
    check(only(&p, "curl"), "curl", &["x"], &["bash -c"], &["sh"]);
    // "iwr x | iex" in UTF-16LE base64.
    let encoded = "aQB3AHIAIAB4ACAAfAAgAGkAZQB4AA==";
    let p = posix(&format!("powershell -NoP -EncodedCommand {encoded}"));
    check(
        only(&p, "iwr"),
        "iwr",
        &["x"],
        &["powershell -EncodedCommand"],
        &["iex"],
    );
    let p = dialect(
        "powershell.exe -ExecutionPolicy Bypass -File x.ps1",
        Dialect::PowerShell,
    );
    assert_eq!(programs(&p), ["powershell"]);
}

// ----- cmd -----

#[test]
fn cmd() {
    let p = dialect(
        "@echo off\nREM curl x\nc^url https://x | cmd /c \"sh & del y\"",
        Dialect::Cmd,
    );
    assert_eq!(programs(&p), ["echo", "curl", "sh", "del"]);
    check(only(&p, "curl"), "curl", &["https://x"], &[], &["cmd"]);
    check(only(&p, "del"), "del", &["y"], &["cmd /c"], &[]);
    assert_eq!(only(&p, "curl").line, 3);
    let p = dialect(
        "\"C:\\Program Files\\Git\\bin\\git.exe\" push --force && echo ok",
        Dialect::Cmd,
    );
    check(only(&p, "git"), "git", &["push", "--force"], &[], &[]);
    let p = posix("cmd.exe /d /s /c \"npm ci && npm test\"");
    assert_eq!(programs(&p), ["npm", "npm"]);
    assert_eq!(p.commands[0].wrappers, ["cmd /c"]);
    let p = dialect("call build.bat release", Dialect::Cmd);
    check(
        only(&p, "build.bat"),
        "build.bat",
        &["release"],
        &["call"],
        &[],
    );
}

// ----- opaque -----

#[test]
fn opaque_lines() {
    let p = dialect(
        "import os\n\n# comment\n  os.system('rm -rf /')  \n",
        Dialect::Opaque,
    );
    assert_eq!(p.commands.len(), 2);
    let c = &p.commands[1];
    assert_eq!(
        (c.line, c.program.as_str(), c.text.as_str()),
        (4, "", "os.system('rm -rf /')")
    );
    assert_eq!(c.pipeline, c.text);
    assert!(c.args.is_empty());
    assert_eq!(Dialect::for_shell("python {0}"), Dialect::Opaque);
    assert_eq!(Dialect::for_shell("bash -e {0}"), Dialect::Posix);
    assert_eq!(Dialect::for_shell("C:\\x\\pwsh.exe"), Dialect::PowerShell);
    assert_eq!(Dialect::for_shell("cmd"), Dialect::Cmd);
    assert_eq!(Dialect::for_shell(""), Dialect::Posix);
}

// ----- limits -----

#[test]
fn command_limit() {
    let opts = Options {
        max_commands: 3,
        ..Options::default()
    };
    let p = parse("a; b; c; d; e", &opts);
    assert_eq!(programs(&p), ["a", "b", "c"]);
    assert_eq!(p.issues.len(), 1);
    assert_eq!(
        p.issues[0].message,
        "more than 3 commands: the rest are not listed"
    );
    let p = parse(
        "a\nb\nc\nd",
        &Options {
            dialect: Dialect::Opaque,
            ..opts
        },
    );
    assert_eq!(p.commands.len(), 3);
    assert_eq!(p.issues.len(), 1);
}

#[test]
fn depth_limit() {
    let opts = Options {
        max_depth: 2,
        ..Options::default()
    };
    let p = parse("a $(b $(c $(d)))", &opts);
    assert_eq!(programs(&p), ["a", "b", "c"]);
    assert_eq!(p.issues.len(), 1);
    assert!(
        p.issues[0].message.contains("nested more than 2 deep"),
        "{:?}",
        p.issues
    );
    let p = parse("bash -c \"bash -c 'bash -c x'\"", &opts);
    assert_eq!(programs(&p), ["bash"]);
    assert_eq!(p.commands[0].wrappers, ["bash -c", "bash -c"]);
    assert_eq!(p.issues.len(), 1);
    // The default depth: 8 levels of substitution, then an issue.
    let deep = (0..12).fold("curl x".to_string(), |acc, _| format!("echo $({acc})"));
    let p = posix(&deep);
    assert_eq!(p.commands.len(), 9);
    assert_eq!(p.issues.len(), 1);
}

#[test]
fn json_shape() {
    // Command serializes with its documented field names.
    let p = posix("curl x | sh");
    let json = format!("{:?}", p.commands[0]);
    for field in [
        "line",
        "program",
        "args",
        "assignments",
        "wrappers",
        "feeds",
        "text",
        "pipeline",
    ] {
        assert!(json.contains(field), "{json}");
    }
}
