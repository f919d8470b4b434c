//! Pins: certificate thumbprints (SHA-1 / SHA-256 of the DER) and key pins (SHA-256 of
//! the SubjectPublicKeyInfo, which survive renewal with the same key), each with an
//! optional label and validity window for rotation ("current" and "next" overlapping).

use serde_json::Value;

use crate::certificate::{parse_rfc3339, rfc3339, ClientCertificate};
use crate::thumbprint::{self, Thumbprint, ThumbprintList};

/// What a pin matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinValue {
    Thumbprint(Thumbprint),
    /// SHA-256 of the DER SubjectPublicKeyInfo.
    KeySha256([u8; 32]),
}

/// One pin and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pin {
    pub value: PinValue,
    pub label: Option<String>,
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
    /// Which variable defined it and at which (1-based) entry.
    pub source: &'static str,
    pub entry: usize,
}

impl Pin {
    fn matches(&self, c: &ClientCertificate) -> bool {
        match &self.value {
            PinValue::Thumbprint(t) => t.matches(&c.sha1, &c.sha256),
            PinValue::KeySha256(k) => *k == c.spki_sha256,
        }
    }

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

    pub fn describe(&self) -> String {
        match &self.label {
            Some(l) => format!("pin \"{l}\" ({} entry {})", self.source, self.entry),
            None => format!("{} entry {}", self.source, self.entry),
        }
    }
}

/// Parse a key pin: base64 (as Envoy's `verify_certificate_spki` and HPKP write it, with an
/// optional `sha256/` prefix) or hex (with optional `:` separators).
pub fn parse_key_pin(raw: &str) -> Result<[u8; 32], &'static str> {
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
pub fn parse_key_pin_list(raw: &str, source: &'static str) -> Result<Vec<Pin>, String> {
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
pub fn from_list_entry(thumbprint: &Thumbprint, index: usize, source: &'static str) -> Pin {
    Pin {
        value: PinValue::Thumbprint(*thumbprint),
        label: None,
        not_before: None,
        not_after: None,
        source,
        entry: index + 1,
    }
}

/// Parse the JSON `pins` variable: an array of objects with exactly one of `sha1`,
/// `sha256`, `thumbprint` or `key_sha256`, and optional `label`, `not_before`,
/// `not_after` (RFC 3339). Unknown keys are refused, so a typo cannot widen access.
pub fn parse_pins_json(raw: &str, source: &'static str) -> Result<Vec<Pin>, String> {
    let value: Value = serde_json::from_str(raw).map_err(|e| format!("is not valid JSON ({e})"))?;
    let items = value.as_array().ok_or("must be a JSON array of pin objects")?;
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let entry = i + 1;
        let obj = item.as_object().ok_or(format!("entry {entry}: must be an object"))?;
        let text = |key: &str| -> Result<Option<&str>, String> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(format!("entry {entry}: `{key}` must be a string")),
            }
        };
        for key in obj.keys() {
            if !["sha1", "sha256", "thumbprint", "key_sha256", "label", "not_before", "not_after"]
                .contains(&key.as_str())
            {
                return Err(format!("entry {entry}: unknown key `{key}`"));
            }
        }
        let mut values = Vec::new();
        if let Some(v) = text("sha1")? {
            values.push(thumbprint::parse_entry(&format!("sha1:{v}")).map(PinValue::Thumbprint));
        }
        if let Some(v) = text("sha256")? {
            values.push(thumbprint::parse_entry(&format!("sha256:{v}")).map(PinValue::Thumbprint));
        }
        if let Some(v) = text("thumbprint")? {
            values.push(thumbprint::parse_entry(v).map(PinValue::Thumbprint));
        }
        if let Some(v) = text("key_sha256")? {
            values.push(parse_key_pin(v).map(PinValue::KeySha256));
        }
        if values.len() != 1 {
            return Err(format!("entry {entry}: needs exactly one of sha1, sha256, thumbprint, key_sha256"));
        }
        let value = values.remove(0).map_err(|p| format!("entry {entry}: {p}"))?;
        let label = text("label")?.map(str::to_string);
        if label.as_ref().is_some_and(|l| l.is_empty() || l.len() > 64 || l.chars().any(char::is_control)) {
            return Err(format!("entry {entry}: `label` must be 1 to 64 printable characters"));
        }
        let time = |key: &str| -> Result<Option<i64>, String> {
            text(key)?
                .map(|t| parse_rfc3339(t).ok_or(format!("entry {entry}: `{key}` is not an RFC 3339 time")))
                .transpose()
        };
        let (not_before, not_after) = (time("not_before")?, time("not_after")?);
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
pub enum PinMatch {
    Active(Pin),
    /// A pin matches but is outside its window.
    Inactive(Pin),
    None,
}

/// Find the pin that lets this certificate in at `now`: the simple thumbprint list first
/// (its entries have no window), then the key pins and JSON pins in order.
pub fn find(
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

/// Why an inactive pin did not apply.
pub fn inactive_detail(pin: &Pin, now: i64) -> String {
    match (pin.not_before, pin.not_after) {
        (Some(nb), _) if now < nb => {
            format!("{} is not active until {}", pin.describe(), rfc3339(nb))
        }
        (_, Some(na)) => format!("{} ended at {}", pin.describe(), rfc3339(na)),
        _ => format!("{} is not active", pin.describe()),
    }
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
        let sha = "ab".repeat(32);
        let json = format!(
            r#"[{{"sha256":"{sha}","label":"next","not_before":"2026-12-01T00:00:00Z","not_after":"2027-01-01T00:00:00Z"}},
                {{"sha256":"{sha}","not_after":"2026-01-01T00:00:00Z"}}]"#
        );
        let pins = parse_pins_json(&json, "pins").unwrap();
        let nb = parse_rfc3339("2026-12-01T00:00:00Z").unwrap();
        let na = parse_rfc3339("2027-01-01T00:00:00Z").unwrap();
        assert_eq!(
            inactive_detail(&pins[0], nb - 1),
            "pin \"next\" (pins entry 1) is not active until 2026-12-01T00:00:00Z"
        );
        assert_eq!(inactive_detail(&pins[0], na + 1), "pin \"next\" (pins entry 1) ended at 2027-01-01T00:00:00Z");
        assert_eq!(inactive_detail(&pins[1], na), "pins entry 2 ended at 2026-01-01T00:00:00Z");
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
