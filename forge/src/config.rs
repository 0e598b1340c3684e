//! What every forge's configuration reads the same way: CI variables, and the API URL a token
//! may be sent to.

/// The CI variable `name`, trimmed; `None` when it is unset or blank.
pub(crate) fn var(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// An API root a token may be sent to: `https`, or `http` only to a loopback host (a local
/// test server), so a token never crosses the network in clear; with a host and without
/// credentials, query or fragment. The path ends with `/`, so relative paths join below it.
/// `example` completes the message for a URL that is not a plain root.
pub(crate) fn api_root(url: &str, example: &str) -> Result<reqwest::Url, String> {
    let url = url.trim();
    let mut parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    let Some(host) = parsed.host_str() else {
        return Err(format!("{url:?} has no host"));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(format!(
                "{url:?} uses http://; the token is only sent over https:// (http:// only to a \
                 loopback host)"
            ));
        }
        other => return Err(format!("{url:?}: unsupported scheme {other}, use https://")),
    }
    if parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(format!(
            "{url:?} must be a plain API root such as {example}"
        ));
    }
    if !parsed.path().ends_with('/') {
        let path = format!("{}/", parsed.path());
        parsed.set_path(&path);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_roots_are_https_or_loopback() {
        let root = |url: &str| api_root(url, "https://gitlab.com/api/v4");
        assert!(root("https://gitlab.com/api/v4").is_ok());
        let prefixed = root("https://example.com/gitlab/api/v4").unwrap();
        assert_eq!(
            prefixed.join("projects/1").unwrap().as_str(),
            "https://example.com/gitlab/api/v4/projects/1"
        );
        assert!(root("http://127.0.0.1:8080/api/v4").is_ok());
        assert!(root("http://localhost/api/v4").is_ok());
        assert!(root("http://[::1]:8080/tfs/").is_ok());
        let insecure = root("http://gitlab.example.com/api/v4").unwrap_err();
        assert!(insecure.contains("https://"), "{insecure}");
        assert!(root("ftp://ado.example.com/").is_err());
        assert!(root("https://user:pw@gitlab.com/api/v4").is_err());
        assert!(root("https://gitlab.com/api/v4?x=1").is_err());
    }

    #[test]
    fn variables_are_trimmed_and_blank_is_unset() {
        let env = |k: &str| match k {
            "A" => Some(" a \n".to_string()),
            "B" => Some("  ".to_string()),
            _ => None,
        };
        assert_eq!(var(&env, "A").as_deref(), Some("a"));
        assert_eq!(var(&env, "B"), None);
        assert_eq!(var(&env, "C"), None);
    }
}
