//! JSON Schema checks for request bodies a test server receives.

use serde_json::Value;

/// A compiled schema.
pub struct Schema {
    validator: jsonschema::Validator,
}

impl Schema {
    /// Compiles a draft-07 (or older) schema given as JSON text.
    pub fn draft7(text: &str) -> Schema {
        let schema: Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .unwrap_or_else(|e| panic!("the schema is not JSON: {e}"));
        Schema::draft7_value(&schema)
    }

    /// Compiles a draft-07 schema.
    pub fn draft7_value(schema: &Value) -> Schema {
        let validator = jsonschema::draft7::new(schema)
            .unwrap_or_else(|e| panic!("the schema does not compile: {e}"));
        Schema { validator }
    }

    /// `Ok` when `value` is valid; `Err` lists every error with its JSON pointer.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        errors(&self.validator, value)
    }
}

/// Every error `validator` finds in `value`, joined; `Ok` when there is none.
pub fn errors(validator: &jsonschema::Validator, value: &Value) -> Result<(), String> {
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}
