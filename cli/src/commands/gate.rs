//! `cavra gate`.

use super::report;
use crate::args::GateArgs;
use crate::output;
use cavra_diff::{ContentLimits, RevisionsRequest};
use cavra_gate::{Approval, GateError, GateOptions, run_gate};
use cavra_policy::Date;
use cavra_report::{Format, RenderOptions, render};
use std::path::PathBuf;

/// Runs the gate and writes the requested outputs.
pub fn run(args: GateArgs) -> Result<u8, GateError> {
    let env = |k: &str| std::env::var(k).ok();
    let approvals = args
        .approvals
        .iter()
        .map(|a| parse_approval(a))
        .collect::<Result<Vec<_>, _>>()?;
    let reports = args
        .report
        .iter()
        .map(|r| parse_report(r))
        .collect::<Result<Vec<_>, _>>()?;
    let break_glass = args.break_glass.map(|justification| {
        let actor = args
            .actor
            .clone()
            .or_else(|| {
                ["GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_REQUESTEDFOR"]
                    .iter()
                    .find_map(|k| env(k))
            })
            .unwrap_or_default();
        (actor, justification)
    });
    let signer = match (&args.attest, args.signing.chosen()) {
        (Some(_), true) => args.signing.signer()?,
        (Some(_), false) => {
            return Err(GateError::Usage(
                "--attest needs a way to sign: --key KEY or --keyless".into(),
            ));
        }
        (None, true) => {
            return Err(GateError::Usage(
                "--key and --keyless sign the verdict bundle: add --attest FILE".into(),
            ));
        }
        (None, false) => None,
    };
    let markdown_template = report::read_template(args.markdown_template.as_deref())?;
    let opts = GateOptions {
        repo_path: args.repo,
        revisions: RevisionsRequest {
            base: args.base,
            head: Some(args.head),
        },
        policy_file: args.policy,
        mode: args.mode.map(super::mode),
        approvals,
        break_glass,
        today: Date::today(),
        threads: args.threads,
        content_limits: ContentLimits::default(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let verdict = run_gate(&opts, &env)?;
    let color = args.output.is_none() && output::use_color(args.color);
    let main_format = Format::parse(&args.format).expect("clap checked the format");
    let render_opts = |color| RenderOptions {
        color,
        markdown_template: markdown_template.clone(),
    };
    for (format, path) in &reports {
        let text = render(&verdict, *format, &render_opts(false)).map_err(GateError::Io)?;
        output::write(Some(path), &text).map_err(GateError::Io)?;
    }
    let text = render(&verdict, main_format, &render_opts(color)).map_err(GateError::Io)?;
    output::write(args.output.as_deref(), &text).map_err(GateError::Io)?;
    if let (Some(path), Some(signer)) = (&args.attest, &signer) {
        let statement = cavra_attestation::verdict::statement(&verdict);
        let signed = signer
            .sign_statement(&statement)
            .map_err(|e| GateError::Io(format!("--attest: {e}")))?;
        output::write(Some(path), &format!("{}\n", signed.json)).map_err(GateError::Io)?;
        eprintln!(
            "cavra: verdict attestation written to {} (signed by {})",
            path.display(),
            signed.signer
        );
    }
    if let Some(forge) = args.post {
        let posted = report::post(
            forge,
            &verdict,
            &args.post_args,
            markdown_template.as_deref(),
            &env,
        )
        .map_err(report::forge_error)?;
        report::print_posted(&posted);
    }
    Ok(report::verdict_code(verdict.verdict))
}

/// `GROUP=USER` or `GROUP=USER@SHA`.
fn parse_approval(text: &str) -> Result<Approval, GateError> {
    let bad = || {
        GateError::Usage(format!(
            "--approve takes GROUP=USER or GROUP=USER@SHA, not `{text}`"
        ))
    };
    let (group, rest) = text.split_once('=').ok_or_else(bad)?;
    let (approver, commit) = rest.split_once('@').unwrap_or((rest, ""));
    if group.is_empty() || approver.is_empty() {
        return Err(bad());
    }
    Ok(Approval {
        group: group.to_string(),
        approver: approver.to_string(),
        commit: commit.to_string(),
    })
}

/// `FORMAT=FILE`.
fn parse_report(text: &str) -> Result<(Format, PathBuf), GateError> {
    let (name, path) = text.split_once('=').unwrap_or((text, ""));
    let format = Format::parse(name).ok_or_else(|| {
        GateError::Usage(format!(
            "--report: unknown format `{name}` (expected one of: {})",
            Format::NAMES.join(", ")
        ))
    })?;
    if path.is_empty() {
        return Err(GateError::Usage(format!(
            "--report takes FORMAT=FILE, not `{text}`"
        )));
    }
    Ok((format, PathBuf::from(path)))
}
