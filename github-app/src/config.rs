//! The App's configuration: a TOML file, then environment variables (`CAVRA_APP_*`) over it.
//! Secrets (the webhook secret, the App's private key) are read from files or variables and are
//! never printed: `Debug` shows only whether they are set.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Everything the App needs to run.
#[derive(Clone)]
pub struct Config {
    /// The GitHub App id.
    pub app_id: u64,
    /// The App's private key (PEM), used to sign the App JWT.
    pub private_key_pem: String,
    /// The webhook secret (`X-Hub-Signature-256`).
    pub webhook_secret: String,
    /// The REST API root: `https://api.github.com/` or `https://ghe.example.com/api/v3/`.
    pub api_url: String,
    /// A replacement for the `https://github.com/` (or GHES host) prefix of clone URLs, for
    /// mirrors and tests; `None` clones from the URL GitHub gives.
    pub git_url: Option<String>,
    /// Where deliveries and verdicts are kept: `sqlite:PATH` (default `sqlite:cavra-app.db`) or
    /// `postgres://...`.
    pub database_url: String,
    /// Where repositories are cached (one bare repository each).
    pub cache_dir: PathBuf,
    /// Address to listen on.
    pub listen: String,
    /// Evaluations run at once.
    pub workers: usize,
    /// Largest webhook body accepted.
    pub max_body_bytes: usize,
    /// How long a claimed job is held before another worker may take it over.
    pub lease: Duration,
    /// A signing key for verdicts (`KeySource` syntax: a path or `env:NAME`); `None` leaves
    /// verdicts unsigned.
    pub signing_key: Option<String>,
    /// Upload each signed verdict to GitHub's attestations API.
    pub upload_attestations: bool,
    /// Users allowed to break the glass (label `cavra:break-glass` plus a comment).
    pub break_glass_users: Vec<String>,
    /// A minijinja template replacing the built-in check-run summary (its text).
    pub summary_template: Option<String>,
    /// The App's public base URL; when set, check runs link to `/verdicts/{id}` there.
    pub public_url: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("app_id", &self.app_id)
            .field("private_key_pem", &"***")
            .field("webhook_secret", &"***")
            .field("api_url", &self.api_url)
            .field("git_url", &self.git_url)
            .field("database_url", &redact_url(&self.database_url))
            .field("cache_dir", &self.cache_dir)
            .field("listen", &self.listen)
            .field("workers", &self.workers)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("lease", &self.lease)
            .field("signing_key", &self.signing_key.as_ref().map(|_| "***"))
            .field("upload_attestations", &self.upload_attestations)
            .field("break_glass_users", &self.break_glass_users)
            .field(
                "summary_template",
                &self.summary_template.as_ref().map(|_| "(set)"),
            )
            .finish()
    }
}

/// A database URL without its password.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// The file's shape (every field optional; the environment may fill it in).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    app_id: Option<u64>,
    private_key_path: Option<PathBuf>,
    webhook_secret: Option<String>,
    webhook_secret_path: Option<PathBuf>,
    api_url: Option<String>,
    git_url: Option<String>,
    database_url: Option<String>,
    cache_dir: Option<PathBuf>,
    listen: Option<String>,
    workers: Option<usize>,
    max_body_bytes: Option<usize>,
    lease_seconds: Option<u64>,
    signing_key: Option<String>,
    upload_attestations: Option<bool>,
    break_glass_users: Option<Vec<String>>,
    summary_template_path: Option<PathBuf>,
    public_url: Option<String>,
}

/// Reads the configuration from `file` (if any) and the environment.
pub fn load(file: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, String> {
    let f: File = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => File::default(),
    };
    let var = |name: &str| {
        env(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut missing = Vec::new();
    let app_id = match var("CAVRA_APP_ID") {
        Some(v) => Some(
            v.parse()
                .map_err(|_| format!("CAVRA_APP_ID: not a number: {v}"))?,
        ),
        None => f.app_id,
    };
    if app_id.is_none() {
        missing.push("app_id (CAVRA_APP_ID)");
    }
    let key_path = var("CAVRA_APP_PRIVATE_KEY_PATH")
        .map(PathBuf::from)
        .or(f.private_key_path);
    let private_key_pem =
        match (var("CAVRA_APP_PRIVATE_KEY"), key_path) {
            (Some(pem), _) => Some(pem),
            (None, Some(path)) => Some(std::fs::read_to_string(&path).map_err(|e| {
                format!("cannot read the App's private key {}: {e}", path.display())
            })?),
            (None, None) => None,
        };
    if private_key_pem.is_none() {
        missing.push("private_key_path (CAVRA_APP_PRIVATE_KEY_PATH or CAVRA_APP_PRIVATE_KEY)");
    }
    let secret_path = var("CAVRA_APP_WEBHOOK_SECRET_PATH")
        .map(PathBuf::from)
        .or(f.webhook_secret_path);
    let webhook_secret = match (
        var("CAVRA_APP_WEBHOOK_SECRET"),
        f.webhook_secret,
        secret_path,
    ) {
        (Some(s), _, _) | (None, Some(s), _) => Some(s),
        (None, None, Some(path)) => Some(
            std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read the webhook secret {}: {e}", path.display()))?
                .trim()
                .to_string(),
        ),
        (None, None, None) => None,
    };
    if webhook_secret.as_deref().is_none_or(str::is_empty) {
        missing.push("webhook_secret (CAVRA_APP_WEBHOOK_SECRET or CAVRA_APP_WEBHOOK_SECRET_PATH)");
    }
    if !missing.is_empty() {
        return Err(format!("missing configuration: {}", missing.join(", ")));
    }
    let number = |name: &str, from_file: Option<usize>, default: usize| -> Result<usize, String> {
        match var(name) {
            Some(v) => v.parse().map_err(|_| format!("{name}: not a number: {v}")),
            None => Ok(from_file.unwrap_or(default)),
        }
    };
    let mut api_url = var("CAVRA_APP_API_URL")
        .or(f.api_url)
        .unwrap_or_else(|| "https://api.github.com/".to_string());
    if !api_url.ends_with('/') {
        api_url.push('/');
    }
    let workers = number("CAVRA_APP_WORKERS", f.workers, 4)?;
    if workers == 0 {
        return Err("workers must be at least 1".into());
    }
    Ok(Config {
        app_id: app_id.unwrap_or_default(),
        private_key_pem: private_key_pem.unwrap_or_default(),
        webhook_secret: webhook_secret.unwrap_or_default(),
        api_url,
        git_url: var("CAVRA_APP_GIT_URL").or(f.git_url),
        database_url: var("CAVRA_APP_DATABASE_URL")
            .or(f.database_url)
            .unwrap_or_else(|| "sqlite:cavra-app.db".to_string()),
        cache_dir: var("CAVRA_APP_CACHE_DIR")
            .map(PathBuf::from)
            .or(f.cache_dir)
            .unwrap_or_else(|| PathBuf::from("cavra-app-cache")),
        listen: var("CAVRA_APP_LISTEN")
            .or(f.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".to_string()),
        workers,
        max_body_bytes: number("CAVRA_APP_MAX_BODY_BYTES", f.max_body_bytes, 5 << 20)?,
        lease: Duration::from_secs(number(
            "CAVRA_APP_LEASE_SECONDS",
            f.lease_seconds.map(|s| s as usize),
            300,
        )? as u64),
        signing_key: var("CAVRA_APP_SIGNING_KEY").or(f.signing_key),
        upload_attestations: match var("CAVRA_APP_UPLOAD_ATTESTATIONS") {
            Some(v) => v == "true" || v == "1",
            None => f.upload_attestations.unwrap_or(false),
        },
        break_glass_users: f.break_glass_users.unwrap_or_default(),
        public_url: var("CAVRA_APP_PUBLIC_URL")
            .or(f.public_url)
            .map(|u| u.trim_end_matches('/').to_string()),
        summary_template: match var("CAVRA_APP_SUMMARY_TEMPLATE_PATH")
            .map(PathBuf::from)
            .or(f.summary_template_path)
        {
            Some(path) => Some(std::fs::read_to_string(&path).map_err(|e| {
                format!("cannot read the summary template {}: {e}", path.display())
            })?),
            None => None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_over_file_and_secrets_never_print() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("app.pem");
        std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\nxyz\n").unwrap();
        let file = dir.path().join("app.toml");
        std::fs::write(
            &file,
            format!(
                "app_id = 7\nprivate_key_path = {:?}\nwebhook_secret = \"s3cret-value\"\nworkers = 2\ndatabase_url = \"postgres://app:pw123@db/cavra\"\n",
                key.display().to_string()
            ),
        )
        .unwrap();
        let env = |k: &str| (k == "CAVRA_APP_WORKERS").then(|| "8".to_string());
        let c = load(Some(&file), &env).unwrap();
        assert_eq!((c.app_id, c.workers), (7, 8));
        assert_eq!(c.api_url, "https://api.github.com/");
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("s3cret-value") && !shown.contains("xyz") && !shown.contains("pw123"),
            "{shown}"
        );
        assert!(shown.contains("postgres://app:***@db/cavra"), "{shown}");
    }

    #[test]
    fn missing_settings_are_named_and_unknown_keys_refused() {
        let err = load(None, &|_| None).unwrap_err();
        assert!(
            err.contains("CAVRA_APP_ID") && err.contains("webhook_secret"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("app.toml");
        std::fs::write(&file, "app_idd = 1\n").unwrap();
        let err = load(Some(&file), &|_| None).unwrap_err();
        assert!(err.contains("app_idd"), "{err}");
    }
}
