//! Pins: certificate thumbprints (SHA-1 / SHA-256 of the DER) and key pins (SHA-256 of
//! the SubjectPublicKeyInfo, which survive renewal with the same key), each with an
//! optional label and validity window for rotation ("current" and "next" overlapping).

use serde::Deserialize;
use serde_json::Value;

use crate::certificate::{parse_rfc3339, ClientCertificate};
use crate::thumbprint::{self, Thumbprint, ThumbprintList};

/// What a pin matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinValue {
    /// SHA-1 or SHA-256 of the certificate's DER.
    Thumbprint(Thumbprint),
    /// SHA-256 of the DER SubjectPublicKeyInfo.
    KeySha256([u8; 32]),
}

/// One pin and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pin {
    /// What it matches.
    pub value: PinValue,
    /// The `label` a `pins` entry gives, for logs and warnings.
    pub label: Option<String>,
    /// Start of the pin's window, Unix seconds (none: open).
    pub not_before: Option<i64>,
    /// End of the pin's window, Unix seconds (none: open).
    pub not_after: Option<i64>,
    /// Which variable defined it.
    pub source: &'static str,
    /// Its entry in that variable, 1-based; 0 for a pin from the key-value store
    /// (`source` is then `keyvalue_store`).
    pub entry: usize,
}

impl Pin {
    fn matches(&self, c: &ClientCertificate) -> bool {
        match &self.value {
            PinValue::Thumbprint(t) => t.matches(&c.sha1, &c.sha256),
            PinValue::KeySha256(k) => *k == c.spki_sha256,
        }
    }

    /// `thumbprint` or `key`, as logs name the kind of pin.
    pub fn kind(&self) -> &'static str {
        match self.value {
            PinValue::Thumbprint(_) => "thumbprint",
            PinValue::KeySha256(_) => "key",
        }
    }

    /// Whether the pin's window includes `now`.
    pub fn active_at(&self, now: i64) -> bool {
        self.not_before.is_none_or(|nb| now >= nb) && self.not_after.is_none_or(|na| now <= na)
    }

    /// The pin as logs and warnings name it: its label if any, its variable and entry (a
    /// store pin, entry 0, has none).
    pub fn describe(&self) -> String {
        if self.entry == 0 {
            return match &self.label {
                Some(l) => format!("pin \"{l}\" ({})", self.source),
                None => format!("{} pin", self.source),
            };
        }
        match &self.label {
            Some(l) => format!("pin \"{l}\" ({} entry {})", self.source, self.entry),
            None => format!("{} entry {}", self.source, self.entry),
        }
    }
}

/// Parse a key pin: base64 (as Envoy's `verify_certificate_spki` and HPKP write it, with an
/// optional `sha256/` prefix) or hex (with optional `:` separators).
pub(crate) fn parse_key_pin(raw: &str) -> Result<[u8; 32], &'static str> {
    let cleaned: String = raw.chars().filter(|c| !c.is_whitespace() && !thumbprint::is_invisible(*c)).collect();
    let lower = cleaned.to_ascii_lowercase();
    let body = if lower.starts_with("sha256/") || lower.starts_with("sha256:") || lower.starts_with("pin-sha256:") {
        &cleaned[cleaned.find(['/', ':']).map_or(0, |i| i + 1)..]
    } else {
        cleaned.as_str()
    };
    let body = body.trim_matches('"');
    let hex_digits: String = body.chars().filter(|c| *c != ':').collect();
    if hex_digits.len() == 64 && hex_digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut out = [0u8; 32];
        hex::decode_to_slice(&hex_digits, &mut out).map_err(|_| "not hexadecimal")?;
        return Ok(out);
    }
    let bytes = crate::extract::decode_base64(body).map_err(|_| "not base64 or 64 hex digits")?;
    bytes.try_into().map_err(|_| "a key pin is a SHA-256 digest: 32 bytes")
}

/// Parse a list of key pins (same separators as thumbprint lists).
pub(crate) fn parse_key_pin_list(raw: &str, source: &'static str) -> Result<Vec<Pin>, String> {
    let mut out = Vec::new();
    for (i, piece) in thumbprint::split_entries(raw) {
        let key = parse_key_pin(piece).map_err(|p| format!("entry {i}: {p}"))?;
        out.push(Pin {
            value: PinValue::KeySha256(key),
            label: None,
            not_before: None,
            not_after: None,
            source,
            entry: i,
        });
    }
    Ok(out)
}

/// The pin for entry `index` (0-based) of the simple `allowed_thumbprints` list.
pub(crate) fn from_list_entry(thumbprint: &Thumbprint, index: usize, source: &'static str) -> Pin {
    Pin {
        value: PinValue::Thumbprint(*thumbprint),
        label: None,
        not_before: None,
        not_after: None,
        source,
        entry: index + 1,
    }
}

/// One entry of the `pins` JSON as written: exactly one of `sha1`, `sha256`, `thumbprint`
/// or `key_sha256`, and optional `label`, `not_before`, `not_after` (RFC 3339); `null` is
/// the same as absent. Unknown keys are refused, so a typo cannot widen access.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PinEntry {
    sha1: Option<String>,
    sha256: Option<String>,
    thumbprint: Option<String>,
    key_sha256: Option<String>,
    label: Option<String>,
    not_before: Option<String>,
    not_after: Option<String>,
}

/// Why an entry does not have [`PinEntry`]'s shape. Fixed text: serde's own messages quote
/// the values they refuse, and configuration errors never echo configuration.
const ENTRY_SHAPE: &str = "must be an object whose keys are sha1, sha256, thumbprint, key_sha256, label, \
                           not_before and not_after, each a string";

/// Parse the JSON `pins` variable (see [`PinEntry`]). Errors name the entry, counted from 1.
pub fn parse_pins_json(raw: &str, source: &'static str) -> Result<Vec<Pin>, String> {
    // Read as a JSON value first: a syntax error's message (position and what was expected)
    // quotes no input, and each entry is then checked on its own so errors can name it.
    let value: Value = serde_json::from_str(raw).map_err(|e| format!("is not valid JSON ({e})"))?;
    let Value::Array(items) = value else { return Err("must be a JSON array of pin objects".into()) };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let entry = i + 1;
        let e = PinEntry::deserialize(item).map_err(|_| format!("entry {entry}: {ENTRY_SHAPE}"))?;
        let mut values = Vec::new();
        if let Some(v) = &e.sha1 {
            values.push(thumbprint::parse_entry(&format!("sha1:{v}")).map(PinValue::Thumbprint));
        }
        if let Some(v) = &e.sha256 {
            values.push(thumbprint::parse_entry(&format!("sha256:{v}")).map(PinValue::Thumbprint));
        }
        if let Some(v) = &e.thumbprint {
            values.push(thumbprint::parse_entry(v).map(PinValue::Thumbprint));
        }
        if let Some(v) = &e.key_sha256 {
            values.push(parse_key_pin(v).map(PinValue::KeySha256));
        }
        if values.len() != 1 {
            return Err(format!("entry {entry}: needs exactly one of sha1, sha256, thumbprint, key_sha256"));
        }
        let value = values.remove(0).map_err(|p| format!("entry {entry}: {p}"))?;
        let label = e.label;
        if label.as_ref().is_some_and(|l| l.is_empty() || l.len() > 64 || l.chars().any(char::is_control)) {
            return Err(format!("entry {entry}: `label` must be 1 to 64 printable characters"));
        }
        let time = |key: &str, text: Option<&str>| -> Result<Option<i64>, String> {
            text.map(|t| parse_rfc3339(t).ok_or(format!("entry {entry}: `{key}` is not an RFC 3339 time"))).transpose()
        };
        let not_before = time("not_before", e.not_before.as_deref())?;
        let not_after = time("not_after", e.not_after.as_deref())?;
        if let (Some(nb), Some(na)) = (not_before, not_after) {
            if nb >= na {
                return Err(format!("entry {entry}: `not_before` must be before `not_after`"));
            }
        }
        out.push(Pin { value, label, not_before, not_after, source, entry });
    }
    Ok(out)
}

/// The result of matching a certificate against every pin.
pub(crate) enum PinMatch {
    Active(Pin),
    /// A pin matches but is outside its window.
    Inactive(Pin),
    None,
}

/// Find the pin that lets this certificate in at `now`: the simple thumbprint list first
/// (its entries have no window), then the key pins and JSON pins in order.
pub(crate) fn find(
    list: &ThumbprintList,
    list_source: &'static str,
    pins: &[Pin],
    c: &ClientCertificate,
    now: i64,
) -> PinMatch {
    if let Some((index, thumbprint)) = list.find(&c.sha1, &c.sha256) {
        return PinMatch::Active(from_list_entry(thumbprint, index, list_source));
    }
    let mut inactive = None;
    for pin in pins.iter().filter(|p| p.matches(c)) {
        if pin.active_at(now) {
            return PinMatch::Active(pin.clone());
        }
        inactive.get_or_insert(pin);
    }
    inactive.map_or(PinMatch::None, |p| PinMatch::Inactive(p.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_pin_spellings() {
        let digest = [0xabu8; 32];
        let b64 = crate::extract::decode_base64("q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=").unwrap();
        assert_eq!(b64, digest.to_vec());
        for s in [
            "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=",
            "sha256/q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=",
            "pin-sha256:\"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\"",
            &"ab".repeat(32),
            &"AB:".repeat(32)[..95],
            &" ab".repeat(32),
            &format!("\u{200E}{}\n", "ab".repeat(32)),
            "q6urq6urq6urq6urq6urq6urq6ur\r\nq6urq6urq6urq6s=",
        ] {
            assert_eq!(parse_key_pin(s).unwrap(), digest, "{s}");
        }
        // Unpadded base64 that happens to use only hex digits is base64 unless it has
        // exactly 64 of them.
        let unpadded = "c".repeat(43);
        assert_eq!(parse_key_pin(&unpadded).unwrap().to_vec(), crate::extract::decode_base64(&unpadded).unwrap());
        assert_eq!(parse_key_pin(&"c".repeat(63)), Err("a key pin is a SHA-256 digest: 32 bytes"));
        assert_eq!(parse_key_pin(&"c".repeat(64)).unwrap(), [0xcc; 32]);
        assert!(parse_key_pin("q6urq6ur").is_err());
        assert!(parse_key_pin(&"ab".repeat(20)).is_err());
    }

    #[test]
    fn why_a_pin_is_inactive() {
        use crate::policy::{InactivePin, PinWindow};
        let sha = "ab".repeat(32);
        let json = format!(
            r#"[{{"sha256":"{sha}","label":"next","not_before":"2026-12-01T00:00:00Z","not_after":"2027-01-01T00:00:00Z"}},
                {{"sha256":"{sha}","not_after":"2026-01-01T00:00:00Z"}}]"#
        );
        let pins = parse_pins_json(&json, "pins").unwrap();
        let nb = parse_rfc3339("2026-12-01T00:00:00Z").unwrap();
        let na = parse_rfc3339("2027-01-01T00:00:00Z").unwrap();
        assert_eq!(
            InactivePin::of(&pins[0], nb - 1).to_string(),
            "pin \"next\" (pins entry 1) is not active until 2026-12-01T00:00:00Z"
        );
        assert_eq!(
            InactivePin::of(&pins[0], na + 1).to_string(),
            "pin \"next\" (pins entry 1) ended at 2027-01-01T00:00:00Z"
        );
        assert_eq!(InactivePin::of(&pins[1], na).to_string(), "pins entry 2 ended at 2026-01-01T00:00:00Z");
        assert_eq!(InactivePin::of(&pins[0], nb - 1).window, PinWindow::NotYet(nb));
        assert_eq!(InactivePin::of(&pins[0], na + 1).window, PinWindow::Ended(na));
        assert!(pins[0].active_at(nb) && pins[0].active_at(na) && !pins[0].active_at(na + 1));
    }

    #[test]
    fn json_pins() {
        let sha = "ab".repeat(32);
        let pins = parse_pins_json(
            &format!(
                r#"[{{"label":"current","sha256":"{sha}","not_after":"2026-12-31T00:00:00Z"}},
                         {{"label":"next","key_sha256":"{sha}","not_before":"2026-12-01T00:00:00Z"}}]"#
            ),
            "pins",
        )
        .unwrap();
        assert_eq!(pins.len(), 2);
        assert_eq!(pins[0].label.as_deref(), Some("current"));
        assert!(pins[0].active_at(parse_rfc3339("2026-06-01T00:00:00Z").unwrap()));
        assert!(!pins[0].active_at(parse_rfc3339("2027-01-01T00:00:00Z").unwrap()));
        assert!(!pins[1].active_at(parse_rfc3339("2026-11-30T00:00:00Z").unwrap()));
        for bad in [
            "{}",
            "[1]",
            r#"[{"label":"x"}]"#,
            &format!(r#"[{{"sha256":"{sha}","sha1":"{}"}}]"#, "ab".repeat(20)),
            &format!(r#"[{{"sha256":"{sha}","not_afer":"2026-01-01T00:00:00Z"}}]"#),
            &format!(r#"[{{"sha256":"{sha}","not_after":"tomorrow"}}]"#),
            &format!(
                r#"[{{"sha256":"{sha}","not_before":"2027-01-01T00:00:00Z","not_after":"2026-01-01T00:00:00Z"}}]"#
            ),
            r#"[{"sha256":"xyz"}]"#,
        ] {
            assert!(parse_pins_json(bad, "pins").is_err(), "{bad}");
        }
        // Each entry's shape is checked by serde; the error is fixed text that names the
        // entry and quotes nothing from it (serde's own messages would).
        for (bad, leaked) in [
            (r#"[7]"#.to_string(), "7"),
            (format!(r#"[{{"sha256":"{sha}","not_afer":"2026-01-01T00:00:00Z"}}]"#), "not_afer"),
            (format!(r#"[{{"sha256":"{sha}","label":31337}}]"#), "31337"),
            (r#"[{"sha256":["s3cr3t"]}]"#.to_string(), "s3cr3t"),
            (r#"[{"s3cr3t":"x"}]"#.to_string(), "s3cr3t"),
        ] {
            let e = parse_pins_json(&bad, "pins").unwrap_err();
            assert_eq!(e, format!("entry 1: {ENTRY_SHAPE}"), "{bad}");
            assert!(!e.contains(leaked), "{e}");
        }
        assert_eq!(parse_pins_json("{}", "pins").unwrap_err(), "must be a JSON array of pin objects");
        assert_eq!(
            parse_pins_json("[1,", "pins").unwrap_err(),
            "is not valid JSON (EOF while parsing a value at line 1 column 3)"
        );
        // `null` is absent; a repeated key keeps its last value, as before.
        let pins = parse_pins_json(
            &format!(r#"[{{"sha1":null,"sha256":"{}","sha256":"{sha}","label":null}}]"#, "cd".repeat(32)),
            "pins",
        )
        .unwrap();
        assert_eq!(pins[0].value, PinValue::Thumbprint(thumbprint::parse_entry(&sha).unwrap()));
        assert_eq!(pins[0].label, None);
        // Errors name the entry, counted from 1.
        let second_bad = format!(r#"[{{"sha256":"{sha}"}}, {{"sha256":"xyz"}}]"#);
        assert!(parse_pins_json(&second_bad, "pins").unwrap_err().starts_with("entry 2: "));
        // Labels: 1 to 64 printable characters.
        let label = |l: &str| {
            let l = Value::from(l);
            parse_pins_json(&format!(r#"[{{"sha256":"{sha}","label":{l}}}]"#), "pins")
        };
        assert_eq!(label(&"L".repeat(64)).unwrap()[0].label.as_deref(), Some("L".repeat(64).as_str()));
        assert_eq!(label("a label").unwrap()[0].describe(), "pin \"a label\" (pins entry 1)");
        for bad in ["", &"L".repeat(65), "line\nbreak", "bell\u{7}"] {
            let e = label(bad).unwrap_err();
            assert_eq!(e, "entry 1: `label` must be 1 to 64 printable characters", "{bad:?}");
        }
    }
}
