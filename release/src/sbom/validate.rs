//! CycloneDX JSON validation against the official schemas (draft-07), embedded so it runs offline.

use serde_json::Value;
use std::sync::OnceLock;

/// The largest SBOM accepted (64 MiB).
pub const MAX_SBOM_BYTES: usize = 64 << 20;

/// The CycloneDX versions [`validate`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecVersion {
    V1_4,
    V1_5,
    V1_6,
}

impl std::fmt::Display for SpecVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SpecVersion::V1_4 => "1.4",
            SpecVersion::V1_5 => "1.5",
            SpecVersion::V1_6 => "1.6",
        })
    }
}

const BOM_1_4: &str = include_str!("../../tests/fixtures/cyclonedx/schema/bom-1.4.schema.json");
const BOM_1_5: &str = include_str!("../../tests/fixtures/cyclonedx/schema/bom-1.5.schema.json");
const BOM_1_6: &str = include_str!("../../tests/fixtures/cyclonedx/schema/bom-1.6.schema.json");
const SPDX: &str = include_str!("../../tests/fixtures/cyclonedx/schema/spdx.schema.json");
const JSF: &str = include_str!("../../tests/fixtures/cyclonedx/schema/jsf-0.82.schema.json");
const CRYPTO: &str =
    include_str!("../../tests/fixtures/cyclonedx/schema/cryptography-defs.schema.json");

/// Serves the schemas the CycloneDX schemas refer to (`spdx`, `jsf`, `cryptography-defs`) from
/// the embedded copies; nothing is fetched.
struct Embedded;

impl jsonschema::Retrieve for Embedded {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let text = match uri.as_str().rsplit('/').next() {
            Some("spdx.schema.json") => SPDX,
            Some("jsf-0.82.schema.json") => JSF,
            Some("cryptography-defs.schema.json") => CRYPTO,
            _ => return Err(format!("{uri} is not an embedded CycloneDX schema").into()),
        };
        Ok(serde_json::from_str(text)?)
    }
}

fn compile(schema: &str) -> Result<jsonschema::Validator, String> {
    let schema: Value = serde_json::from_str(schema).map_err(|e| e.to_string())?;
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .with_retriever(Embedded)
        .build(&schema)
        .map_err(|e| e.to_string())
}

fn validator(version: SpecVersion) -> Result<&'static jsonschema::Validator, String> {
    static V1_4: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    static V1_5: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    static V1_6: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    let cell = match version {
        SpecVersion::V1_4 => V1_4.get_or_init(|| compile(BOM_1_4)),
        SpecVersion::V1_5 => V1_5.get_or_init(|| compile(BOM_1_5)),
        SpecVersion::V1_6 => V1_6.get_or_init(|| compile(BOM_1_6)),
    };
    cell.as_ref()
        .map_err(|e| format!("internal: schema {version}: {e}"))
}

/// Validate a CycloneDX JSON document against the official schema of its `specVersion`
/// (1.4, 1.5 or 1.6). Errors name the failing place as a JSON pointer.
pub fn validate(json: &[u8]) -> Result<SpecVersion, Vec<String>> {
    if json.len() > MAX_SBOM_BYTES {
        return Err(vec![format!(
            "(root): the SBOM is {} bytes, more than the {MAX_SBOM_BYTES} allowed",
            json.len()
        )]);
    }
    let doc: Value =
        serde_json::from_slice(json).map_err(|e| vec![format!("(root): not JSON: {e}")])?;
    let version = match doc.get("specVersion").and_then(Value::as_str) {
        Some("1.4") => SpecVersion::V1_4,
        Some("1.5") => SpecVersion::V1_5,
        Some("1.6") => SpecVersion::V1_6,
        Some(other) => {
            return Err(vec![format!(
                "/specVersion: CycloneDX {other:?} is not supported (1.4, 1.5 or 1.6)"
            )]);
        }
        None => return Err(vec!["/specVersion: missing or not a string".to_string()]),
    };
    let validator = validator(version).map_err(|e| vec![e])?;
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .take(100)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() {
                "(root)".to_string()
            } else {
                at
            };
            let mut msg = e.to_string();
            if msg.len() > 300 {
                let mut cut = 300;
                while !msg.is_char_boundary(cut) {
                    cut -= 1;
                }
                msg.truncate(cut);
                msg.push('…');
            }
            format!("{at}: {msg}")
        })
        .collect();
    if errors.is_empty() {
        Ok(version)
    } else {
        Err(errors)
    }
}
