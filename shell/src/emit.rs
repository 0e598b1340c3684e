//! Walks a syntax tree and lists its simple commands: unwrapped, in normal form, with the
//! programs their output feeds, the wrappers they ran under and their lines.

use crate::ast::{Compound, Node, Pipeline, Redirect, Script, Simple, Word};
use crate::normal::{self, Printer};
use crate::parser::NEST_LIMIT;
use crate::unwrap::{Peeled, peel};
use crate::{Command, Dialect, Issue, Options};

/// Most programs listed in one command's `feeds`.
const MAX_FEEDS: usize = 32;
/// Longest `pipeline` text, in bytes (longer ones end with `...`).
const MAX_PIPELINE: usize = 2048;
/// Most stages looked at to name the programs of one compound pipeline stage.
const NAME_BUDGET: usize = 256;

/// Programs whose output a here-doc or their arguments may feed to a shell as a script.
const SCRIPT_SOURCES: [&str; 2] = ["cat", "echo"];

/// What a command inherits from where it is written.
#[derive(Clone)]
struct Ctx {
    feeds: Vec<String>,
    wrappers: Vec<String>,
    depth: usize,
    nest: usize,
    dialect: Dialect,
}

/// What one pipeline stage knows about its neighbours.
struct Stage {
    /// Programs its output reaches.
    feeds: Vec<String>,
    pipeline: String,
    /// The next stage is a shell reading its script from standard input: its name and feeds.
    next_shell: Option<(String, Vec<String>)>,
}

/// A pipeline stage, resolved before any stage is emitted.
struct Info<'a> {
    peeled: Option<Peeled<'a>>,
    names: Vec<String>,
    text: Vec<u8>,
}

/// Collects the commands of one parse.
pub(crate) struct Emitter<'o> {
    opts: &'o Options,
    pub commands: Vec<Command>,
    pub issues: Vec<Issue>,
    full: bool,
}

impl<'o> Emitter<'o> {
    pub fn new(opts: &'o Options) -> Self {
        Emitter {
            opts,
            commands: Vec::new(),
            issues: Vec::new(),
            full: false,
        }
    }

    /// Lists the commands of a top-level script.
    pub fn top(&mut self, script: &Script) {
        let ctx = Ctx {
            feeds: Vec::new(),
            wrappers: Vec::new(),
            depth: 0,
            nest: 0,
            dialect: self.opts.dialect,
        };
        self.script(script, &ctx);
    }

    /// Adds a command unless the limit is reached.
    pub fn push(&mut self, command: Command) {
        if self.commands.len() >= self.opts.max_commands {
            if !self.full {
                self.full = true;
                self.issues.push(Issue {
                    line: command.line,
                    message: format!(
                        "more than {} commands: the rest are not listed",
                        self.opts.max_commands
                    ),
                });
            }
            return;
        }
        self.commands.push(command);
    }

    fn script(&mut self, script: &Script, ctx: &Ctx) {
        for item in &script.items {
            for p in item.pipelines() {
                if self.full {
                    return;
                }
                self.pipeline(p, ctx);
            }
        }
    }

    fn pipeline(&mut self, p: &Pipeline, ctx: &Ctx) {
        let infos: Vec<Info> = p.stages.iter().map(|n| info(n, ctx.dialect)).collect();
        // feeds[i]: the programs after stage i, then the inherited ones (borrowed until used).
        let mut feeds: Vec<Vec<&str>> = vec![Vec::new(); infos.len()];
        let mut acc: Vec<&str> = ctx.feeds.iter().map(String::as_str).collect();
        for i in (0..infos.len()).rev() {
            feeds[i] = acc.clone();
            acc = prepend(infos[i].names.iter().map(String::as_str), &acc);
        }
        let mut text = Vec::new();
        if p.bang {
            text.extend_from_slice(b"! ");
        }
        for (i, info) in infos.iter().enumerate() {
            if i > 0 {
                text.extend_from_slice(b" | ");
            }
            text.extend_from_slice(&info.text);
            if text.len() > MAX_PIPELINE {
                break;
            }
        }
        let pipeline = truncate(&text, MAX_PIPELINE);
        for (i, node) in p.stages.iter().enumerate() {
            if self.full {
                return;
            }
            let next_shell = infos.get(i + 1).and_then(|next| {
                let peeled = next.peeled.as_ref()?;
                peeled
                    .stdin_script
                    .then(|| (peeled.program.clone(), owned(&feeds[i + 1])))
            });
            let stage = Stage {
                feeds: owned(&feeds[i]),
                pipeline: pipeline.clone(),
                next_shell,
            };
            self.node(node, &infos[i], ctx, &stage);
        }
    }

    fn node(&mut self, node: &Node, info: &Info, ctx: &Ctx, stage: &Stage) {
        match node {
            Node::Simple(s) => {
                if let Some(peeled) = &info.peeled {
                    self.simple(s, peeled, &info.text, ctx, stage);
                }
            }
            Node::Function(_, body) => {
                let inner = Ctx {
                    nest: ctx.nest + 1,
                    ..ctx.clone()
                };
                let body_info = body_info(body, ctx.dialect);
                self.node(body, &body_info, &inner, stage);
            }
            Node::Compound(c, redirects) => self.compound(c, redirects, ctx, stage),
        }
    }

    fn simple(&mut self, s: &Simple, peeled: &Peeled, text: &[u8], ctx: &Ctx, stage: &Stage) {
        let mut wrappers = ctx.wrappers.clone();
        wrappers.extend(peeled.wrappers.iter().cloned());
        let command = Command {
            line: s.line,
            program: peeled.program.clone(),
            args: peeled.args.iter().map(Word::string).collect(),
            assignments: peeled.assigns.iter().map(|w| w.string()).collect(),
            wrappers: wrappers.clone(),
            feeds: stage.feeds.clone(),
            text: String::from_utf8_lossy(text).into_owned(),
            pipeline: stage.pipeline.clone(),
        };
        let has_command = !s.words.is_empty() || !s.assigns.is_empty();
        if s.expression {
            // A PowerShell expression runs no program of its own.
        } else if let Some(reparse) = &peeled.reparse {
            let inner = Ctx {
                feeds: stage.feeds.clone(),
                wrappers: with(&wrappers, &reparse.wrapper),
                depth: ctx.depth + 1,
                nest: ctx.nest + 1,
                dialect: reparse.dialect,
            };
            let before = self.commands.len();
            if self.sub_script(&reparse.text, reparse.line, &inner) {
                if self.commands.len() == before {
                    self.push(command);
                }
            } else {
                self.push(command);
            }
        } else if has_command {
            self.push(command);
        }

        // Commands in its words run first; their output goes to this program.
        let holder = if peeled.program.is_empty() {
            stage.feeds.clone()
        } else {
            let rest: Vec<&str> = stage.feeds.iter().map(String::as_str).collect();
            owned(&prepend([peeled.program.as_str()], &rest))
        };
        let nested = Ctx {
            feeds: holder,
            wrappers: ctx.wrappers.clone(),
            depth: ctx.depth + 1,
            nest: ctx.nest + 1,
            dialect: ctx.dialect,
        };
        let targets = s.redirects.iter().filter_map(|r| r.target.as_ref());
        for w in s.assigns.iter().chain(s.words.iter()).chain(targets) {
            for script in w.scripts() {
                self.script(script, &nested);
            }
        }

        // Scripts given on standard input: here-docs, here-strings, `echo '...' | sh`.
        let program = peeled.program.as_str();
        let source = SCRIPT_SOURCES.contains(&program);
        for r in &s.redirects {
            let script_for = if s.words.is_empty() {
                (r.op != "<<<").then(|| (ctx.wrappers.clone(), stage.feeds.clone()))
            } else if peeled.stdin_script {
                Some((
                    with(
                        &wrappers,
                        &format!("{program} {}", r.op.trim_end_matches('-')),
                    ),
                    stage.feeds.clone(),
                ))
            } else if source && let Some((shell, feeds)) = &stage.next_shell {
                Some((with(&ctx.wrappers, &format!("| {shell}")), feeds.clone()))
            } else {
                None
            };
            self.stdin(r, script_for, &nested);
        }
        if program == "echo"
            && let Some((shell, feeds)) = &stage.next_shell
            && !peeled.args.iter().any(Word::has_commands)
        {
            let args: Vec<&Word> = peeled
                .args
                .iter()
                .skip_while(|w| matches!(w.value().as_slice(), b"-n" | b"-e" | b"-E" | b"-ne"))
                .collect();
            if let Some(first) = args.first() {
                let mut text = Vec::new();
                for (i, w) in args.iter().enumerate() {
                    if i > 0 {
                        text.push(b' ');
                    }
                    text.extend_from_slice(&w.value());
                }
                let inner = Ctx {
                    feeds: feeds.clone(),
                    wrappers: with(&ctx.wrappers, &format!("| {shell}")),
                    depth: ctx.depth + 1,
                    nest: ctx.nest + 1,
                    dialect: Dialect::Posix,
                };
                self.sub_script(&text, first.line, &inner);
            }
        }
    }

    /// A here-doc or here-string: parsed as a script when `script_for` gives the wrappers and
    /// feeds of the shell reading it, else searched for `$(...)` when the shell expands it.
    fn stdin(
        &mut self,
        r: &Redirect,
        script_for: Option<(Vec<String>, Vec<String>)>,
        nested: &Ctx,
    ) {
        let shell = |(wrappers, feeds)| Ctx {
            feeds,
            wrappers,
            depth: nested.depth,
            nest: nested.nest,
            dialect: Dialect::Posix,
        };
        let (text, line, expands) = match (r.op, &r.heredoc, &r.target) {
            ("<<" | "<<-", Some(doc), _) => (doc.body.as_slice(), doc.line, !doc.quoted),
            ("<<<", _, Some(word)) if script_for.is_some() && !word.has_commands() => {
                let value = word.value();
                if let Some(inner) = script_for.map(shell) {
                    self.sub_script(&value, word.line, &inner);
                }
                return;
            }
            _ => return,
        };
        if let Some(inner) = script_for.map(shell) {
            self.sub_script(text, line, &inner);
        } else if expands && text.iter().any(|c| matches!(c, b'$' | b'`')) {
            if !self.room(nested, line) {
                return;
            }
            let (word, issues) =
                crate::parser::heredoc_word(text, line, self.opts, nested.depth, nested.nest);
            self.issues.extend(issues);
            for script in word.scripts() {
                self.script(script, nested);
            }
        }
    }

    /// The limits allow one more level at `ctx`; else an issue.
    fn room(&mut self, ctx: &Ctx, line: u32) -> bool {
        if ctx.depth > self.opts.max_depth || ctx.nest >= NEST_LIMIT {
            let limit = self.opts.max_depth.min(NEST_LIMIT);
            self.issues.push(Issue {
                line,
                message: format!("script nested more than {limit} deep: not parsed"),
            });
            return false;
        }
        true
    }

    /// Parses `text` (in `ctx.dialect`) and lists its commands under `ctx`; `false` when nested
    /// too deeply to parse.
    fn sub_script(&mut self, text: &[u8], line: u32, ctx: &Ctx) -> bool {
        if !self.room(ctx, line) {
            return false;
        }
        let opts = Options {
            dialect: ctx.dialect,
            ..*self.opts
        };
        let (script, issues) = crate::parse_tree(text, line, &opts, ctx.depth, ctx.nest);
        self.issues.extend(issues);
        self.script(&script, ctx);
        true
    }

    fn compound(&mut self, c: &Compound, redirects: &[Redirect], ctx: &Ctx, stage: &Stage) {
        let inner = Ctx {
            feeds: stage.feeds.clone(),
            wrappers: ctx.wrappers.clone(),
            depth: ctx.depth + usize::from(matches!(c, Compound::Subshell(_))),
            nest: ctx.nest + 1,
            dialect: ctx.dialect,
        };
        let mut ws: Vec<&Word> = Vec::new();
        match c {
            Compound::Subshell(s) | Compound::Group(s) => self.script(s, &inner),
            Compound::If { arms, otherwise } => {
                for (cond, body) in arms {
                    self.script(cond, &inner);
                    self.script(body, &inner);
                }
                if let Some(o) = otherwise {
                    self.script(o, &inner);
                }
            }
            Compound::Loop { cond, body, .. } => {
                self.script(cond, &inner);
                self.script(body, &inner);
            }
            Compound::For { words, body, .. } => {
                ws.extend(words.iter().flatten());
                self.words(&ws, &inner);
                ws.clear();
                self.script(body, &inner);
            }
            Compound::ArithFor { header, body } => {
                self.words(&[header], &inner);
                self.script(body, &inner);
            }
            Compound::Case { word, arms } => {
                self.words(&[word], &inner);
                for arm in arms {
                    ws.extend(arm.patterns.iter());
                    self.words(&ws, &inner);
                    ws.clear();
                    self.script(&arm.body, &inner);
                }
            }
            Compound::Arith(w) => self.words(&[w], &inner),
            Compound::Cond(list) | Compound::Statement(list) => {
                ws.extend(list.iter());
                self.words(&ws, &inner);
                ws.clear();
            }
            Compound::Prefixed { head, body } => {
                ws.extend(head.iter());
                self.words(&ws, &inner);
                ws.clear();
                let body_info = body_info(body, ctx.dialect);
                self.node(body, &body_info, &inner, stage);
            }
            Compound::Skipped(_) => {}
        }
        for r in redirects {
            if let Some(t) = &r.target {
                self.words(&[t], &inner);
            }
            self.stdin(r, None, &inner);
        }
    }

    /// The commands of the substitutions in `ws`.
    fn words(&mut self, ws: &[&Word], ctx: &Ctx) {
        let nested = Ctx {
            depth: ctx.depth + 1,
            nest: ctx.nest + 1,
            ..ctx.clone()
        };
        for w in ws {
            for script in w.scripts() {
                self.script(script, &nested);
            }
        }
    }
}

/// Resolves one pipeline stage: its peeled command, the programs it runs and its text.
fn info(node: &Node, dialect: Dialect) -> Info<'_> {
    match node {
        Node::Simple(s) => {
            let peeled = peel(s, dialect);
            let names = if peeled.program.is_empty() || s.expression {
                Vec::new()
            } else {
                vec![peeled.program.clone()]
            };
            let mut text = Printer::new();
            if s.expression {
                normal::simple(s, &mut text);
            } else {
                command_text(&peeled, &mut text);
            }
            Info {
                peeled: Some(peeled),
                names,
                text: text.buf,
            }
        }
        _ => {
            let mut names = Vec::new();
            let mut budget = NAME_BUDGET;
            node_names(node, dialect, &mut names, &mut budget);
            let mut text = Printer::limited(MAX_PIPELINE);
            normal::node(node, &mut text);
            Info {
                peeled: None,
                names,
                text: text.buf,
            }
        }
    }
}

/// [`info`] for a node that is no pipeline stage of its own (a function or Cmd `if` body):
/// only a simple command needs one.
fn body_info(node: &Node, dialect: Dialect) -> Info<'_> {
    match node {
        Node::Simple(_) => info(node, dialect),
        _ => Info {
            peeled: None,
            names: Vec::new(),
            text: Vec::new(),
        },
    }
}

/// The normal form of a peeled command: assignments, program, arguments.
pub(crate) fn command_text(peeled: &Peeled, out: &mut Printer) {
    let mut first = true;
    let mut space = |out: &mut Printer| {
        if !first {
            out.push(b' ');
        }
        first = false;
    };
    for a in &peeled.assigns {
        space(out);
        normal::assignment(a, out);
    }
    if !peeled.program.is_empty() {
        space(out);
        let name = peeled.program.as_bytes();
        if matches!(peeled.program.as_str(), "[" | "[[" | "!" | "{" | "}") {
            out.extend_from_slice(name);
        } else {
            normal::quote(name, out);
        }
    } else if let Some(w) = peeled.program_word {
        space(out);
        normal::word(w, out);
    }
    for w in peeled.args {
        space(out);
        normal::word(w, out);
    }
}

/// The programs a compound stage runs at its top level (not in substitutions).
fn node_names(node: &Node, dialect: Dialect, out: &mut Vec<String>, budget: &mut usize) {
    if *budget == 0 || out.len() >= MAX_FEEDS {
        return;
    }
    *budget -= 1;
    match node {
        Node::Simple(s) => {
            if s.expression {
                return;
            }
            let program = peel(s, dialect).program;
            if !program.is_empty() && !out.contains(&program) {
                out.push(program);
            }
        }
        Node::Function(..) => {}
        Node::Compound(c, _) => {
            let mut scripts: Vec<&Script> = Vec::new();
            match c {
                Compound::Subshell(s) | Compound::Group(s) => scripts.push(s),
                Compound::If { arms, otherwise } => {
                    for (a, b) in arms {
                        scripts.push(a);
                        scripts.push(b);
                    }
                    scripts.extend(otherwise.iter());
                }
                Compound::Loop { cond, body, .. } => {
                    scripts.push(cond);
                    scripts.push(body);
                }
                Compound::For { body, .. } | Compound::ArithFor { body, .. } => scripts.push(body),
                Compound::Case { arms, .. } => scripts.extend(arms.iter().map(|a| &a.body)),
                Compound::Prefixed { body, .. } => node_names(body, dialect, out, budget),
                Compound::Arith(_)
                | Compound::Cond(_)
                | Compound::Statement(_)
                | Compound::Skipped(_) => {}
            }
            for s in scripts {
                for item in &s.items {
                    for p in item.pipelines() {
                        for n in &p.stages {
                            node_names(n, dialect, out, budget);
                        }
                    }
                }
            }
        }
    }
}

/// `first` then `rest`, without repeats, at most [`MAX_FEEDS`].
fn prepend<'a>(first: impl IntoIterator<Item = &'a str>, rest: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::with_capacity(MAX_FEEDS);
    for name in first.into_iter().chain(rest.iter().copied()) {
        if out.len() >= MAX_FEEDS {
            break;
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// `list` and then `last`.
fn with(list: &[String], last: &str) -> Vec<String> {
    let mut out = list.to_vec();
    out.push(last.to_string());
    out
}

/// `text` as a string of at most `max` bytes (cut at a character boundary, ending in `...`).
fn truncate(text: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(text);
    if s.len() <= max {
        return s.into_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepend_dedups_and_caps() {
        assert_eq!(prepend(["a", "b"], &["b", "c"]), ["a", "b", "c"]);
        let many: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        assert_eq!(
            prepend(many.iter().map(String::as_str), &[]).len(),
            MAX_FEEDS
        );
    }

    #[test]
    fn truncates_at_char_boundary() {
        assert_eq!(truncate("abc".as_bytes(), 5), "abc");
        assert_eq!(truncate("ééé".as_bytes(), 3), "é...");
    }
}
