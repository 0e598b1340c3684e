//! API tokens: kept out of every `Debug`, `Display` and error message.

/// A secret API token. It prints as `***`; [`Token::expose`] is the only way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token, trimming surrounding whitespace (a trailing newline from a file or secret).
    pub fn new(secret: impl Into<String>) -> Token {
        Token(secret.into().trim().to_string())
    }

    /// The first non-empty variable among `names`, with the name it came from.
    pub fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
        names: &[&'static str],
    ) -> Option<(Token, &'static str)> {
        names.iter().find_map(|name| {
            env(name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (Token::new(v), *name))
        })
    }

    /// The secret, for an `Authorization` header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of the token in `text` (for messages that echo a response).
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_string();
        }
        text.replace(&self.0, "***")
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_never_prints() {
        let t = Token::new("ghs_abcdef123456\n");
        assert_eq!(t.expose(), "ghs_abcdef123456");
        assert_eq!(format!("{t} {t:?}"), "*** Token(***)");
        assert_eq!(t.scrub("bad token ghs_abcdef123456!"), "bad token ***!");
        let env = |k: &str| (k == "B").then(|| "tok".to_string());
        let (t, from) = Token::from_env(&env, &["A", "B"]).unwrap();
        assert_eq!((t.expose(), from), ("tok", "B"));
    }
}
