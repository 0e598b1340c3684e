//! The syntax tree the dialect parsers build and the emitter walks.
//!
//! Bytes rather than `String`s: the parsers split only at ASCII bytes, and text is converted to
//! UTF-8 (lossily) once, when a [`crate::Command`] is built.

/// A list of and-or lists: `a && b; c & d`.
#[derive(Debug, Default)]
pub(crate) struct Script {
    pub items: Vec<AndOr>,
}

/// Pipelines joined by `&&` and `||`, ended by `;`, `&` or a newline.
#[derive(Debug)]
pub(crate) struct AndOr {
    pub first: Pipeline,
    pub rest: Vec<(Connector, Pipeline)>,
    /// Ended by `&`.
    pub background: bool,
}

impl AndOr {
    /// Every pipeline, in order.
    pub fn pipelines(&self) -> impl Iterator<Item = &Pipeline> {
        std::iter::once(&self.first).chain(self.rest.iter().map(|(_, p)| p))
    }
}

/// `&&` or `||`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Connector {
    And,
    Or,
}

impl Connector {
    /// The connector written at `pos` in `src`.
    pub fn at(src: &[u8], pos: usize) -> Option<Connector> {
        match src.get(pos..).unwrap_or_default() {
            [b'&', b'&', ..] => Some(Connector::And),
            [b'|', b'|', ..] => Some(Connector::Or),
            _ => None,
        }
    }

    /// As written.
    pub fn as_str(self) -> &'static str {
        match self {
            Connector::And => "&&",
            Connector::Or => "||",
        }
    }
}

/// Commands joined by `|` (or `|&`), maybe negated with `!`.
#[derive(Debug, Default)]
pub(crate) struct Pipeline {
    pub bang: bool,
    pub stages: Vec<Node>,
}

/// One stage of a pipeline.
#[derive(Debug)]
pub(crate) enum Node {
    Simple(Simple),
    Compound(Compound, Vec<Redirect>),
    /// `name() body` or `function name body`.
    Function(Vec<u8>, Box<Node>),
}

/// A command made of other commands.
#[derive(Debug)]
pub(crate) enum Compound {
    /// `( list )`
    Subshell(Script),
    /// `{ list; }` (and a Cmd `( ... )` block).
    Group(Script),
    /// `if c; then b; elif c; then b; else b; fi`
    If {
        arms: Vec<(Script, Script)>,
        otherwise: Option<Script>,
    },
    /// `while c; do b; done` / `until ...`
    Loop {
        until: bool,
        cond: Script,
        body: Script,
    },
    /// `for var in words; do body; done` / `select ...`
    For {
        select: bool,
        var: Vec<u8>,
        words: Option<Vec<Word>>,
        body: Script,
    },
    /// `for (( a; b; c )); do body; done`
    ArithFor { header: Word, body: Script },
    /// `case word in pattern) list;; esac`
    Case { word: Word, arms: Vec<CaseArm> },
    /// `(( expression ))`
    Arith(Word),
    /// `[[ expression ]]`
    Cond(Vec<Word>),
    /// A PowerShell keyword statement (`if (...) { ... }`, `foreach`, `try`...): no program, but
    /// the commands in its words' blocks and parentheses are found.
    Statement(Vec<Word>),
    /// A Cmd `if cond command`, `for ... do command` or `else command`: the head words are not
    /// run, the body is.
    Prefixed { head: Vec<Word>, body: Box<Node> },
    /// Nested too deeply: kept as text, not parsed.
    Skipped(Vec<u8>),
}

/// One `pattern) list ;;` of a `case`.
#[derive(Debug)]
pub(crate) struct CaseArm {
    pub patterns: Vec<Word>,
    pub body: Script,
    /// `;;`, `;&`, `;;&` or empty (before `esac`).
    pub end: &'static str,
}

/// Words and redirections, run as one program.
#[derive(Debug, Default)]
pub(crate) struct Simple {
    /// Absolute 1-based line of the first byte.
    pub line: u32,
    /// `NAME=value` prefixes.
    pub assigns: Vec<Word>,
    /// The program and its arguments.
    pub words: Vec<Word>,
    pub redirects: Vec<Redirect>,
    /// PowerShell `& program`: the first word is a program even when quoted or dynamic.
    pub call: bool,
    /// PowerShell expression statement (`"text"`, `$x.Method()`, `[Type]::Call()`): no program.
    pub expression: bool,
}

/// `>file`, `2>&1`, `<<EOF`, `<<<word`...
#[derive(Debug)]
pub(crate) struct Redirect {
    /// The file descriptor written before the operator (`2` in `2>&1`), maybe empty.
    pub fd: Vec<u8>,
    pub op: &'static str,
    /// The target (or a here-doc's delimiter).
    pub target: Option<Word>,
    /// A here-doc's body, once read.
    pub heredoc: Option<HereDoc>,
    /// Index of a here-doc body still to be attached (parser-internal).
    pub pending: Option<usize>,
}

impl Redirect {
    /// A redirection that is not (yet) a here-doc.
    pub fn new(fd: Vec<u8>, op: &'static str, target: Option<Word>) -> Redirect {
        Redirect {
            fd,
            op,
            target,
            heredoc: None,
            pending: None,
        }
    }
}

/// The body of a here-document.
#[derive(Debug)]
pub(crate) struct HereDoc {
    /// The body, without the delimiter line (leading tabs removed for `<<-`).
    pub body: Vec<u8>,
    /// Absolute line of the body's first line.
    pub line: u32,
    /// The delimiter was quoted: the body is literal.
    pub quoted: bool,
}

/// A word: literal text, quoted or not, and expansions.
#[derive(Debug, Default)]
pub(crate) struct Word {
    pub pieces: Vec<Piece>,
    /// Absolute line of the word's first byte.
    pub line: u32,
}

/// A part of a [`Word`].
#[derive(Debug)]
pub(crate) enum Piece {
    /// Text after quote removal; `true` when it was quoted or escaped.
    Lit(Vec<u8>, bool),
    /// `$X`, `${...}`, `$((...))`, `${{ ... }}`, an Azure macro, `%X%`...: kept as written.
    /// `nested` holds the commands of `$(...)` written inside it (`${X:-$(cmd)}`).
    Expansion { raw: Vec<u8>, nested: Vec<Script> },
    /// `$(...)`, backticks, `<(...)`, PowerShell `(...)`, `$(...)`, `@(...)`, `{...}`.
    Subst {
        kind: SubstKind,
        script: Script,
        raw: Vec<u8>,
    },
}

impl Piece {
    /// An expansion kept as written, with no commands inside.
    pub fn opaque(raw: &[u8]) -> Piece {
        Piece::Expansion {
            raw: raw.to_vec(),
            nested: Vec::new(),
        }
    }
}

/// How a command substitution was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubstKind {
    /// `$(...)`
    Dollar,
    /// `` `...` ``
    Backtick,
    /// `<(...)`
    ProcIn,
    /// `>(...)`
    ProcOut,
    /// PowerShell `(...)`
    PsParen,
    /// PowerShell `$(...)`
    PsSub,
    /// PowerShell `@(...)`
    PsArray,
    /// PowerShell `{...}`
    PsBlock,
    /// Cmd `for /f ... in ('command')`
    CmdFor,
}
