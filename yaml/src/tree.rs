//! The node tree and the event-driven builder.

use crate::Error;
use saphyr_parser::{Event, Parser, Span};
use std::collections::HashMap;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1 (in characters).
    pub col: u32,
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    /// Unquoted: may be a null, a bool or a number.
    Plain,
    /// `'...'` or `"..."`: always a string.
    Quoted,
    /// `|` or `>` block: always a string.
    Block,
}

/// A scalar's text and style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    /// The text after YAML unescaping and folding.
    pub text: String,
    /// How it was written.
    pub style: ScalarStyle,
}

/// A node's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar (string, number, bool or null, by the core schema).
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

/// A YAML node with its position and tag.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the node starts.
    pub pos: Pos,
    /// The last line of the node (for block scalars and collections).
    pub end_line: u32,
    /// The tag, such as `!reference`, if any.
    pub tag: Option<String>,
}

/// Bounds on what a document may cost to load.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest input, in bytes.
    pub max_bytes: usize,
    /// Most nodes, counting every node an alias copies.
    pub max_nodes: usize,
    /// Deepest nesting.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 8 * 1024 * 1024,
            max_nodes: 1_000_000,
            max_depth: 128,
        }
    }
}

impl Node {
    /// The text of a scalar, whatever its style.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(&s.text),
            _ => None,
        }
    }

    /// The text of a scalar that is a string by the core schema (not null).
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) if !self.is_null() => Some(&s.text),
            _ => None,
        }
    }

    /// True for `~`, `null`, `Null`, `NULL` and an empty plain scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar(s) if s.style == ScalarStyle::Plain
            && matches!(s.text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// A core-schema bool (`true`/`false` in any of their three spellings).
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Scalar(s) if s.style == ScalarStyle::Plain => match s.text.as_str() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// A non-negative integer written plainly (decimal, with optional `_` separators).
    pub fn as_u64(&self) -> Option<u64> {
        match &self.value {
            Value::Scalar(s) if s.style == ScalarStyle::Plain => {
                s.text.replace('_', "").parse().ok()
            }
            _ => None,
        }
    }

    /// The items of a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The entries of a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value under a string key of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_scalar() == Some(key))
            .map(|(_, v)| v)
    }

    /// A word for the node's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Scalar(_) if self.is_null() => "null",
            Value::Scalar(_) => "scalar",
            Value::Seq(_) => "sequence",
            Value::Map(_) => "mapping",
        }
    }
}

/// Parses the first document of `text` (an empty text gives a null node).
pub fn parse(text: &str, limits: Limits) -> Result<Node, Error> {
    Ok(parse_all(text, limits)?.into_iter().next().unwrap_or(Node {
        value: Value::Scalar(Scalar {
            text: String::new(),
            style: ScalarStyle::Plain,
        }),
        pos: Pos { line: 1, col: 1 },
        end_line: 1,
        tag: None,
    }))
}

/// Parses every document of `text`.
pub fn parse_all(text: &str, limits: Limits) -> Result<Vec<Node>, Error> {
    if text.len() > limits.max_bytes {
        return Err(Error::at(
            Pos { line: 1, col: 1 },
            format!(
                "document is {} bytes, over the limit of {} bytes",
                text.len(),
                limits.max_bytes
            ),
        ));
    }
    let mut builder = Builder {
        limits,
        nodes: 0,
        stack: Vec::new(),
        anchors: HashMap::new(),
        docs: Vec::new(),
    };
    for item in Parser::new_from_str(text).keep_tags(true) {
        let (event, span) = item.map_err(|e| {
            let m = e.marker();
            Error::at(
                Pos {
                    line: m.line() as u32,
                    col: m.col() as u32 + 1,
                },
                e.info().to_string(),
            )
        })?;
        builder.event(event, span)?;
    }
    Ok(builder.docs)
}

/// A collection being built.
enum Open {
    Seq(Node, usize, usize),
    Map(Node, Option<Node>, usize, usize),
}

struct Builder {
    limits: Limits,
    nodes: usize,
    stack: Vec<Open>,
    /// anchor id -> (node, number of nodes in it)
    anchors: HashMap<usize, (Node, usize)>,
    docs: Vec<Node>,
}

fn pos_of(span: &Span) -> Pos {
    Pos {
        line: span.start.line() as u32,
        col: span.start.col() as u32 + 1,
    }
}

fn tag_text(tag: Option<std::borrow::Cow<'_, saphyr_parser::Tag>>) -> Option<String> {
    tag.map(|t| format!("{}{}", t.handle, t.suffix))
}

fn empty_node(value: Value, span: &Span, tag: Option<String>) -> Node {
    Node {
        value,
        pos: pos_of(span),
        end_line: span.end.line() as u32,
        tag,
    }
}

impl Builder {
    fn count(&mut self, n: usize, pos: Pos) -> Result<(), Error> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(Error::at(
                pos,
                format!(
                    "document expands to more than {} nodes (alias bomb?)",
                    self.limits.max_nodes
                ),
            ));
        }
        Ok(())
    }

    fn open(&mut self, open: Open, pos: Pos) -> Result<(), Error> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(Error::at(
                pos,
                format!("nesting deeper than {} levels", self.limits.max_depth),
            ));
        }
        self.stack.push(open);
        Ok(())
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), Error> {
        let pos = pos_of(&span);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, pos)?;
                let style = match style {
                    saphyr_parser::ScalarStyle::Plain => ScalarStyle::Plain,
                    saphyr_parser::ScalarStyle::SingleQuoted
                    | saphyr_parser::ScalarStyle::DoubleQuoted => ScalarStyle::Quoted,
                    _ => ScalarStyle::Block,
                };
                let node = empty_node(
                    Value::Scalar(Scalar {
                        text: text.into_owned(),
                        style,
                    }),
                    &span,
                    tag_text(tag),
                );
                self.finish(node, anchor, 1)
            }
            Event::SequenceStart(anchor, tag) => {
                self.count(1, pos)?;
                let node = empty_node(Value::Seq(Vec::new()), &span, tag_text(tag));
                self.open(Open::Seq(node, anchor, self.nodes), pos)
            }
            Event::MappingStart(anchor, tag) => {
                self.count(1, pos)?;
                let node = empty_node(Value::Map(Vec::new()), &span, tag_text(tag));
                self.open(Open::Map(node, None, anchor, self.nodes), pos)
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (mut node, anchor, started) = match self.stack.pop() {
                    Some(Open::Seq(node, anchor, started)) => (node, anchor, started),
                    Some(Open::Map(node, _, anchor, started)) => (node, anchor, started),
                    None => return Err(Error::at(pos, "unbalanced collection end")),
                };
                node.end_line = node.end_line.max(span.end.line() as u32);
                let size = self.nodes - started + 1;
                self.finish(node, anchor, size)
            }
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id).cloned() else {
                    return Err(Error::at(pos, "alias to an unknown anchor"));
                };
                self.count(size, pos)?;
                let mut node = node;
                node.pos = pos;
                self.finish(node, 0, size)
            }
            Event::DocumentEnd => {
                self.anchors.clear();
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Attaches a completed node to its parent, or ends a document.
    fn finish(&mut self, node: Node, anchor: usize, size: usize) -> Result<(), Error> {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        let end = node.end_line;
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Open::Seq(parent, _, _)) => {
                parent.end_line = parent.end_line.max(end);
                if let Value::Seq(items) = &mut parent.value {
                    items.push(node);
                }
            }
            Some(Open::Map(parent, pending, _, _)) => {
                parent.end_line = parent.end_line.max(end);
                match pending.take() {
                    None => *pending = Some(node),
                    Some(key) => {
                        if let Value::Map(entries) = &mut parent.value {
                            entries.push((key, node));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Node {
        parse(text, Limits::default()).unwrap()
    }

    #[test]
    fn keeps_positions_and_core_schema() {
        let doc = p("on:\n  push: {}\nname: x\nlist:\n  - a\n  - 'b'\n");
        let (k, _) = &doc.as_map().unwrap()[0];
        assert_eq!(k.as_str(), Some("on"));
        assert_eq!(k.as_bool(), None, "`on` must stay a string");
        let list = doc.get("list").unwrap().as_seq().unwrap();
        assert_eq!(list[1].pos, Pos { line: 6, col: 5 });
        assert_eq!(list[1].as_str(), Some("b"));
        assert_eq!(doc.get("name").unwrap().pos, Pos { line: 3, col: 7 });
    }

    #[test]
    fn block_scalar_end_line() {
        let doc = p("run: |\n  a\n  b\nx: 1\n");
        let run = doc.get("run").unwrap();
        assert_eq!(run.as_str(), Some("a\nb\n"));
        // A block scalar's position is its first content line, so a command on
        // the n-th line of the block lives at `pos.line + n - 1` of the file.
        assert_eq!(run.pos.line, 2);
        assert!(run.end_line >= 3);
    }

    #[test]
    fn tags_are_kept() {
        let doc = p("script: !reference [.setup, script]\n");
        assert_eq!(
            doc.get("script").unwrap().tag.as_deref(),
            Some("!reference")
        );
    }

    #[test]
    fn aliases_expand_and_bombs_are_stopped() {
        let doc = p("a: &x [1, 2]\nb: *x\n");
        assert_eq!(doc.get("b").unwrap().as_seq().unwrap().len(), 2);
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = format!("*a{}", i - 1);
            bomb.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        let err = parse(&bomb, Limits::default()).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{err}");
    }

    #[test]
    fn errors_have_positions_and_limits_hold() {
        let err = parse("a: [1, 2\nb: 3\n", Limits::default()).unwrap_err();
        assert!(err.pos.line >= 1);
        let deep = "[".repeat(500) + &"]".repeat(500);
        assert!(parse(&deep, Limits::default()).is_err());
        let limits = Limits {
            max_bytes: 4,
            ..Limits::default()
        };
        assert!(parse("a: 12345", limits).is_err());
    }

    #[test]
    fn nulls_bools_numbers() {
        let doc = p("a: ~\nb:\nc: 'null'\nd: 1_000\ne: True\n");
        assert!(doc.get("a").unwrap().is_null());
        assert!(doc.get("b").unwrap().is_null());
        assert_eq!(doc.get("c").unwrap().as_str(), Some("null"));
        assert_eq!(doc.get("d").unwrap().as_u64(), Some(1000));
        assert_eq!(doc.get("e").unwrap().as_bool(), Some(true));
    }
}
