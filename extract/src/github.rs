//! GitHub Actions: workflow `jobs.*.steps[*].run` and composite action `runs.steps[*].run`.
//!
//! A step's shell is its `shell`, else the job's `defaults.run.shell`, else the workflow's
//! `defaults.run.shell`. Steps grouped under `parallel:` are read too. Jobs that call a reusable
//! workflow (`uses:` at job level) have no steps here; the called workflow is its own file.

use cavra_shell::Context;
use cavra_yaml::Node;

use crate::yaml_util::{self, describe, error_at, get};
use crate::{Extraction, Step, Via};

/// Steps of a workflow.
pub(crate) fn workflow(path: &str, text: &[u8]) -> Extraction {
    yaml_util::extract_docs(path, text, |docs, out| {
        for doc in &docs {
            workflow_doc(path, doc, out);
        }
    })
}

/// Steps of a composite action.
pub(crate) fn action(path: &str, text: &[u8]) -> Extraction {
    yaml_util::extract_docs(path, text, |docs, out| {
        for doc in &docs {
            let Some(steps) = get(doc, "runs").and_then(|r| get(r, "steps")) else {
                continue;
            };
            let mut reader = Reader { path, out };
            reader.steps(steps, "runs.steps", None);
        }
    })
}

fn workflow_doc(path: &str, doc: &Node, out: &mut Extraction) {
    let Some(jobs) = get(doc, "jobs") else { return };
    if jobs.as_map().is_none() {
        if !jobs.is_null() {
            out.errors.push(error_at(
                path,
                jobs,
                format!("`jobs` is {}, expected a mapping", describe(jobs)),
            ));
        }
        return;
    }
    let workflow_shell = default_shell(doc);
    let mut reader = Reader { path, out };
    for (id, job) in yaml_util::entries(jobs) {
        let Some(steps) = get(job, "steps") else {
            continue;
        };
        let shell = default_shell(job).or(workflow_shell);
        let id = id.as_scalar().unwrap_or("?");
        reader.steps(steps, &format!("jobs.{id}.steps"), shell);
    }
}

/// `defaults.run.shell` of a workflow or job.
fn default_shell(node: &Node) -> Option<&str> {
    get(node, "defaults")
        .and_then(|d| get(d, "run"))
        .and_then(|r| get(r, "shell"))
        .and_then(yaml_util::text)
}

/// Reads step lists into one extraction.
struct Reader<'a> {
    path: &'a str,
    out: &'a mut Extraction,
}

impl Reader<'_> {
    /// The `run` steps of the list `steps` at `location`; `shell` is the inherited default.
    fn steps(&mut self, steps: &Node, location: &str, shell: Option<&str>) {
        let Some(items) = steps.as_seq() else {
            if !steps.is_null() {
                let message = format!("`steps` is {}, expected a list", describe(steps));
                self.out.errors.push(error_at(self.path, steps, message));
            }
            return;
        };
        for (i, step) in items.iter().enumerate() {
            if step.as_map().is_none() {
                continue;
            }
            let here = format!("{location}[{i}]");
            if let Some(group) = get(step, "parallel") {
                self.steps(group, &format!("{here}.parallel"), shell);
            }
            self.step(step, here, shell);
        }
    }

    /// One step's `run`, if it has one.
    fn step(&mut self, step: &Node, mut location: String, shell: Option<&str>) {
        let Some(run) = get(step, "run") else { return };
        let Some(script) = yaml_util::text(run) else {
            if !run.is_null() {
                let message = format!("`run` is {}, expected a string", describe(run));
                self.out.errors.push(error_at(self.path, run, message));
            }
            return;
        };
        let label = ["name", "id"]
            .iter()
            .find_map(|k| get(step, k).and_then(yaml_util::text));
        if let Some(label) = label {
            location.push_str(&format!(" ({label})"));
        }
        let shell = get(step, "shell").and_then(yaml_util::text).or(shell);
        self.out.steps.push(Step {
            context: Context::GithubActions,
            file: self.path.to_string(),
            line: yaml_util::script_line(run),
            location,
            shell: shell.map(str::to_string),
            script: script.to_string(),
            lifecycle: false,
            via: Via::Direct,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_mapping_steps_and_odd_shapes_do_not_panic() {
        let text = "on: push\njobs:\n  a:\n    steps: foo\n  b:\n    steps:\n      - x\n      - run: [1]\n      - run:\n      - run: 42\n  c: 3\n";
        let ex = workflow("w.yml", text.as_bytes());
        assert_eq!(ex.steps.len(), 1);
        assert_eq!(ex.steps[0].script, "42");
        assert_eq!(ex.errors.len(), 2, "{:?}", ex.errors);
        assert_eq!(ex.errors[0].line, 4);
        assert_eq!(ex.errors[1].line, 8);
    }

    #[test]
    fn malformed_yaml_is_one_error() {
        let ex = workflow("w.yml", b"on: push\njobs:\n  a: [\n");
        assert!(ex.steps.is_empty());
        assert_eq!(ex.errors.len(), 1);
        assert!(ex.errors[0].line >= 3, "{:?}", ex.errors);
    }
}
