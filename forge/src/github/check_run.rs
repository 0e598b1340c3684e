//! The check run: completed with its conclusion and annotations (50 a request, at most
//! [`MAX_ANNOTATIONS`]), or `in_progress` while the gate runs.

use cavra_gate::Verdict;
use cavra_report::{Annotation, Level};
use octocrab::params::checks::{
    CheckRunConclusion, CheckRunOutput, CheckRunOutputAnnotation, CheckRunOutputAnnotationLevel,
    CheckRunStatus,
};
use serde::Serialize;

use super::client::{Client, Failure};
use super::{
    ANNOTATIONS_PER_REQUEST, FORGE, MAX_ANNOTATION_MESSAGE_BYTES, MAX_ANNOTATION_TITLE_CHARS,
    MAX_ANNOTATIONS, MAX_SUMMARY_CHARS, plural,
};
use crate::present::{self, GateState, cut_bytes, cut_chars};
use crate::{ForgeError, Posted, STATUS_NAME};

/// The check run's body for create and update requests.
#[derive(Serialize)]
struct CheckRunBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    head_sha: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<CheckRunStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conclusion: Option<CheckRunConclusion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<CheckRunOutput>,
}

/// The conclusion of a completed check run.
fn conclusion_of(state: GateState) -> (CheckRunConclusion, &'static str) {
    match state {
        GateState::Success => (CheckRunConclusion::Success, "success"),
        GateState::Neutral => (CheckRunConclusion::Neutral, "neutral"),
        GateState::ActionRequired => (CheckRunConclusion::ActionRequired, "action_required"),
        GateState::Failure => (CheckRunConclusion::Failure, "failure"),
    }
}

impl Client<'_> {
    /// Creates the completed check run, then adds the annotations beyond the first batch.
    pub(super) fn check_run(
        &self,
        verdict: &Verdict,
        state: GateState,
        title: &str,
        summary_markdown: &str,
    ) -> Result<Posted, Failure> {
        let all = cavra_report::annotations(verdict);
        let shown = all.len().min(MAX_ANNOTATIONS);
        let summary = check_run_summary(summary_markdown, all.len(), shown);
        let (conclusion, word) = conclusion_of(state);
        let batches: Vec<&[Annotation]> = all[..shown].chunks(ANNOTATIONS_PER_REQUEST).collect();
        let output = |batch: Option<&&[Annotation]>| CheckRunOutput {
            title: title.to_string(),
            summary: summary.clone(),
            text: None,
            annotations: batch.map_or_else(Vec::new, |b| b.iter().map(annotation).collect()),
            images: Vec::new(),
        };
        let create = CheckRunBody {
            name: Some(STATUS_NAME),
            head_sha: Some(&verdict.revisions.head),
            details_url: self.cfg.details_url.as_deref(),
            external_id: Some(verdict.policy.sha256.as_str()).filter(|s| !s.is_empty()),
            status: Some(CheckRunStatus::Completed),
            conclusion: Some(conclusion),
            output: Some(output(batches.first())),
        };
        let route = format!("/repos/{}/{}/check-runs", self.owner, self.name);
        let created = self
            .send("create check run", http::Method::POST, &route, &create)
            .map_err(Failure::Create)?;
        let id = created.id.ok_or_else(|| {
            Failure::Later(ForgeError::Api {
                forge: FORGE,
                operation: "create check run".to_string(),
                status: 201,
                message: "the answer holds no check run id".to_string(),
            })
        })?;
        let mut sent = batches.first().map_or(0, |b| b.len());
        for batch in batches.iter().skip(1) {
            let update = CheckRunBody {
                name: None,
                head_sha: None,
                details_url: None,
                external_id: None,
                status: None,
                conclusion: None,
                output: Some(output(Some(batch))),
            };
            let operation = format!(
                "update check run {id} (annotations {}-{} of {shown}; the check run itself was \
                 created)",
                sent + 1,
                sent + batch.len()
            );
            self.send(
                &operation,
                http::Method::PATCH,
                &format!("{route}/{id}"),
                &update,
            )?;
            sent += batch.len();
        }
        let mut line = format!(
            "check run {id} created: {word}, {shown} annotation{} in {} request{}",
            plural(shown),
            batches.len().max(1),
            plural(batches.len().max(1)),
        );
        if shown < all.len() {
            line.push_str(&format!(
                " ({} more left out: at most {MAX_ANNOTATIONS} go on a check run; the SARIF report has all)",
                all.len() - shown
            ));
        }
        Ok(Posted {
            actions: vec![line],
            url: created.html_url,
        })
    }

    /// Creates an `in_progress` check run.
    pub(super) fn pending_check_run(&self, head_sha: &str) -> Result<Posted, Failure> {
        let body = CheckRunBody {
            name: Some(STATUS_NAME),
            head_sha: Some(head_sha),
            details_url: self.cfg.details_url.as_deref(),
            external_id: None,
            status: Some(CheckRunStatus::InProgress),
            conclusion: None,
            output: Some(CheckRunOutput {
                title: "cavra gate is running".to_string(),
                summary: format!(
                    "{}\nThe gate is judging this change against the base revision's policy.",
                    present::NOTE_MARKER
                ),
                text: None,
                annotations: Vec::new(),
                images: Vec::new(),
            }),
        };
        let route = format!("/repos/{}/{}/check-runs", self.owner, self.name);
        let created = self
            .send("create check run", http::Method::POST, &route, &body)
            .map_err(Failure::Create)?;
        let id = created
            .id
            .map_or_else(|| "?".to_string(), |id| id.to_string());
        Ok(Posted {
            actions: vec![format!("check run {id} created: in_progress")],
            url: created.html_url,
        })
    }
}

/// The summary within GitHub's limit, saying when annotations were left out.
fn check_run_summary(summary: &str, total: usize, shown: usize) -> String {
    if shown >= total {
        return present::truncate(summary, MAX_SUMMARY_CHARS);
    }
    let note = format!(
        "\n\n> **Note:** {shown} of {total} annotations are shown on this check run; the SARIF \
         report and the job's artifacts hold all of them.\n"
    );
    let room = MAX_SUMMARY_CHARS - note.chars().count();
    format!("{}{note}", present::truncate(summary, room).trim_end())
}

/// One annotation as GitHub takes it.
fn annotation(a: &Annotation) -> CheckRunOutputAnnotation {
    let line = a.line.max(1);
    CheckRunOutputAnnotation {
        path: a.path.clone(),
        start_line: line,
        end_line: line,
        start_column: None,
        end_column: None,
        annotation_level: match a.level {
            Level::Notice => CheckRunOutputAnnotationLevel::Notice,
            Level::Warning => CheckRunOutputAnnotationLevel::Warning,
            Level::Failure => CheckRunOutputAnnotationLevel::Failure,
        },
        message: cut_bytes(&a.message, MAX_ANNOTATION_MESSAGE_BYTES),
        title: Some(cut_chars(&a.title, MAX_ANNOTATION_TITLE_CHARS)),
        raw_details: None,
    }
}
