//! The verdict document as pretty JSON (`schemas/gate-result.v1.schema.json`).

use cavra_gate::Verdict;

/// Renders the verdict as pretty-printed JSON.
pub(crate) fn render(verdict: &Verdict) -> Result<String, String> {
    let mut out = serde_json::to_string_pretty(verdict).map_err(|e| e.to_string())?;
    out.push('\n');
    Ok(out)
}
