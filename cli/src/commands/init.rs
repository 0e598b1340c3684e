//! `cavra init github|gitlab|azure`: writes a forge's CI template and a starter policy into a
//! repository, rendered with minijinja. Existing files are never overwritten without `--force`.
//!
//! The published templates (`gitlab-templates/`, `azure-pipelines/`) are copied verbatim; only
//! the small files that call them are rendered, so there is one template per forge.

use crate::args::{InitArgs, InitAttest, InitForge, ModeArg};
use cavra_gate::GateError;
use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, context};
use std::io::Write;
use std::path::Path;

const POLICY: &str = include_str!("../../templates/init/policy.yaml.j2");
const GITHUB_WORKFLOW: &str = include_str!("../../templates/init/github.yml.j2");
const GITLAB_CI: &str = include_str!("../../templates/init/gitlab-ci.yml.j2");
const AZURE_PIPELINE: &str = include_str!("../../templates/init/azure-pipelines.yml.j2");
const GITLAB_TEMPLATE: &str = include_str!("../../../gitlab-templates/cavra.gitlab-ci.yml");
const AZURE_STEPS: &str = include_str!("../../../azure-pipelines/cavra-steps.yml");

/// Where the copied GitLab template goes.
const GITLAB_TEMPLATE_PATH: &str = ".gitlab/ci/cavra.gitlab-ci.yml";
/// Where the copied Azure steps template goes, beside the pipeline that uses it.
const AZURE_STEPS_PATH: &str = ".azure-pipelines/cavra-steps.yml";

/// A file to write: where, and what.
struct Planned {
    path: &'static str,
    text: String,
    /// Left alone when it exists, even with `--force` (a project's own `.gitlab-ci.yml`).
    keep_existing: bool,
}

/// Runs `cavra init`.
pub fn run(args: InitArgs) -> Result<u8, GateError> {
    let planned = plan(&args)?;
    let root = &args.dir;
    if !root.is_dir() {
        return Err(GateError::Usage(format!(
            "{} is not a directory",
            root.display()
        )));
    }
    let (kept, planned): (Vec<Planned>, Vec<Planned>) = planned
        .into_iter()
        .partition(|p| p.keep_existing && root.join(p.path).exists());
    let existing: Vec<&str> = planned
        .iter()
        .filter(|p| root.join(p.path).exists())
        .map(|p| p.path)
        .collect();
    if !existing.is_empty() && !args.force {
        return Err(GateError::Usage(format!(
            "not overwriting {} in {}: pass --force to replace {}",
            existing.join(", "),
            root.display(),
            if existing.len() == 1 { "it" } else { "them" }
        )));
    }
    for p in &planned {
        write(&root.join(p.path), &p.text, args.force)
            .map_err(|e| GateError::Io(format!("cannot write {}: {e}", p.path)))?;
        let verb = if existing.contains(&p.path) {
            "replaced"
        } else {
            "wrote"
        };
        println!("{verb} {}", p.path);
    }
    for p in &kept {
        println!(
            "kept {} as it is: add `include: [{{ local: {GITLAB_TEMPLATE_PATH} }}]` to it",
            p.path
        );
    }
    println!("\n{}", next_steps(args.forge));
    Ok(crate::exit::PASS)
}

/// Every file `init` writes for this forge, rendered.
fn plan(args: &InitArgs) -> Result<Vec<Planned>, GateError> {
    let (pack, approver_key, approver_example) = match args.forge {
        InitForge::Github => ("github", "github", "\"@your-org/security\""),
        InitForge::Gitlab => ("gitlab", "gitlab", "\"your-group/security\""),
        InitForge::Azure => ("azure-devops", "azure", "\"[your-project]\\\\Security\""),
    };
    let vars = context! {
        forge => forge_name(args.forge),
        cavra_version => env!("CARGO_PKG_VERSION"),
        mode => mode_name(args.mode),
        attest => match args.attest { InitAttest::None => "none", InitAttest::Keyless => "keyless" },
        pack,
        approver_key,
        approver_example,
        template_path => GITLAB_TEMPLATE_PATH,
        template_file => Path::new(AZURE_STEPS_PATH).file_name().unwrap().to_string_lossy(),
    };
    let render = |name: &str, source: &str| -> Result<String, GateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let syntax = SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .map_err(|e| GateError::Usage(format!("template syntax: {e}")))?;
        env.set_syntax(syntax);
        env.render_str(source, &vars)
            .map_err(|e| GateError::Usage(format!("template {name}: {e}")))
    };
    let mut files = match args.forge {
        InitForge::Github => vec![Planned {
            path: ".github/workflows/cavra.yml",
            text: render("github.yml", GITHUB_WORKFLOW)?,
            keep_existing: false,
        }],
        InitForge::Gitlab => vec![
            Planned {
                path: GITLAB_TEMPLATE_PATH,
                text: GITLAB_TEMPLATE.to_string(),
                keep_existing: false,
            },
            Planned {
                path: ".gitlab-ci.yml",
                text: render("gitlab-ci.yml", GITLAB_CI)?,
                keep_existing: true,
            },
        ],
        InitForge::Azure => vec![
            Planned {
                path: AZURE_STEPS_PATH,
                text: AZURE_STEPS.to_string(),
                keep_existing: false,
            },
            Planned {
                path: ".azure-pipelines/cavra.yml",
                text: render("azure-pipelines.yml", AZURE_PIPELINE)?,
                keep_existing: false,
            },
        ],
    };
    files.push(Planned {
        path: ".cavra/policy.yaml",
        text: render("policy.yaml", POLICY)?,
        keep_existing: false,
    });
    Ok(files)
}

/// Writes `text` to `path`, creating its directory; without `force`, fails if it exists
/// (checked again at creation, so a file that appears meanwhile is not replaced).
fn write(path: &Path, text: &str, force: bool) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

fn forge_name(forge: InitForge) -> &'static str {
    match forge {
        InitForge::Github => "github",
        InitForge::Gitlab => "gitlab",
        InitForge::Azure => "azure",
    }
}

fn mode_name(mode: ModeArg) -> &'static str {
    match mode {
        ModeArg::Audit => "audit",
        ModeArg::Enforce => "enforce",
        ModeArg::Strict => "strict",
    }
}

/// What to do after the files are written.
fn next_steps(forge: InitForge) -> String {
    let steps = match forge {
        InitForge::Github => {
            "Next:\n  1. Commit both files and open a pull request.\n  2. Settings -> Rules: require the status check `cavra/gate`.\n  3. Fill in the approver groups in .cavra/policy.yaml."
        }
        InitForge::Gitlab => {
            "Next:\n  1. Commit the files (if you already had a .gitlab-ci.yml, add\n     `include: [{ local: .gitlab/ci/cavra.gitlab-ci.yml }]` to it instead).\n  2. Add a masked CI/CD variable CAVRA_GITLAB_TOKEN: a project access token, api scope,\n     Reporter role (for the cavra/gate status and the merge request note).\n  3. Settings -> Merge requests: turn on \"Pipelines must succeed\"."
        }
        InitForge::Azure => {
            "Next:\n  1. Commit the files and create a pipeline from .azure-pipelines/cavra.yml.\n  2. Allow the build service \"Contribute to pull requests\" on the repository.\n  3. Branch policies for main: build validation with this pipeline, and a required\n     status check on cavra/gate."
        }
    };
    steps.to_string()
}
