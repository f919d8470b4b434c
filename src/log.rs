//! Structured decision logs: one JSON object per line on stderr. Values are escaped by
//! the JSON encoder, so subject names cannot inject log lines. Never logs certificates
//! or configuration values.

use serde_json::{Map, Value};

use crate::certificate::rfc3339;

/// Longest string field written to a log line (paths and subjects are client-controlled).
const MAX_FIELD_CHARS: usize = 512;

/// Truncate a client-controlled string for logging.
pub(crate) fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_FIELD_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// A log record under construction.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogLine {
    fields: Map<String, Value>,
}

impl LogLine {
    /// A line with `ts` (`now`, Unix seconds, written RFC 3339), `level` and `event`.
    pub fn new(level: &str, event: &str, now: i64) -> Self {
        let mut fields = Map::new();
        fields.insert("ts".into(), Value::String(rfc3339(now)));
        fields.insert("level".into(), Value::String(level.into()));
        fields.insert("event".into(), Value::String(event.into()));
        LogLine { fields }
    }

    /// Add (or replace) the field `key`.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(key.into(), value.into());
        self
    }

    /// Add the client-controlled string field `key`, clipped to 512 characters.
    pub fn with_text(self, key: &str, value: &str) -> Self {
        self.with(key, Value::String(clip(value)))
    }

    /// The field `key`, if set.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    /// The single-line JSON text.
    pub fn render(&self) -> String {
        Value::Object(self.fields.clone()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_and_escaped() {
        let line = LogLine::new("info", "decision", 0).with_text("subject", "CN=evil\n{\"outcome\":\"allow\"}");
        let text = line.render();
        assert!(!text.contains('\n'));
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["subject"], "CN=evil\n{\"outcome\":\"allow\"}");
        assert_eq!(parsed["ts"], "1970-01-01T00:00:00Z");
        assert_eq!(clip(&"x".repeat(2000)).chars().count(), MAX_FIELD_CHARS + 1);
    }
}
