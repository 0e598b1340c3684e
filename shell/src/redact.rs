//! Hiding likely secrets in command text before it is shown or stored.
//!
//! Each matcher marks byte spans of secret values; the spans are merged and replaced by `***`.
//! A value that is a reference (`$TOKEN`, `${TOKEN}`, `${{ secrets.X }}`, `$(Azure.Var)`,
//! `%VAR%`) names a secret without holding it and is kept. Spans always start and end next to
//! ASCII bytes, so the result stays valid UTF-8.

/// `text` with the values of likely secrets replaced by `***`.
pub(crate) fn redact(text: &str) -> String {
    let b = text.as_bytes();
    let quotes = quote_states(b);
    let mut spans = Vec::new();
    urls(b, &mut spans);
    headers(b, &quotes, &mut spans);
    options(b, &quotes, &mut spans);
    assignments(b, &quotes, &mut spans);
    tokens(b, &mut spans);
    apply(text, spans)
}

/// For each byte, the quote (`'` or `"`) it is inside of, or 0.
fn quote_states(b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; b.len()];
    let mut state = 0u8;
    let mut i = 0;
    while i < b.len() {
        out[i] = state;
        match (state, b[i]) {
            (0 | b'"', b'\\') if i + 1 < b.len() => {
                out[i + 1] = state;
                i += 1;
            }
            (0, q @ (b'\'' | b'"')) => state = q,
            (q, c) if q != 0 && c == q => state = 0,
            _ => {}
        }
        i += 1;
    }
    out
}

/// The span of the value starting at `p`: inside its quotes when it starts with one, else up
/// to the closing quote of the quotes it is in, else up to a blank or quote.
fn value_span(b: &[u8], quotes: &[u8], p: usize) -> (usize, usize) {
    let (start, q) = match b.get(p) {
        Some(&c @ (b'\'' | b'"')) if quotes[p] == 0 => (p + 1, c),
        _ => (p, quotes.get(p).copied().unwrap_or(0)),
    };
    let mut i = start;
    while i < b.len() {
        let c = b[i];
        if q != 0 {
            if c == b'\\' && q == b'"' {
                i += 2;
                continue;
            }
            if c == q {
                break;
            }
        } else if c.is_ascii_whitespace() || c == b'\'' || c == b'"' {
            break;
        }
        i += 1;
    }
    (start, i.min(b.len()))
}

/// The value names a secret rather than holding one.
fn is_reference(value: &[u8]) -> bool {
    value.is_empty() || matches!(value[0], b'$' | b'%') || value == b"***"
}

fn push_value(b: &[u8], span: (usize, usize), spans: &mut Vec<(usize, usize)>) {
    if span.0 < span.1 && !is_reference(&b[span.0..span.1]) {
        spans.push(span);
    }
}

/// Word boundary before `i`: start, blank, quote or punctuation.
fn boundary(b: &[u8], i: usize) -> bool {
    i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
}

/// `scheme://user:password@host`: the password.
fn urls(b: &[u8], spans: &mut Vec<(usize, usize)>) {
    let mut i = 0;
    while i + 3 <= b.len() {
        if &b[i..i + 3] != b"://" {
            i += 1;
            continue;
        }
        let a = i + 3;
        let mut j = a;
        while j < b.len()
            && !matches!(
                b[j],
                b'/' | b'?' | b'#' | b'@' | b'\'' | b'"' | b'<' | b'>' | b'`'
            )
            && !b[j].is_ascii_whitespace()
        {
            j += 1;
        }
        if b.get(j) == Some(&b'@')
            && let Some(k) = b[a..j].iter().position(|c| *c == b':')
        {
            push_value(b, (a + k + 1, j), spans);
        }
        i = j.max(i + 1);
    }
}

/// `Authorization: ...`, `PRIVATE-TOKEN: ...`, `X-Api-Key: ...` and `Bearer ...` values.
fn headers(b: &[u8], quotes: &[u8], spans: &mut Vec<(usize, usize)>) {
    for (colon, _) in b.iter().enumerate().filter(|(_, c)| **c == b':') {
        let mut s = colon;
        while s > 0 && (b[s - 1].is_ascii_alphanumeric() || matches!(b[s - 1], b'-' | b'_')) {
            s -= 1;
        }
        if s == colon || !boundary(b, s) {
            continue;
        }
        let name = String::from_utf8_lossy(&b[s..colon]).to_ascii_lowercase();
        let whole = name == "authorization" || name == "proxy-authorization";
        let sensitive = whole
            || [
                "token", "secret", "password", "passwd", "api-key", "apikey", "api_key", "auth",
            ]
            .iter()
            .any(|k| name.contains(k));
        if !sensitive {
            continue;
        }
        let mut p = colon + 1;
        while b.get(p) == Some(&b' ') {
            p += 1;
        }
        if p == colon + 1 && b.get(p).is_some_and(|c| *c == b'/') {
            continue; // a URL, not a header
        }
        let (start, end) = value_span(b, quotes, p);
        if start >= end {
            continue;
        }
        // The credential after a scheme word (`Bearer x`, `token x`) decides if it is a reference.
        let value = &b[start..end];
        let credential = match value.iter().position(|c| *c == b' ') {
            Some(k) if whole => &value[k + 1..],
            _ => value,
        };
        let credential = credential.trim_ascii_start();
        if !is_reference(credential) {
            spans.push((start, end));
        }
    }
    // `Bearer x` anywhere.
    let lower = b.to_ascii_lowercase();
    let mut i = 0;
    while let Some(k) = find(&lower[i..], b"bearer ") {
        let at = i + k;
        i = at + 7;
        if !boundary(b, at) {
            continue;
        }
        let mut p = i;
        while b.get(p) == Some(&b' ') {
            p += 1;
        }
        let (start, end) = value_span(b, quotes, p);
        push_value(b, (start, end), spans);
    }
}

/// `--password X`, `--token=X`, `-ApiKey X`...: the value.
fn options(b: &[u8], quotes: &[u8], spans: &mut Vec<(usize, usize)>) {
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'-' || !(i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'\n' | b'\'' | b'"')) {
            i += 1;
            continue;
        }
        let mut s = i;
        while b.get(s) == Some(&b'-') {
            s += 1;
        }
        let mut e = s;
        while e < b.len() && (b[e].is_ascii_alphanumeric() || matches!(b[e], b'-' | b'_')) {
            e += 1;
        }
        let name = String::from_utf8_lossy(&b[s..e]).to_ascii_lowercase();
        i = e.max(i + 1);
        if e - s < 3 || !sensitive_option(&name) {
            continue;
        }
        match b.get(e) {
            Some(b'=') => push_value(b, value_span(b, quotes, e + 1), spans),
            Some(b' ' | b'\t') => {
                let mut p = e;
                while matches!(b.get(p), Some(b' ' | b'\t')) {
                    p += 1;
                }
                let next = if matches!(b.get(p), Some(b'\'' | b'"')) {
                    b.get(p + 1)
                } else {
                    b.get(p)
                };
                if next.is_some_and(|c| *c != b'-') && quotes.get(e) == quotes.get(p) {
                    push_value(b, value_span(b, quotes, p), spans);
                }
            }
            Some(q @ (b'\'' | b'"')) if quotes[e] == *q => {
                // `'--password=x'` style ends here; `--password 'x'` handled above.
            }
            _ => {}
        }
    }
}

/// An option name (without dashes) whose value is likely a secret.
fn sensitive_option(name: &str) -> bool {
    let parts: Vec<&str> = name.split(['-', '_']).collect();
    const HARMLESS_LAST: [&str; 16] = [
        "file", "path", "stdin", "id", "name", "ring", "server", "url", "dir", "type", "size",
        "length", "env", "var", "only", "format",
    ];
    if parts.last().is_some_and(|l| HARMLESS_LAST.contains(l)) {
        return false;
    }
    const PARTS: [&str; 11] = [
        "pass",
        "password",
        "passwd",
        "passphrase",
        "token",
        "secret",
        "apikey",
        "key",
        "credential",
        "credentials",
        "pat",
    ];
    parts.iter().any(|p| PARTS.contains(p))
        || ["password", "token", "secret", "apikey"]
            .iter()
            .any(|k| name.contains(k))
}

/// `NAME=value` where NAME looks like it holds a secret.
fn assignments(b: &[u8], quotes: &[u8], spans: &mut Vec<(usize, usize)>) {
    let mut i = 0;
    while i < b.len() {
        let starts = (b[i].is_ascii_alphabetic() || b[i] == b'_')
            && (i == 0
                || matches!(
                    b[i - 1],
                    b' ' | b'\t' | b'\n' | b'\'' | b'"' | b';' | b':' | b'('
                ));
        if !starts {
            i += 1;
            continue;
        }
        let mut e = i;
        while e < b.len() && (b[e].is_ascii_alphanumeric() || b[e] == b'_') {
            e += 1;
        }
        if b.get(e) == Some(&b'=') && sensitive_name(&b[i..e]) {
            push_value(b, value_span(b, quotes, e + 1), spans);
        }
        i = e.max(i + 1);
    }
}

/// A variable name that likely holds a secret.
fn sensitive_name(name: &[u8]) -> bool {
    let upper = String::from_utf8_lossy(name).to_ascii_uppercase();
    ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL"]
        .iter()
        .any(|k| upper.contains(k))
        || upper.split('_').any(|p| p == "PASS" || p == "PAT")
}

/// Well-known token formats.
fn tokens(b: &[u8], spans: &mut Vec<(usize, usize)>) {
    let alnum = |c: u8| c.is_ascii_alphanumeric();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let dashed = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    let upper = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    // (prefix, allowed bytes after it, least count, exact count)
    type Rule = (&'static [u8], fn(u8) -> bool, usize, bool);
    let rules: [Rule; 13] = [
        (b"ghp_", alnum, 20, false),
        (b"gho_", alnum, 20, false),
        (b"ghu_", alnum, 20, false),
        (b"ghs_", alnum, 20, false),
        (b"ghr_", alnum, 20, false),
        (b"github_pat_", word, 20, false),
        (b"glpat-", dashed, 20, false),
        (b"AKIA", upper, 16, true),
        (b"ASIA", upper, 16, true),
        (b"sk-", dashed, 20, false),
        (b"npm_", alnum, 36, false),
        (b"AIza", dashed, 35, false),
        (b"xox", dashed, 10, false),
    ];
    let mut i = 0;
    while i < b.len() {
        if !boundary(b, i) || !b[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let mut matched = None;
        for (prefix, allowed, least, exact) in rules.iter() {
            let Some(rest) = b[i..].strip_prefix(*prefix) else {
                continue;
            };
            if *prefix == b"xox" {
                // xoxb-, xoxa-, xoxp-, xoxr-, xoxs-
                if !(rest.len() > 2 && b"baprs".contains(&rest[0]) && rest[1] == b'-') {
                    continue;
                }
                let n = rest[2..].iter().take_while(|c| allowed(**c)).count();
                if n >= *least {
                    matched = Some(i + prefix.len() + 2 + n);
                }
                break;
            }
            let n = rest.iter().take_while(|c| allowed(**c)).count();
            if (*exact && n == *least) || (!*exact && n >= *least) {
                matched = Some(i + prefix.len() + n);
                break;
            }
        }
        if matched.is_none() {
            matched = jwt(b, i);
        }
        match matched {
            Some(end) => {
                spans.push((i, end));
                i = end;
            }
            None => i += 1,
        }
    }
}

/// `eyJ...` `.` `eyJ...` `.` signature: the end of the token at `i`.
fn jwt(b: &[u8], i: usize) -> Option<usize> {
    let part = |from: usize| {
        b[from..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-'))
            .count()
    };
    if !b[i..].starts_with(b"eyJ") {
        return None;
    }
    let header = part(i);
    let dot = i + header;
    if header < 8 || b.get(dot) != Some(&b'.') || !b[dot + 1..].starts_with(b"eyJ") {
        return None;
    }
    let payload = part(dot + 1);
    let mut end = dot + 1 + payload;
    if b.get(end) == Some(&b'.') {
        end += 1 + part(end + 1);
    }
    Some(end)
}

/// The offset of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `text` with the merged spans replaced by `***`.
fn apply(text: &str, mut spans: Vec<(usize, usize)>) -> String {
    spans.retain(|&(s, e)| s < e && text.is_char_boundary(s) && text.is_char_boundary(e));
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in spans {
        if e <= at {
            continue;
        }
        let s = s.max(at);
        out.push_str(&text[at..s]);
        out.push_str("***");
        at = e;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn urls() {
        assert_eq!(
            redact("git clone https://u:p4ss@github.com/x"),
            "git clone https://u:***@github.com/x"
        );
        assert_eq!(redact("https://user@host/x"), "https://user@host/x");
        assert_eq!(redact("https://u:$PASS@host"), "https://u:$PASS@host");
        assert_eq!(redact("https://host:8080/x@y"), "https://host:8080/x@y");
    }

    #[test]
    fn headers() {
        assert_eq!(
            redact("curl -H 'Authorization: Bearer abc' https://x"),
            "curl -H 'Authorization: ***' https://x"
        );
        assert_eq!(
            redact(r#"curl -H "Authorization: token abc123" x"#),
            r#"curl -H "Authorization: ***" x"#
        );
        assert_eq!(
            redact("curl -H 'Authorization: Bearer ${{ secrets.T }}' x"),
            "curl -H 'Authorization: Bearer ${{ secrets.T }}' x"
        );
        assert_eq!(
            redact("curl -H 'Authorization: Bearer $TOKEN' x"),
            "curl -H 'Authorization: Bearer $TOKEN' x"
        );
        assert_eq!(
            redact("curl --header 'PRIVATE-TOKEN: glx123' x"),
            "curl --header 'PRIVATE-TOKEN: ***' x"
        );
        assert_eq!(redact("echo 'bearer abc def'"), "echo 'bearer ***'");
        assert_eq!(redact("echo time: 10:00"), "echo time: 10:00");
    }

    #[test]
    fn options() {
        assert_eq!(
            redact("login --password hunter2 -u me"),
            "login --password *** -u me"
        );
        assert_eq!(redact("x --token=abc y"), "x --token=*** y");
        assert_eq!(redact("x --api-key 'a b'"), "x --api-key '***'");
        assert_eq!(redact("x --token $T"), "x --token $T");
        assert_eq!(
            redact("docker login --password-stdin -u me"),
            "docker login --password-stdin -u me"
        );
        assert_eq!(redact("x --token --verbose"), "x --token --verbose");
        assert_eq!(
            redact("gpg --keyserver k.example --key-file f"),
            "gpg --keyserver k.example --key-file f"
        );
        assert_eq!(redact("x -Password s3cret"), "x -Password ***");
        assert_eq!(redact("x -p secret"), "x -p secret");
    }

    #[test]
    fn assignments() {
        assert_eq!(redact("GITHUB_TOKEN=abc make"), "GITHUB_TOKEN=*** make");
        assert_eq!(
            redact("export AWS_SECRET_ACCESS_KEY='x y'"),
            "export AWS_SECRET_ACCESS_KEY='***'"
        );
        assert_eq!(redact("DB_PASS=x"), "DB_PASS=***");
        assert_eq!(
            redact("TOKEN=${{ secrets.T }} x"),
            "TOKEN=${{ secrets.T }} x"
        );
        assert_eq!(redact("TOKEN=$T x"), "TOKEN=$T x");
        assert_eq!(redact("A=1 PATH=/x"), "A=1 PATH=/x");
        assert_eq!(
            redact("docker run -e API_KEY=k1 img"),
            "docker run -e API_KEY=*** img"
        );
    }

    #[test]
    fn token_formats() {
        let ghp = format!("ghp_{}", "a1".repeat(18));
        assert_eq!(redact(&format!("echo {ghp} x")), "echo *** x");
        assert_eq!(redact(&format!("x{ghp}")), format!("x{ghp}"));
        assert_eq!(redact("AKIAABCDEFGHIJKLMNOP"), "***");
        assert_eq!(redact("AKIAABCDEFGHIJKLMNOPQ"), "AKIAABCDEFGHIJKLMNOPQ");
        assert_eq!(redact(&format!("glpat-{}", "x".repeat(20))), "***");
        assert_eq!(redact(&format!("github_pat_{}", "A_1".repeat(10))), "***");
        assert_eq!(redact("xoxb-1234567890-abc"), "***");
        assert_eq!(redact(&format!("sk-proj-{}", "a".repeat(30))), "***");
        assert_eq!(
            redact("task-abcdefghijklmnopqrstuvwxyz"),
            "task-abcdefghijklmnopqrstuvwxyz"
        );
        assert_eq!(
            redact("t eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_x-y z"),
            "t *** z"
        );
        assert_eq!(
            redact("${{ secrets.GHP_TOKEN }}"),
            "${{ secrets.GHP_TOKEN }}"
        );
    }

    #[test]
    fn never_panics_and_keeps_text() {
        for s in [
            "",
            "é",
            "'",
            "\"",
            "\\",
            "a=",
            "--token",
            "://",
            "x://a:@",
            "eyJ",
            "é://é:é@é",
            "Authorization:",
        ] {
            let _ = redact(s);
        }
        assert_eq!(redact("plain text é"), "plain text é");
    }
}
