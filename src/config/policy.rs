//! Building the [`Policy`] from its variables.

use super::error::{ConfigError, Problem};
use super::read::{comma_list, invalid, Reader, MAX_LIST_ENTRIES};
use super::var;
use crate::policy::names;
use crate::policy::pins;
use crate::policy::proxy::{self, SharedSecret, Signature, Verdict, MIN_SECRET_LEN};
use crate::policy::revocation::{self, Denylist, WhenStale};
use crate::policy::{Policy, MAX_BUNDLE};
use crate::thumbprint::ThumbprintList;
use crate::trust::{CaCertificate, EkuPolicy, TrustStore};

/// What `terminator_verify_header` must say when `terminator_verify_values` is unset.
const VERIFY_VALUE_WHEN_UNSET: &str = "SUCCESS";

fn check_entries(variable: &'static str, entries: usize) -> Result<(), ConfigError> {
    if entries > MAX_LIST_ENTRIES {
        return Err(ConfigError::new(variable, Problem::TooManyEntries { entries, limit: MAX_LIST_ENTRIES }));
    }
    Ok(())
}

fn ca_bundle(variable: &'static str, raw: &str) -> Result<Vec<CaCertificate>, ConfigError> {
    let ders = crate::extract::decode_pem_blocks(raw, "CERTIFICATE", MAX_BUNDLE)
        .map_err(|e| invalid(variable, e.to_string()))?;
    ders.into_iter()
        .enumerate()
        .map(|(i, der)| {
            CaCertificate::from_der(der)
                .map_err(|p| ConfigError::new(variable, Problem::Invalid(format!("certificate {}: {p}", i + 1))))
        })
        .collect()
}

fn secret_error(variable: &'static str) -> ConfigError {
    ConfigError::new(variable, Problem::TooShort { min: MIN_SECRET_LEN })
}

/// Read the trust policy's variables.
pub(super) fn load(read: &Reader<'_>) -> Result<Policy, ConfigError> {
    // Pins, from the simple list, the key-pin list and the JSON list with labels.
    // Parsed as written (not trimmed), so entry numbers match the operator's lines.
    let thumbprints = match read.set_untrimmed(var::ALLOWED_THUMBPRINTS)? {
        Some(raw) => {
            let list = ThumbprintList::parse(&raw).map_err(|e| ConfigError {
                variable: var::ALLOWED_THUMBPRINTS,
                entry: (e.entry > 0).then_some(e.entry),
                problem: Problem::Invalid(e.problem.to_string()),
            })?;
            check_entries(var::ALLOWED_THUMBPRINTS, list.len())?;
            list
        }
        None => ThumbprintList::default(),
    };
    let mut all_pins = Vec::new();
    if let Some(raw) = read.set(var::ALLOWED_KEY_PINS)? {
        all_pins.extend(
            pins::parse_key_pin_list(&raw, var::ALLOWED_KEY_PINS).map_err(|p| invalid(var::ALLOWED_KEY_PINS, p))?,
        );
    }
    if let Some(raw) = read.set(var::PINS)? {
        all_pins.extend(pins::parse_pins_json(&raw, var::PINS).map_err(|p| invalid(var::PINS, p))?);
    }
    check_entries("allowed_thumbprints, allowed_key_pins and pins together", thumbprints.len() + all_pins.len())?;

    let anchors = match read.set(var::TRUST_ANCHORS)? {
        Some(raw) => ca_bundle(var::TRUST_ANCHORS, &raw)?,
        None => Vec::new(),
    };
    let intermediates = match read.set(var::INTERMEDIATES)? {
        Some(raw) => ca_bundle(var::INTERMEDIATES, &raw)?,
        None => Vec::new(),
    };
    if !intermediates.is_empty() && anchors.is_empty() {
        return Err(ConfigError::new(var::INTERMEDIATES, Problem::Needs("trust_anchors")));
    }
    let store = match read.set(var::KEYVALUE_STORE)? {
        Some(label) => Some(store_label(&label)?),
        None => None,
    };
    let chain_cache_seconds = read.number(var::CHAIN_CACHE_SECONDS)?;
    if chain_cache_seconds.is_some() {
        if store.is_none() {
            return Err(ConfigError::new(var::CHAIN_CACHE_SECONDS, Problem::Needs("keyvalue_store")));
        }
        if anchors.is_empty() {
            return Err(ConfigError::new(var::CHAIN_CACHE_SECONDS, Problem::Needs("trust_anchors")));
        }
    }
    if thumbprints.is_empty() && all_pins.is_empty() && anchors.is_empty() && store.is_none() {
        return Err(ConfigError::new(var::ALLOWED_THUMBPRINTS, Problem::NoTrustSource));
    }
    let eku = match read.flag(var::REQUIRE_CLIENT_AUTH_EKU)? {
        Some(false) => EkuPolicy::Any,
        _ => EkuPolicy::ClientAuth,
    };
    let names = match read.set(var::ALLOWED_NAMES)? {
        Some(raw) => {
            let rules = names::parse_rules(&raw).map_err(|p| invalid(var::ALLOWED_NAMES, p))?;
            check_entries(var::ALLOWED_NAMES, rules.len())?;
            if rules.is_empty() {
                return Err(ConfigError::new(var::ALLOWED_NAMES, Problem::NoRules));
            }
            rules
        }
        None => Vec::new(),
    };
    let denylist = match read.set(var::REVOKED)? {
        Some(raw) => {
            let list = Denylist::parse(&raw).map_err(|p| invalid(var::REVOKED, p))?;
            check_entries(var::REVOKED, list.len())?;
            list
        }
        None => Denylist::default(),
    };
    let crls = match read.set(var::CRLS)? {
        Some(raw) => {
            let issuers: Vec<CaCertificate> = anchors.iter().chain(&intermediates).cloned().collect();
            revocation::parse_crls(&raw, &issuers).map_err(|p| invalid(var::CRLS, p))?
        }
        None => Vec::new(),
    };
    // `fail-closed` / `fail-open` are accepted too (WhenStale::parse), as they always were.
    let when_stale = match read.value(var::CRL_WHEN_STALE)? {
        Some(raw) => WhenStale::parse(&raw)
            .ok_or(ConfigError::new(var::CRL_WHEN_STALE, Problem::NotOneOf(&["deny", "allow"])))?,
        None => WhenStale::Deny,
    };
    let report_only = read.choice(var::MODE)? == Some("report-only");
    let shared_secret = match read.set(var::PROXY_SECRET)? {
        Some(secret) => {
            let header = read.header(var::PROXY_SECRET_HEADER)?.unwrap_or_default();
            Some(SharedSecret::new(header, &secret).map_err(|_| secret_error(var::PROXY_SECRET))?)
        }
        None => None,
    };
    let signature = match read.set(var::PROXY_HMAC_KEY)? {
        Some(key) => {
            let header = read.header(var::PROXY_SIGNATURE_HEADER)?.unwrap_or_default();
            let max_age = read.number(var::PROXY_SIGNATURE_MAX_AGE_SECONDS)?.unwrap_or(0);
            Some(Signature::new(header, &key, max_age).map_err(|_| secret_error(var::PROXY_HMAC_KEY))?)
        }
        None => None,
    };
    let mut verdicts = Vec::new();
    match read.header(var::TERMINATOR_VERIFY_HEADER)? {
        Some(header) => {
            let accepted: Vec<String> = match read.set(var::TERMINATOR_VERIFY_VALUES)? {
                Some(raw) => comma_list(&raw),
                None => vec![VERIFY_VALUE_WHEN_UNSET.to_string()],
            };
            if accepted.is_empty() {
                return Err(ConfigError::new(var::TERMINATOR_VERIFY_VALUES, Problem::NoValues));
            }
            verdicts.push(Verdict { header, accepted });
        }
        None => {
            if read.set(var::TERMINATOR_VERIFY_VALUES)?.is_some() {
                return Err(ConfigError::new(
                    var::TERMINATOR_VERIFY_VALUES,
                    Problem::Needs("terminator_verify_header"),
                ));
            }
        }
    }
    if let Some(raw) = read.set(var::TERMINATOR_VERDICTS)? {
        verdicts.extend(proxy::parse_verdicts(&raw).map_err(|p| invalid(var::TERMINATOR_VERDICTS, p))?);
    }
    for (i, v) in verdicts.iter().enumerate() {
        if verdicts[..i].iter().any(|earlier| earlier.header == v.header) {
            return Err(ConfigError::new(var::TERMINATOR_VERDICTS, Problem::RepeatedHeader(v.header.clone())));
        }
    }
    let warning_days = read.number(var::PIN_EXPIRY_WARNING_DAYS)?.unwrap_or(0);
    Ok(Policy {
        thumbprints,
        thumbprints_source: var::ALLOWED_THUMBPRINTS,
        pins: all_pins,
        trust: TrustStore::new(anchors, intermediates),
        eku,
        names,
        denylist,
        crls,
        when_stale,
        report_only,
        shared_secret,
        signature,
        verdicts,
        pin_warning_seconds: i64::try_from(warning_days.saturating_mul(86_400)).unwrap_or(i64::MAX),
        store,
        chain_cache_seconds,
    })
}

/// A key-value store label as Spin accepts one in `key_value_stores`: lowercase letters,
/// digits, `-` and `_`, starting with a letter, at most 64 characters.
fn store_label(raw: &str) -> Result<String, ConfigError> {
    let label = raw.trim();
    let ok = label.len() <= 64
        && label.starts_with(|c: char| c.is_ascii_lowercase())
        && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(label.to_string())
    } else {
        Err(invalid(
            var::KEYVALUE_STORE,
            "a store label is lowercase letters, digits, '-' and '_', starting with a letter, at most 64 characters"
                .to_string(),
        ))
    }
}
