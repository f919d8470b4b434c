//! Trust policy beyond a thumbprint list: pins with labels and windows, key pins, chain
//! validation to private CAs, name rules, offline revocation, report-only mode, proof
//! that the header came from the terminator, and the terminator's own verdict. Every
//! part is validated when read; anything invalid is a configuration error.

pub mod names;
pub mod pins;
pub mod proxy;
pub mod revocation;

use crate::config::{parse_header_name, var, VariableSource};
use crate::reason::Refusal;
use crate::thumbprint::ThumbprintList;
use crate::trust::{CaCertificate, EkuPolicy, TrustStore};
use names::NameRule;
use pins::Pin;
use proxy::{SharedSecret, Signature, Verdict};
use revocation::{Crl, Denylist, WhenStale};

/// Most PEM blocks in one configured bundle (anchors, intermediates, CRLs).
pub const MAX_BUNDLE: usize = 256;
/// Largest value of any one variable.
pub const MAX_VARIABLE_BYTES: usize = 4 * 1024 * 1024;
/// Most entries in any one list (pins, key pins, names, denylist).
pub const MAX_LIST_ENTRIES: usize = 100_000;

fn too_big(name: &str, len: usize) -> Refusal {
    error(name, format_args!("is {len} bytes; the limit is {MAX_VARIABLE_BYTES}"))
}

fn check_entries(name: &str, n: usize) -> Result<(), Refusal> {
    if n > MAX_LIST_ENTRIES {
        return Err(error(name, format_args!("has {n} entries; the limit is {MAX_LIST_ENTRIES}")));
    }
    Ok(())
}
pub const DEFAULT_PIN_WARNING_DAYS: u64 = 14;

/// The trust policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `allowed_thumbprints`, kept compact (33 bytes an entry): with thousands of entries,
    /// every request of a fresh instance rebuilds it.
    pub thumbprints: ThumbprintList,
    /// Key pins and the JSON `pins`.
    pub pins: Vec<Pin>,
    pub trust: TrustStore,
    pub eku: EkuPolicy,
    pub names: Vec<NameRule>,
    pub denylist: Denylist,
    pub crls: Vec<Crl>,
    pub when_stale: WhenStale,
    pub report_only: bool,
    pub shared_secret: Option<SharedSecret>,
    pub signature: Option<Signature>,
    /// The terminator's verdict headers: each must carry one of its accepted values.
    pub verdicts: Vec<Verdict>,
    pub pin_warning_seconds: i64,
}

fn error(variable: &str, problem: impl std::fmt::Display) -> Refusal {
    Refusal::configuration(format!("variable `{variable}`: {problem}"))
}

/// Read an optional variable (empty means unset).
pub(crate) fn optional(source: &dyn VariableSource, name: &str) -> Result<Option<String>, Refusal> {
    match source.get(name) {
        Ok(Some(v)) if v.len() > MAX_VARIABLE_BYTES => Err(too_big(name, v.len())),
        Ok(Some(v)) if !v.trim().is_empty() => Ok(Some(v.trim().to_string())),
        Ok(_) => Ok(None),
        Err(e) => {
            let first: String = e.lines().next().unwrap_or("").chars().take(120).collect();
            Err(error(name, format_args!("could not be read ({first})")))
        }
    }
}

fn parse_bool(name: &str, raw: &str) -> Result<bool, Refusal> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(error(name, "must be true or false")),
    }
}

fn parse_u64(name: &str, raw: &str, max: u64) -> Result<u64, Refusal> {
    let v: u64 = raw.trim().parse().map_err(|_| error(name, "is not a whole number"))?;
    if v > max {
        return Err(error(name, format_args!("must be at most {max}")));
    }
    Ok(v)
}

fn ca_bundle(name: &str, raw: &str) -> Result<Vec<CaCertificate>, Refusal> {
    let ders = crate::extract::decode_pem_blocks(raw, "CERTIFICATE", MAX_BUNDLE).map_err(|e| error(name, e))?;
    ders.into_iter()
        .enumerate()
        .map(|(i, der)| {
            CaCertificate::from_der(der).map_err(|p| error(name, format_args!("certificate {}: {p}", i + 1)))
        })
        .collect()
}

fn header_var(source: &dyn VariableSource, name: &str, default: &str) -> Result<String, Refusal> {
    match optional(source, name)? {
        Some(h) => parse_header_name(&h).ok_or_else(|| error(name, "is not a valid header name")),
        None => Ok(default.to_string()),
    }
}

impl Policy {
    pub fn load(source: &dyn VariableSource) -> Result<Policy, Refusal> {
        // Pins, from the simple list, the key-pin list and the JSON list with labels.
        let mut thumbprints = ThumbprintList::default();
        let mut all_pins = Vec::new();
        match source.get(var::ALLOWED_THUMBPRINTS) {
            Ok(Some(raw)) if raw.len() > MAX_VARIABLE_BYTES => {
                return Err(too_big(var::ALLOWED_THUMBPRINTS, raw.len()))
            }
            Ok(Some(raw)) => {
                thumbprints = ThumbprintList::parse(&raw).map_err(|e| error(var::ALLOWED_THUMBPRINTS, e))?;
                check_entries(var::ALLOWED_THUMBPRINTS, thumbprints.len())?;
            }
            Ok(None) => {}
            Err(e) => {
                let first: String = e.lines().next().unwrap_or("").chars().take(120).collect();
                return Err(error(var::ALLOWED_THUMBPRINTS, format_args!("could not be read ({first})")));
            }
        }
        if let Some(raw) = optional(source, var::ALLOWED_KEY_PINS)? {
            all_pins.extend(
                pins::parse_key_pin_list(&raw, var::ALLOWED_KEY_PINS).map_err(|p| error(var::ALLOWED_KEY_PINS, p))?,
            );
        }
        if let Some(raw) = optional(source, var::PINS)? {
            all_pins.extend(pins::parse_pins_json(&raw, var::PINS).map_err(|p| error(var::PINS, p))?);
        }
        check_entries("allowed_thumbprints, allowed_key_pins and pins together", thumbprints.len() + all_pins.len())?;

        let anchors = match optional(source, var::TRUST_ANCHORS)? {
            Some(raw) => ca_bundle(var::TRUST_ANCHORS, &raw)?,
            None => Vec::new(),
        };
        let intermediates = match optional(source, var::INTERMEDIATES)? {
            Some(raw) => ca_bundle(var::INTERMEDIATES, &raw)?,
            None => Vec::new(),
        };
        if !intermediates.is_empty() && anchors.is_empty() {
            return Err(error(var::INTERMEDIATES, "needs trust_anchors"));
        }
        if thumbprints.is_empty() && all_pins.is_empty() && anchors.is_empty() {
            return Err(Refusal::configuration(
                "no trust source: set one of the variables allowed_thumbprints, allowed_key_pins, pins or trust_anchors \
                 (an empty allowed_thumbprints alone would allow nothing)",
            ));
        }
        let eku = match optional(source, var::REQUIRE_CLIENT_AUTH_EKU)? {
            Some(raw) if !parse_bool(var::REQUIRE_CLIENT_AUTH_EKU, &raw)? => EkuPolicy::Any,
            _ => EkuPolicy::ClientAuth,
        };
        let names = match optional(source, var::ALLOWED_NAMES)? {
            Some(raw) => {
                let rules = names::parse_rules(&raw).map_err(|p| error(var::ALLOWED_NAMES, p))?;
                check_entries(var::ALLOWED_NAMES, rules.len())?;
                if rules.is_empty() {
                    return Err(error(var::ALLOWED_NAMES, "has no rules"));
                }
                rules
            }
            None => Vec::new(),
        };
        let denylist = match optional(source, var::REVOKED)? {
            Some(raw) => {
                let list = Denylist::parse(&raw).map_err(|p| error(var::REVOKED, p))?;
                check_entries(var::REVOKED, list.len())?;
                list
            }
            None => Denylist::default(),
        };
        let crls = match optional(source, var::CRLS)? {
            Some(raw) => {
                let issuers: Vec<CaCertificate> = anchors.iter().chain(&intermediates).cloned().collect();
                revocation::parse_crls(&raw, &issuers).map_err(|p| error(var::CRLS, p))?
            }
            None => Vec::new(),
        };
        let when_stale = match optional(source, var::CRL_WHEN_STALE)? {
            Some(raw) => {
                WhenStale::parse(&raw).ok_or_else(|| error(var::CRL_WHEN_STALE, "must be `deny` or `allow`"))?
            }
            None => WhenStale::Deny,
        };
        let report_only = match optional(source, var::MODE)? {
            Some(raw) => match raw.to_ascii_lowercase().as_str() {
                "enforce" => false,
                "report-only" => true,
                _ => return Err(error(var::MODE, "must be `enforce` or `report-only`")),
            },
            None => false,
        };
        let shared_secret = match optional(source, var::PROXY_SECRET)? {
            Some(secret) => {
                let header = header_var(source, var::PROXY_SECRET_HEADER, proxy::DEFAULT_SECRET_HEADER)?;
                Some(SharedSecret::new(header, &secret).map_err(|p| error(var::PROXY_SECRET, p))?)
            }
            None => None,
        };
        let signature = match optional(source, var::PROXY_HMAC_KEY)? {
            Some(key) => {
                let header = header_var(source, var::PROXY_SIGNATURE_HEADER, proxy::DEFAULT_SIGNATURE_HEADER)?;
                let max_age = match optional(source, var::PROXY_SIGNATURE_MAX_AGE_SECONDS)? {
                    Some(raw) => parse_u64(var::PROXY_SIGNATURE_MAX_AGE_SECONDS, &raw, 86_400)?,
                    None => proxy::DEFAULT_SIGNATURE_MAX_AGE,
                };
                Some(Signature::new(header, &key, max_age).map_err(|p| error(var::PROXY_HMAC_KEY, p))?)
            }
            None => None,
        };
        let mut verdicts = Vec::new();
        match optional(source, var::TERMINATOR_VERIFY_HEADER)? {
            Some(h) => {
                let header = parse_header_name(&h)
                    .ok_or_else(|| error(var::TERMINATOR_VERIFY_HEADER, "is not a valid header name"))?;
                let accepted: Vec<String> = match optional(source, var::TERMINATOR_VERIFY_VALUES)? {
                    Some(raw) => raw.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect(),
                    None => vec!["SUCCESS".to_string()],
                };
                if accepted.is_empty() {
                    return Err(error(var::TERMINATOR_VERIFY_VALUES, "has no values"));
                }
                verdicts.push(Verdict { header, accepted });
            }
            None => {
                if optional(source, var::TERMINATOR_VERIFY_VALUES)?.is_some() {
                    return Err(error(var::TERMINATOR_VERIFY_VALUES, "needs terminator_verify_header"));
                }
            }
        }
        if let Some(raw) = optional(source, var::TERMINATOR_VERDICTS)? {
            verdicts.extend(proxy::parse_verdicts(&raw).map_err(|p| error(var::TERMINATOR_VERDICTS, p))?);
        }
        for (i, v) in verdicts.iter().enumerate() {
            if verdicts[..i].iter().any(|earlier| earlier.header == v.header) {
                return Err(error(var::TERMINATOR_VERDICTS, format_args!("names the header `{}` twice", v.header)));
            }
        }
        let warning_days = match optional(source, var::PIN_EXPIRY_WARNING_DAYS)? {
            Some(raw) => parse_u64(var::PIN_EXPIRY_WARNING_DAYS, &raw, 3650)?,
            None => DEFAULT_PIN_WARNING_DAYS,
        };
        Ok(Policy {
            thumbprints,
            pins: all_pins,
            trust: TrustStore { anchors, intermediates },
            eku,
            names,
            denylist,
            crls,
            when_stale,
            report_only,
            shared_secret,
            signature,
            verdicts,
            pin_warning_seconds: i64::try_from(warning_days * 86_400).unwrap_or(i64::MAX),
        })
    }
}

#[cfg(test)]
mod tests;
