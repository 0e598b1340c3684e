//! The published request schemas (see `tests/fixtures/README.md`), compiled once.

use cavra_testkit::schema::errors;
use serde_json::Value;
use std::sync::OnceLock;

const FULCIO: &str = include_str!("../fixtures/fulcio-v2-signing-cert-request.schema.json");
const REKOR: &str = include_str!("../fixtures/rekor-v1-proposed-entry.schema.json");

/// Validates a Fulcio `POST /api/v2/signingCert` body; `Err` lists what is wrong.
pub fn check_fulcio_request(body: &Value) -> Result<(), String> {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = VALIDATOR
        .get_or_init(|| jsonschema::draft7::new(&serde_json::from_str(FULCIO).unwrap()).unwrap());
    errors(validator, body)
}

/// Validates a Rekor `POST /api/v1/log/entries` body against the definition named by its
/// `kind` (only `dsse` and `hashedrekord` are known).
pub fn check_rekor_request(body: &Value) -> Result<(), String> {
    match body.get("kind").and_then(Value::as_str) {
        Some(kind @ ("dsse" | "hashedrekord")) => errors(rekor_definition(kind), body),
        other => Err(format!("unknown or missing kind {other:?}")),
    }
}

/// Validates an `InclusionProof` the mock Rekor answers.
pub fn check_inclusion_proof(proof: &Value) -> Result<(), String> {
    errors(rekor_definition("InclusionProof"), proof)
}

fn rekor_definition(name: &str) -> &'static jsonschema::Validator {
    static VALIDATORS: OnceLock<Vec<(&'static str, jsonschema::Validator)>> = OnceLock::new();
    let all = VALIDATORS.get_or_init(|| {
        ["dsse", "hashedrekord", "InclusionProof"]
            .into_iter()
            .map(|name| {
                let mut schema: Value = serde_json::from_str(REKOR).unwrap();
                schema["$ref"] = format!("#/definitions/{name}").into();
                (name, jsonschema::draft7::new(&schema).unwrap())
            })
            .collect()
    });
    &all.iter().find(|(n, _)| *n == name).unwrap().1
}
