//! Makefiles (GNU make syntax): one step per logical recipe line, location `target NAME` (the
//! rule's first target), plus the commands make runs while reading the file.
//!
//! - Recipe lines start with a tab (or the `.RECIPEPREFIX` character) and follow a rule line
//!   (`a b: deps`, `a::`, `%.o: %.c`, `a: ; inline recipe`). Blank lines, comments and
//!   conditional lines (`ifeq` ... `endif`, both branches read) do not end a rule; an
//!   assignment, `define`, a directive (`include`, `export`, ...) or a target-specific
//!   variable line does.
//! - A recipe line ending in `\` continues: the backslash-newline stays in the script (the shell
//!   removes it) and one leading recipe prefix of the next line is removed, as make does.
//! - The leading blanks and `@`, `-`, `+` prefixes are dropped, and so is a variable glued to
//!   the start of the command (`$(Q)echo`, `$(BIN)/tool`), usually a silencing or path prefix.
//! - Make references become shell text that does not run anything make does not: `$(VAR)` and
//!   `${VAR}` become `${VAR}`; `$$` becomes `$` (`$$(date)` is the shell's `$(date)`);
//!   `$(shell CMD)` becomes `$(CMD)`; automatic variables stay (`$@`, `$^`; `$<` and `$|`
//!   quoted where the shell would read an operator); other functions and names
//!   (`$(wildcard *.c)`, `$(@D)`, `$(X:.c=.o)`) become one quoted word, except that a
//!   `$(shell ...)` inside them still becomes a command substitution.
//! - Commands run while make reads the file are steps too: `$(shell CMD)` outside recipes
//!   (location `variable NAME` in an assignment, else `$(shell)`) and `VAR != CMD`
//!   (`variable VAR`).
//! - `SHELL = /bin/bash` (its last global assignment; `/usr/bin/env bash` too) gives every step
//!   the shell `bash`.
//!
//! Not read: the values of variables (`$(call f)`, `$(eval ...)`, canned recipes in `define`),
//! which branch of a conditional applies, `.ONESHELL` (each recipe line is still its own step),
//! included makefiles.

use crate::shell_script::interpreter;
use crate::{ExtractError, Extraction, Step, Via};
use cavra_shell::Context;

/// How deep make references may nest before the rest is kept as text.
const MAX_DEPTH: usize = 16;

/// GNU make's built-in functions.
const FUNCTIONS: [&str; 40] = [
    "abspath",
    "addprefix",
    "addsuffix",
    "and",
    "basename",
    "call",
    "dir",
    "error",
    "eval",
    "file",
    "filter",
    "filter-out",
    "findstring",
    "firstword",
    "flavor",
    "foreach",
    "guile",
    "if",
    "info",
    "intcmp",
    "join",
    "lastword",
    "let",
    "notdir",
    "or",
    "origin",
    "patsubst",
    "realpath",
    "shell",
    "sort",
    "strip",
    "subst",
    "suffix",
    "value",
    "warning",
    "wildcard",
    "word",
    "wordlist",
    "words",
    "load",
];

/// Steps of the file.
pub(crate) fn extract(path: &str, text: &[u8]) -> Extraction {
    let text = &*crate::decode(text);
    let lines: Vec<&str> = if text.is_empty() {
        Vec::new()
    } else {
        text.strip_suffix('\n')
            .unwrap_or(text)
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect()
    };
    let mut make = Make {
        path,
        lines: &lines,
        next: 0,
        prefix: '\t',
        rule: Rule::None,
        conditionals: Vec::new(),
        shell: None,
        out: Extraction::default(),
    };
    make.read();
    for line in std::mem::take(&mut make.conditionals) {
        make.error(line, "missing 'endif'");
    }
    if let Some(shell) = make.shell.take() {
        for step in &mut make.out.steps {
            step.shell.clone_from(&shell);
        }
    }
    make.out
}

fn line_no(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// The rule recipe lines belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// None: a recipe prefix starts an ordinary line.
    None,
    /// A rule without targets: its recipe is ignored.
    NoTargets,
    /// The first target.
    Target(String),
}

/// A variable assignment found in a line.
struct Assign<'a> {
    name: &'a str,
    op: &'a str,
    /// Offset of the value in the line.
    value: usize,
}

struct Make<'a> {
    path: &'a str,
    lines: &'a [&'a str],
    next: usize,
    prefix: char,
    rule: Rule,
    /// Lines of the open `if...` directives.
    conditionals: Vec<u32>,
    /// The shell of the last global `SHELL` assignment.
    shell: Option<Option<String>>,
    out: Extraction,
}

impl Make<'_> {
    fn error(&mut self, line: u32, message: impl Into<String>) {
        self.out.errors.push(ExtractError {
            file: self.path.to_string(),
            line,
            message: message.into(),
        });
    }

    fn step(&mut self, line: u32, location: String, script: String) {
        if script.trim().is_empty() {
            return;
        }
        self.out.steps.push(Step {
            context: Context::Makefile,
            file: self.path.to_string(),
            line,
            location,
            shell: None,
            script,
            lifecycle: false,
            via: Via::Direct,
        });
    }

    /// The logical line starting at line `index` (lines joined by their backslash-newlines;
    /// for a recipe, one leading recipe prefix removed from each continued line). Moves on.
    fn logical(&mut self, index: usize, recipe: bool) -> String {
        let mut text = String::from(self.lines[index]);
        let mut last = index;
        while continues(self.lines[last]) && last + 1 < self.lines.len() {
            last += 1;
            let line = self.lines[last];
            text.push('\n');
            text.push_str(match recipe {
                true => line.strip_prefix(self.prefix).unwrap_or(line),
                false => line,
            });
        }
        self.next = last + 1;
        text
    }

    fn read(&mut self) {
        while self.next < self.lines.len() {
            let index = self.next;
            let tabbed = self.lines[index].starts_with(self.prefix);
            if tabbed && self.rule != Rule::None {
                let raw = self.logical(index, true);
                let body = raw.strip_prefix(self.prefix).unwrap_or(&raw);
                if let Rule::Target(target) = self.rule.clone() {
                    self.recipe(body, line_no(index), &target);
                }
                continue;
            }
            let raw = self.logical(index, false);
            self.line(&raw, line_no(index), tabbed);
        }
    }

    /// A recipe line (after its prefix) written at `line`.
    fn recipe(&mut self, text: &str, line: u32, target: &str) {
        let mut text = text.trim_start_matches([' ', '\t', '@', '-', '+']);
        // A variable glued to the command (`$(Q)echo`): a silencing or path prefix.
        while text.starts_with("$(") || text.starts_with("${") {
            let (reference, end) = parse_ref(text, 0);
            let glued = text[end..]
                .chars()
                .next()
                .is_some_and(|c| !c.is_whitespace() && !"\\;&|<>()='\"`#=".contains(c));
            if !(matches!(reference, Ref::Name(_)) && glued) {
                break;
            }
            text = &text[end..];
        }
        let (script, ok) = convert(text);
        if !ok {
            self.error(line, "unterminated variable reference");
        }
        self.step(line, format!("target {target}"), script);
    }

    /// A line that is not a recipe line, starting at `line`.
    fn line(&mut self, raw: &str, line: u32, tabbed: bool) {
        let code = &raw[..top_level(raw, b"#").unwrap_or(raw.len())];
        let start = skip_blank(code, 0);
        if start == code.len() {
            return;
        }
        if let Some(assign) = assignment(code, start) {
            self.rule = Rule::None;
            return self.assigned(raw, line, &assign, true);
        }
        let (first, _) = first_word(code, start);
        match first {
            "ifeq" | "ifneq" | "ifdef" | "ifndef" => {
                self.conditionals.push(line);
                return self.shell_calls(raw, code, line, "$(shell)");
            }
            "else" => return self.shell_calls(raw, code, line, "$(shell)"),
            "endif" => {
                if self.conditionals.pop().is_none() {
                    self.error(line, "extraneous 'endif'");
                }
                return;
            }
            "define" | "export" | "override" | "private" if is_define(code, start) => {
                self.rule = Rule::None;
                return self.define(line);
            }
            "include" | "-include" | "sinclude" | "export" | "unexport" | "override"
            | "private" | "vpath" | "undefine" | "load" | "-load" => {
                self.rule = Rule::None;
                return self.shell_calls(raw, code, line, "$(shell)");
            }
            _ => {}
        }
        self.rule = Rule::None;
        if tabbed {
            self.error(line, "recipe commences before first target");
        }
        let Some(colon) = top_level(code, b":") else {
            if !code.contains('$') && !tabbed {
                self.error(line, "missing separator");
            }
            return self.shell_calls(raw, code, line, "$(shell)");
        };
        let semi = top_level(code, b";").filter(|&s| s > colon);
        let head = &code[..semi.unwrap_or(code.len())];
        let targets = collapse(&head[..colon]);
        let mut targets: Vec<&str> = targets.split_whitespace().collect();
        if let Some(last) = targets.last_mut() {
            *last = last.strip_suffix('&').unwrap_or(last);
        }
        targets.retain(|t| !t.is_empty());
        let after_colon = colon + 1 + usize::from(head[colon + 1..].starts_with(':'));
        if let Some(assign) = assignment(head, skip_blank(head, after_colon)) {
            // A target-specific variable: `target: VAR = value`.
            return self.assigned(raw, line, &assign, false);
        }
        self.shell_calls(raw, head, line, "$(shell)");
        self.rule = match targets.first() {
            Some(first) => Rule::Target(first.to_string()),
            None => Rule::NoTargets,
        };
        if let (Some(semi), Rule::Target(target)) = (semi, self.rule.clone()) {
            let recipe_line = line_at(raw, line, semi + 1);
            let mut body = String::new();
            for (k, part) in raw[semi + 1..].split('\n').enumerate() {
                if k > 0 {
                    body.push('\n');
                    body.push_str(part.strip_prefix(self.prefix).unwrap_or(part));
                } else {
                    body.push_str(part);
                }
            }
            self.recipe(&body, recipe_line, &target);
        }
    }

    /// An assignment: `!=` runs its value; `$(shell)` calls in it run; `SHELL` and
    /// `.RECIPEPREFIX` are remembered when `global`.
    fn assigned(&mut self, raw: &str, line: u32, assign: &Assign, global: bool) {
        let code = &raw[..top_level(raw, b"#").unwrap_or(raw.len())];
        let name = collapse(assign.name);
        let name = name.trim();
        let value = &code[assign.value..];
        let location = format!("variable {name}");
        if assign.op == "!=" {
            let start = skip_blank(code, assign.value);
            let (script, ok) = convert(&spaced(&code[start..]));
            if !ok {
                self.error(line, "unterminated variable reference");
            }
            self.step(line_at(raw, line, start), location, script);
        } else {
            self.shell_calls(raw, code, line, &location);
        }
        if !global {
            return;
        }
        let text = collapse(value);
        let text = text.trim_start();
        match name {
            ".RECIPEPREFIX" if !text.starts_with('$') => {
                self.prefix = text.chars().next().unwrap_or('\t');
            }
            "SHELL" => {
                self.shell = Some(interpreter(text).filter(|p| !p.contains('$')));
            }
            _ => {}
        }
    }

    /// A step for every `$(shell CMD)` in `code` (which starts at `raw`'s start).
    fn shell_calls(&mut self, raw: &str, code: &str, line: u32, location: &str) {
        let mut calls = Vec::new();
        find_shell_calls(code, 0, 0, &mut calls);
        // Calls come in text order: count lines from the previous one.
        let (mut at, mut at_line) = (0, line);
        for (_, start, _, cmd) in calls {
            at_line = line_at(&raw[at..], at_line, start - at);
            at = start;
            let (script, ok) = convert(&spaced(cmd));
            if !ok {
                self.error(line, "unterminated variable reference");
            }
            self.step(at_line, location.to_string(), script);
        }
    }

    /// Skips a `define` block opened at `line`.
    fn define(&mut self, line: u32) {
        let mut depth = 1;
        while self.next < self.lines.len() {
            let index = self.next;
            let text = self.logical(index, false);
            let start = skip_blank(&text, 0);
            match first_word(&text, start).0 {
                "define" => depth += 1,
                "endef" => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
        self.error(line, "missing 'endef'");
    }
}

/// The line ends in an odd run of backslashes.
fn continues(line: &str) -> bool {
    (line.len() - line.trim_end_matches('\\').len()) % 2 == 1
}

/// The file line of byte `offset` of a logical line starting at `line`.
fn line_at(raw: &str, line: u32, offset: usize) -> u32 {
    let newlines = raw.as_bytes()[..offset.min(raw.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    line.saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX))
}

/// Make's blanks, counting a backslash-newline as one.
fn skip_blank(s: &str, mut at: usize) -> usize {
    let b = s.as_bytes();
    while at < b.len() {
        match b[at] {
            b' ' | b'\t' | b'\n' => at += 1,
            b'\\' if b.get(at + 1) == Some(&b'\n') => at += 2,
            _ => break,
        }
    }
    at
}

/// The first word at `at` (ending at a blank or `(`) and the offset after it.
fn first_word(s: &str, at: usize) -> (&str, usize) {
    let end = s[at..]
        .find([' ', '\t', '\n', '\\', '('])
        .map_or(s.len(), |i| at + i);
    (&s[at..end], end)
}

/// Backslash-newlines become spaces (make's continuation of ordinary lines).
fn collapse(s: &str) -> String {
    s.replace("\\\n", " ")
}

/// A blank before each backslash-newline, so that the shell, which removes them, still sees
/// the space make puts there; lines stay where they are.
fn spaced(s: &str) -> String {
    s.replace("\\\n", " \\\n")
}

/// The offset of the first of `chars` outside make references, skipping backslash escapes.
fn top_level(s: &str, chars: &[u8]) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c if chars.contains(&c) => return Some(i),
            b'$' => i = parse_ref(s, i).1,
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    None
}

/// A line (from `at`) that opens a `define` block, possibly after modifiers.
fn is_define(s: &str, mut at: usize) -> bool {
    loop {
        let (word, end) = first_word(s, at);
        match word {
            "define" => return true,
            "export" | "override" | "private" if end > at => at = skip_blank(s, end),
            _ => return false,
        }
    }
}

/// A variable assignment at `at`, possibly after `export`/`override`/`private`.
fn assignment(s: &str, mut at: usize) -> Option<Assign<'_>> {
    loop {
        if let Some(assign) = assignment_at(s, at) {
            return Some(assign);
        }
        let (word, end) = first_word(s, at);
        match word {
            "export" | "override" | "private" if end > at => at = skip_blank(s, end),
            _ => return None,
        }
    }
}

const OPERATORS: [&str; 7] = [":::=", "::=", ":=", "+=", "?=", "!=", "="];

/// `NAME op value` at `at`.
fn assignment_at(s: &str, at: usize) -> Option<Assign<'_>> {
    let b = s.as_bytes();
    let mut i = at;
    let op_at = loop {
        let c = *b.get(i)?;
        match c {
            b'$' => i = parse_ref(s, i).1,
            b' ' | b'\t' | b'\n' => break skip_blank(s, i),
            b'\\' if b.get(i + 1) == Some(&b'\n') => break skip_blank(s, i),
            b'=' | b':' => break i,
            b'+' | b'?' | b'!' if b.get(i + 1) == Some(&b'=') => break i,
            b'#' => return None,
            _ => i += 1,
        }
    };
    let name_end = s[..op_at].trim_end_matches([' ', '\t', '\n', '\\']).len();
    let op = OPERATORS.iter().find(|op| s[op_at..].starts_with(**op))?;
    Some(Assign {
        name: &s[at..name_end.max(at)],
        op,
        value: op_at + op.len(),
    })
}

/// A make reference at a `$`.
#[derive(Debug, PartialEq, Eq)]
enum Ref<'a> {
    /// `$$`.
    Dollar,
    /// A variable whose name is a shell name: `$(CC)`, `${CC}`, `$X`.
    Name(&'a str),
    /// `$` and another character: `$@`, `$<`.
    Special(char),
    /// `$(shell CMD)`: the command.
    Shell(&'a str),
    /// Any other reference, whole: `$(wildcard *.c)`, `$(@D)`.
    Opaque(&'a str),
    /// An unclosed `$(`: the rest of the text.
    Unterminated(&'a str),
    /// A `$` at the end.
    End,
}

/// The reference at byte `i` (a `$`) of `s` and the offset after it.
fn parse_ref(s: &str, i: usize) -> (Ref<'_>, usize) {
    let Some(c) = s[i + 1..].chars().next() else {
        return (Ref::End, s.len());
    };
    let close = match c {
        '$' => return (Ref::Dollar, i + 2),
        '(' => b')',
        '{' => b'}',
        c if c.is_ascii_alphanumeric() || c == '_' => {
            return (Ref::Name(&s[i + 1..i + 2]), i + 2);
        }
        c => return (Ref::Special(c), i + 1 + c.len_utf8()),
    };
    let open = s.as_bytes()[i + 1];
    let mut depth = 0usize;
    let mut end = None;
    for (k, &b) in s.as_bytes()[i + 2..].iter().enumerate() {
        if b == open {
            depth += 1;
        } else if b == close {
            if depth == 0 {
                end = Some(i + 2 + k);
                break;
            }
            depth -= 1;
        }
    }
    let Some(end) = end else {
        return (Ref::Unterminated(&s[i..]), s.len());
    };
    let content = &s[i + 2..end];
    let name_end = content.find([' ', '\t', '\n']).unwrap_or(content.len());
    let name = &content[..name_end];
    let reference = if name_end < content.len() && FUNCTIONS.contains(&name) {
        if name == "shell" {
            Ref::Shell(content[name_end..].trim_start_matches([' ', '\t', '\n']))
        } else {
            Ref::Opaque(&s[i..=end])
        }
    } else if is_shell_name(content) {
        Ref::Name(content)
    } else {
        Ref::Opaque(&s[i..=end])
    };
    (reference, end + 1)
}

fn is_shell_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A `$(shell CMD)` call: offsets of its `$`, of CMD and of its end in the top text, and CMD.
type ShellCall<'a> = (usize, usize, usize, &'a str);

/// The outermost `$(shell CMD)` calls in `s`, also inside other references; `base` is `s`'s
/// offset in the top text.
fn find_shell_calls<'a>(s: &'a str, base: usize, depth: usize, out: &mut Vec<ShellCall<'a>>) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        let (reference, end) = parse_ref(s, i);
        match reference {
            Ref::Shell(cmd) => {
                let at = base + cmd.as_ptr() as usize - s.as_ptr() as usize;
                out.push((base + i, at, base + end, cmd));
            }
            Ref::Opaque(text) if depth < MAX_DEPTH && text.len() >= 3 => {
                find_shell_calls(&text[2..text.len() - 1], base + i + 2, depth + 1, out);
            }
            _ => {}
        }
        i = end;
    }
}

/// Shell quoting state while converting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
}

/// Make text as shell text (see the module docs); false if a reference is unterminated.
fn convert(s: &str) -> (String, bool) {
    let mut out = String::with_capacity(s.len());
    let mut ok = true;
    convert_into(s, &mut out, 0, &mut ok);
    (out, ok)
}

fn convert_into(s: &str, out: &mut String, depth: usize, ok: &mut bool) {
    if depth > MAX_DEPTH {
        out.push_str(s);
        return;
    }
    let mut quote = Quote::None;
    let mut i = 0;
    while let Some(c) = s[i..].chars().next() {
        match c {
            '$' => {
                let (reference, end) = parse_ref(s, i);
                render(reference, quote, out, depth, ok);
                i = end;
                continue;
            }
            '\\' if quote != Quote::Single => {
                out.push('\\');
                i += 1;
                if let Some(n) = s[i..].chars().next().filter(|&n| n != '$') {
                    out.push(n);
                    i += n.len_utf8();
                }
                continue;
            }
            '\'' => {
                quote = match quote {
                    Quote::None => Quote::Single,
                    Quote::Single => Quote::None,
                    Quote::Double => Quote::Double,
                }
            }
            '"' => {
                quote = match quote {
                    Quote::None => Quote::Double,
                    Quote::Double => Quote::None,
                    Quote::Single => Quote::Single,
                }
            }
            _ => {}
        }
        out.push(c);
        i += c.len_utf8();
    }
}

fn render(reference: Ref, quote: Quote, out: &mut String, depth: usize, ok: &mut bool) {
    match reference {
        Ref::Dollar => out.push('$'),
        Ref::End => out.push('$'),
        Ref::Name(name) => {
            out.push_str("${");
            out.push_str(name);
            out.push('}');
        }
        Ref::Special(c @ ('@' | '?' | '*' | '^' | '+' | '%' | '#' | '!' | '-')) => {
            out.push('$');
            out.push(c);
        }
        Ref::Special(c @ ('<' | '|')) if quote != Quote::None => {
            out.push('$');
            out.push(c);
        }
        Ref::Special(c @ ('<' | '|')) => {
            out.push_str("\"$");
            out.push(c);
            out.push('"');
        }
        Ref::Special(c) => literal(&format!("${c}"), quote, out),
        Ref::Shell(cmd) => shell(cmd, quote, out, depth, ok),
        Ref::Opaque(text) => {
            let mut calls = Vec::new();
            if text.len() >= 3 {
                find_shell_calls(&text[2..text.len() - 1], 2, depth + 1, &mut calls);
            }
            let mut at = 0;
            for (ref_start, _, end, cmd) in calls {
                literal(&text[at..ref_start], quote, out);
                shell(cmd, quote, out, depth, ok);
                at = end;
            }
            literal(&text[at..], quote, out);
        }
        Ref::Unterminated(text) => {
            *ok = false;
            literal(text, quote, out);
        }
    }
}

/// `$(CMD)`, closing and reopening single quotes around it.
fn shell(cmd: &str, quote: Quote, out: &mut String, depth: usize, ok: &mut bool) {
    let single = quote == Quote::Single;
    if single {
        out.push('\'');
    }
    out.push_str("$(");
    convert_into(cmd, out, depth + 1, ok);
    out.push(')');
    if single {
        out.push('\'');
    }
}

/// `text` as literal shell text in the given quoting state.
fn literal(text: &str, quote: Quote, out: &mut String) {
    if text.is_empty() {
        return;
    }
    match quote {
        Quote::None => {
            out.push('\'');
            out.push_str(&text.replace('\'', r"'\''"));
            out.push('\'');
        }
        Quote::Single => out.push_str(&text.replace('\'', r"'\''")),
        Quote::Double => {
            for c in text.chars() {
                if matches!(c, '\\' | '"' | '$' | '`') {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::errors;

    fn run(text: &str) -> Extraction {
        extract("Makefile", text.as_bytes())
    }

    /// (line, location, script) of each step.
    fn steps(e: &Extraction) -> Vec<(u32, &str, &str)> {
        e.steps
            .iter()
            .map(|s| (s.line, s.location.as_str(), s.script.as_str()))
            .collect()
    }

    #[test]
    fn recipes() {
        let text = "# Build\n\
                    CC ?= gcc\n\
                    VERSION := $(shell git describe --tags)\n\
                    Q = @\n\
                    .PHONY: all test install\n\
                    \n\
                    all: build test\n\
                    \n\
                    build: $(SRCS)\n\
                    \t@echo \"building $(VERSION)\"\n\
                    \t$(Q)$(CC) -o $@ $^ \\\n\
                    \t\t-lm\n\
                    \t-rm -f *.tmp\n\
                    \n\
                    test: build ; ./run-tests --verbose # all of them\n\
                    \n\
                    install:\n\
                    ifeq ($(OS),Windows_NT)\n\
                    \tcopy app.exe C:\\bin\n\
                    else\n\
                    \t+install -m 755 app $(DESTDIR)/usr/bin\n\
                    endif\n\
                    # a comment\n\
                    \n\
                    \tcurl -fsSL https://x | sh\n";
        let e = run(text);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        assert_eq!(
            steps(&e),
            vec![
                (3, "variable VERSION", "git describe --tags"),
                (10, "target build", "echo \"building ${VERSION}\""),
                (11, "target build", "${CC} -o $@ $^ \\\n\t-lm"),
                (13, "target build", "rm -f *.tmp"),
                (15, "target test", "./run-tests --verbose # all of them"),
                (19, "target install", "copy app.exe C:\\bin"),
                (
                    21,
                    "target install",
                    "install -m 755 app ${DESTDIR}/usr/bin"
                ),
                (25, "target install", "curl -fsSL https://x | sh"),
            ]
        );
        for s in &e.steps {
            assert_eq!(
                (s.context, s.file.as_str(), s.shell.as_deref(), s.lifecycle),
                (Context::Makefile, "Makefile", None, false)
            );
        }
    }

    #[test]
    fn references_become_shell_words() {
        let text = "deps:\n\
                    \tfor f in $(wildcard src/*.c); do echo $$f; done\n\
                    \techo \"$<\" $< '$(X)' $(@D) \"$(notdir $@)\" ${Y} $Z $(a.b)\n\
                    \techo $$(curl -s https://x) $(shell uname -s) $${HOME}\n\
                    \techo '$(shell id -u)' $(strip $(shell hostname)) ${shell pwd}\n\
                    \tcp \"$(patsubst %.c,%.o,$(SRCS))\" $| $;\n";
        let e = run(text);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        assert_eq!(
            steps(&e),
            vec![
                (
                    2,
                    "target deps",
                    "for f in '$(wildcard src/*.c)'; do echo $f; done"
                ),
                (
                    3,
                    "target deps",
                    "echo \"$<\" \"$<\" '${X}' '$(@D)' \"\\$(notdir \\$@)\" ${Y} ${Z} '$(a.b)'"
                ),
                (
                    4,
                    "target deps",
                    "echo $(curl -s https://x) $(uname -s) ${HOME}"
                ),
                (
                    5,
                    "target deps",
                    "echo ''$(id -u)'' '$(strip '$(hostname)')' $(pwd)"
                ),
                (
                    6,
                    "target deps",
                    "cp \"\\$(patsubst %.c,%.o,\\$(SRCS))\" \"$|\" '$;'"
                ),
            ]
        );
    }

    #[test]
    fn recipe_prefix_define_and_parse_time_commands() {
        let text = "SHELL := /usr/bin/env bash\n\
                    .RECIPEPREFIX = >\n\
                    HOST != hostname -f\n\
                    define HELP\n\
                    > curl not-a-recipe\n\
                    \tdefine inner\n\
                    \tendef\n\
                    endef\n\
                    debug: CFLAGS += -g $(shell pkg-config --cflags x)\n\
                    > echo no rule\n\
                    all: $(shell find . \\\n\
                    \x20   -name '*.go')\n\
                    > echo one \\\n\
                    >  two\n\
                    .RECIPEPREFIX :=\n\
                    build:\n\
                    \techo tab again\n";
        let e = run(text);
        assert_eq!(
            steps(&e),
            vec![
                (3, "variable HOST", "hostname -f"),
                (9, "variable CFLAGS", "pkg-config --cflags x"),
                (11, "$(shell)", "find .  \\\n    -name '*.go'"),
                (13, "target all", "echo one \\\n  two"),
                (17, "target build", "echo tab again"),
            ]
        );
        assert!(e.steps.iter().all(|s| s.shell.as_deref() == Some("bash")));
        assert_eq!(
            errors(&e),
            vec![(10, "recipe commences before first target")]
        );
    }

    #[test]
    fn rule_forms() {
        let text = ".PHONY: all clean\n\
                    %.o: %.c\n\
                    \t$(CC) -c $< -o $@\n\
                    clean::\n\
                    \trm -rf build\n\
                    a b &: src\n\
                    \tgen a b\n\
                    objs: %.o: %.c\n\
                    \tcc $<\n\
                    : nothing\n\
                    \techo ignored\n\
                    x := 1\n\
                    \ty = 2\n\
                    override define Z\n\
                    endef\n\
                    export PATH := /bin\n\
                    -include local.mk\n";
        let e = run(text);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        assert_eq!(
            steps(&e),
            vec![
                (3, "target %.o", "${CC} -c \"$<\" -o $@"),
                (5, "target clean", "rm -rf build"),
                (7, "target a", "gen a b"),
                (9, "target objs", "cc \"$<\""),
            ]
        );
    }

    #[test]
    fn glued_prefixes() {
        let text = "all:\n\
                    \t@$(Q)echo hi\n\
                    \t$(AT)$(BIN)/tool x\n\
                    \t$(CC) -c x\n\
                    \t$(Q) echo spaced\n\
                    \t@-+ $(shell echo x)y\n";
        let e = run(text);
        assert_eq!(
            steps(&e),
            vec![
                (2, "target all", "echo hi"),
                (3, "target all", "/tool x"),
                (4, "target all", "${CC} -c x"),
                (5, "target all", "${Q} echo spaced"),
                (6, "target all", "$(echo x)y"),
            ]
        );
    }

    #[test]
    fn malformed() {
        let text = "ifdef X\nall:\n\techo $(foo\nendif\nendif\nno separator here\ndefine Y\n";
        let e = run(text);
        assert_eq!(steps(&e), vec![(3, "target all", "echo '$(foo'")]);
        assert_eq!(
            errors(&e),
            vec![
                (3, "unterminated variable reference"),
                (5, "extraneous 'endif'"),
                (6, "missing separator"),
                (7, "missing 'endef'"),
            ]
        );
        let e = run("ifeq (a,b)\n");
        assert_eq!(errors(&e), vec![(1, "missing 'endif'")]);
        assert!(run("").steps.is_empty());
        assert!(run("\\").steps.is_empty());
    }

    #[test]
    fn crlf_and_comments() {
        let text =
            "all: # comment ; not a recipe\r\n\techo a \\\r\n\tb\r\nX = 1 \\# not a comment\r\n";
        let e = run(text);
        assert_eq!(steps(&e), vec![(2, "target all", "echo a \\\nb")]);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
    }
}
