//! Helpers shared by the YAML extractors: parsing into [`ExtractError`]s, merge-key (`<<`)
//! lookups, script text and lines.
//!
//! `cavra-yaml` expands aliases but keeps `<<: *anchor` as an ordinary key, so every lookup the
//! extractors make goes through [`get`] and [`entries`], which apply YAML merge keys: a
//! mapping's own keys win over merged ones, and among several merged mappings (`<<: [*a, *b]`)
//! the first wins. Merged mappings may merge further mappings; depth is bounded.

use crate::{ExtractError, Extraction, MAX_FILE_BYTES};
use cavra_yaml::{Limits, Node, ScalarStyle, Value};
use std::collections::HashSet;

/// How deep `<<` merges may chain before the rest is ignored.
const MAX_MERGE_DEPTH: usize = 32;

/// Limits for CI files: the extractor's byte limit and the crate's node and depth bounds.
fn limits() -> Limits {
    Limits {
        max_bytes: MAX_FILE_BYTES,
        ..Limits::default()
    }
}

/// Parses every document of `text`; a failure becomes one error at the parser's line.
pub(crate) fn parse_docs(path: &str, text: &[u8]) -> Result<Vec<Node>, ExtractError> {
    cavra_yaml::parse_all(&crate::decode(text), limits()).map_err(|e| ExtractError {
        file: path.to_string(),
        line: e.pos.line,
        message: format!("YAML: {}", e.message),
    })
}

/// Parses every document of `text` and lets `read` fill an extraction from them; a file that does
/// not parse yields only its parse error.
pub(crate) fn extract_docs(
    path: &str,
    text: &[u8],
    read: impl FnOnce(Vec<Node>, &mut Extraction),
) -> Extraction {
    let mut out = Extraction::default();
    match parse_docs(path, text) {
        Ok(docs) => read(docs, &mut out),
        Err(e) => out.errors.push(e),
    }
    out
}

/// True for the merge key `<<` (plain, untagged or tagged `!!merge`).
fn is_merge_key(key: &Node) -> bool {
    matches!(&key.value, Value::Scalar(s) if s.style == ScalarStyle::Plain && s.text == "<<")
        && key
            .tag
            .as_deref()
            .is_none_or(|t| t == "tag:yaml.org,2002:merge" || t == "!!merge")
}

/// The mappings a `<<` value merges in, first-wins order.
fn merged_maps(value: &Node) -> impl Iterator<Item = &Node> {
    let items: &[Node] = match &value.value {
        Value::Map(_) => std::slice::from_ref(value),
        Value::Seq(items) => items,
        Value::Scalar(_) => &[],
    };
    items.iter().filter(|n| matches!(n.value, Value::Map(_)))
}

/// The value under the string key `key` of a mapping, applying merge keys. A key written twice
/// keeps its last value, as most YAML loaders do.
pub(crate) fn get<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    get_depth(node, key, 0)
}

fn get_depth<'a>(node: &'a Node, key: &str, depth: usize) -> Option<&'a Node> {
    let map = node.as_map()?;
    let own = map
        .iter()
        .rev()
        .find(|(k, _)| !is_merge_key(k) && k.as_scalar() == Some(key));
    if let Some((_, v)) = own {
        return Some(v);
    }
    if depth >= MAX_MERGE_DEPTH {
        return None;
    }
    map.iter()
        .filter(|(k, _)| is_merge_key(k))
        .flat_map(|(_, v)| merged_maps(v))
        .find_map(|m| get_depth(m, key, depth + 1))
}

/// The entries of a mapping after merge keys, each key once: own keys in document order (a key
/// written twice at the place of its last occurrence), then merged keys not already present.
pub(crate) fn entries(node: &Node) -> Vec<(&Node, &Node)> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    collect_entries(node, &mut out, &mut seen, 0);
    out
}

fn collect_entries<'a>(
    node: &'a Node,
    out: &mut Vec<(&'a Node, &'a Node)>,
    seen: &mut HashSet<&'a str>,
    depth: usize,
) {
    let Some(map) = node.as_map() else { return };
    let start = out.len();
    for (k, v) in map.iter().rev().filter(|(k, _)| !is_merge_key(k)) {
        if k.as_scalar().is_none_or(|s| seen.insert(s)) {
            out.push((k, v));
        }
    }
    out[start..].reverse();
    if depth >= MAX_MERGE_DEPTH {
        return;
    }
    for (_, v) in map.iter().filter(|(k, _)| is_merge_key(k)) {
        for m in merged_maps(v) {
            collect_entries(m, out, seen, depth + 1);
        }
    }
}

/// A scalar's text as a string: any non-null scalar (`run: 42` runs `42`).
pub(crate) fn text(node: &Node) -> Option<&str> {
    node.as_str()
}

/// The file line of a script scalar's first line. A block scalar's position is its first
/// non-empty line; leading empty lines are part of its text, so count back over them.
pub(crate) fn script_line(node: &Node) -> u32 {
    match &node.value {
        Value::Scalar(s) if s.style == ScalarStyle::Block => {
            let blank = s.text.bytes().take_while(|&b| b == b'\n').count() as u32;
            node.pos.line.saturating_sub(blank).max(1)
        }
        _ => node.pos.line,
    }
}

/// An error at `node`'s line.
pub(crate) fn error_at(path: &str, node: &Node, message: impl Into<String>) -> ExtractError {
    ExtractError {
        file: path.to_string(),
        line: node.pos.line,
        message: message.into(),
    }
}

/// A node's text for messages, cut short.
pub(crate) fn describe(node: &Node) -> String {
    match node.as_scalar() {
        Some(s) if s.chars().count() > 40 => {
            format!("`{}...`", s.chars().take(40).collect::<String>())
        }
        Some(s) => format!("`{s}`"),
        None => format!("a {}", node.kind()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Node {
        parse_docs("t.yml", text.as_bytes()).unwrap().remove(0)
    }

    fn keys(node: &Node) -> Vec<&str> {
        entries(node)
            .iter()
            .map(|(k, _)| k.as_scalar().unwrap())
            .collect()
    }

    #[test]
    fn merge_keys_own_keys_win_and_first_merge_wins() {
        let d = doc("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  x: 3\n");
        let c = get(&d, "c").unwrap();
        assert_eq!(get(c, "x").unwrap().as_str(), Some("3"));
        assert_eq!(get(c, "y").unwrap().as_str(), Some("1"));
        assert_eq!(get(c, "z").unwrap().as_str(), Some("2"));
        assert_eq!(keys(c), ["x", "y", "z"]);
        assert!(get(c, "<<").is_none());
    }

    #[test]
    fn merges_chain_and_keep_positions() {
        let d = doc("a: &a\n  s: [one]\nb: &b\n  <<: *a\nc:\n  <<: *b\n");
        let s = get(get(&d, "c").unwrap(), "s").unwrap();
        assert_eq!(s.as_seq().unwrap()[0].pos.line, 2);
    }

    #[test]
    fn duplicate_keys_keep_the_last() {
        let d = doc("a: 1\nb: 2\na: 3\n");
        assert_eq!(get(&d, "a").unwrap().as_str(), Some("3"));
        assert_eq!(keys(&d), ["b", "a"]);
    }

    #[test]
    fn quoted_merge_key_is_an_ordinary_key() {
        let d = doc("a: &a {x: 1}\nc:\n  '<<': *a\n");
        let c = get(&d, "c").unwrap();
        assert!(get(c, "x").is_none());
        assert!(get(c, "<<").is_some());
    }

    #[test]
    fn block_scalar_line_counts_leading_blank_lines() {
        let d = doc("run: |\n\n  a\nx: >-\n  b\ny: c\n");
        assert_eq!(script_line(get(&d, "run").unwrap()), 2);
        assert_eq!(script_line(get(&d, "x").unwrap()), 5);
        assert_eq!(script_line(get(&d, "y").unwrap()), 6);
    }

    #[test]
    fn parse_errors_carry_the_line() {
        let e = parse_docs("t.yml", b"a: 1\nb: [1,\nc: 2\n").unwrap_err();
        assert!(e.line >= 2, "{e:?}");
        assert_eq!(e.file, "t.yml");
    }
}
