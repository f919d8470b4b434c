//! Configuration, read through a [`VariableSource`] (Spin variables via `wasi:config/store`
//! in the component, a map in tests). Everything is validated when read; anything missing,
//! empty or malformed is a [`Reason::ConfigurationError`]: the service then refuses every
//! request and `/healthz` reports 503.

use crate::extract::{ExtractionSettings, Format, TooLargeFlag, XfccElements};
use crate::platform;
use crate::policy::{optional, Policy};
use crate::reason::{Reason, Refusal};

/// Variable names, as declared in `spin.toml`.
pub mod var {
    pub const ALLOWED_THUMBPRINTS: &str = "allowed_thumbprints";
    pub const PLATFORM: &str = "platform";
    pub const CERTIFICATE_HEADER: &str = "certificate_header";
    pub const CERTIFICATE_CHAIN_HEADER: &str = "certificate_chain_header";
    pub const CERTIFICATE_FORMAT: &str = "certificate_format";
    pub const XFCC_ELEMENTS: &str = "xfcc_elements";
    pub const CLOCK_SKEW_SECONDS: &str = "clock_skew_seconds";
    pub const MAX_HEADER_BYTES: &str = "max_header_bytes";
    pub const MAX_CHAIN_CERTIFICATES: &str = "max_chain_certificates";
    pub const ALLOWED_KEY_PINS: &str = "allowed_key_pins";
    pub const PINS: &str = "pins";
    pub const TRUST_ANCHORS: &str = "trust_anchors";
    pub const INTERMEDIATES: &str = "intermediates";
    pub const REQUIRE_CLIENT_AUTH_EKU: &str = "require_client_auth_eku";
    pub const ALLOWED_NAMES: &str = "allowed_names";
    pub const REVOKED: &str = "revoked";
    pub const CRLS: &str = "crls";
    pub const CRL_WHEN_STALE: &str = "crl_when_stale";
    pub const MODE: &str = "mode";
    pub const PROXY_SECRET: &str = "proxy_secret";
    pub const PROXY_SECRET_HEADER: &str = "proxy_secret_header";
    pub const PROXY_HMAC_KEY: &str = "proxy_hmac_key";
    pub const PROXY_SIGNATURE_HEADER: &str = "proxy_signature_header";
    pub const PROXY_SIGNATURE_MAX_AGE_SECONDS: &str = "proxy_signature_max_age_seconds";
    pub const TERMINATOR_VERIFY_HEADER: &str = "terminator_verify_header";
    pub const TERMINATOR_VERIFY_VALUES: &str = "terminator_verify_values";
    pub const PIN_EXPIRY_WARNING_DAYS: &str = "pin_expiry_warning_days";
    pub const CERTIFICATE_TOO_LARGE_HEADER: &str = "certificate_too_large_header";
    pub const CERTIFICATE_TOO_LARGE_VALUES: &str = "certificate_too_large_values";
    pub const CERTIFICATE_DIGEST_HEADER: &str = "certificate_digest_header";
    pub const TERMINATOR_VERDICTS: &str = "terminator_verdicts";

    /// Every variable certgate reads.
    pub const ALL: [&str; 31] = [
        ALLOWED_THUMBPRINTS,
        PLATFORM,
        CERTIFICATE_HEADER,
        CERTIFICATE_CHAIN_HEADER,
        CERTIFICATE_FORMAT,
        XFCC_ELEMENTS,
        CLOCK_SKEW_SECONDS,
        MAX_HEADER_BYTES,
        MAX_CHAIN_CERTIFICATES,
        ALLOWED_KEY_PINS,
        PINS,
        TRUST_ANCHORS,
        INTERMEDIATES,
        REQUIRE_CLIENT_AUTH_EKU,
        ALLOWED_NAMES,
        REVOKED,
        CRLS,
        CRL_WHEN_STALE,
        MODE,
        PROXY_SECRET,
        PROXY_SECRET_HEADER,
        PROXY_HMAC_KEY,
        PROXY_SIGNATURE_HEADER,
        PROXY_SIGNATURE_MAX_AGE_SECONDS,
        TERMINATOR_VERIFY_HEADER,
        TERMINATOR_VERIFY_VALUES,
        PIN_EXPIRY_WARNING_DAYS,
        CERTIFICATE_TOO_LARGE_HEADER,
        CERTIFICATE_TOO_LARGE_VALUES,
        CERTIFICATE_DIGEST_HEADER,
        TERMINATOR_VERDICTS,
    ];
}

/// The header read when neither `platform` nor `certificate_header` says otherwise:
/// the ASP.NET Core / Azure App Service convention this design starts from.
pub const DEFAULT_HEADER: &str = "X-ARR-ClientCert";
/// Tolerance applied to notBefore and notAfter.
pub const DEFAULT_CLOCK_SKEW_SECONDS: u64 = 60;
pub const MAX_CLOCK_SKEW_SECONDS: u64 = 86_400;
/// Room for a 6 KB certificate even as XFCC carrying both `Cert` and `Chain`.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 32 * 1024;
pub const MIN_MAX_HEADER_BYTES: usize = 512;
/// Most certificates one request may forward, leaf included, unless configured: leaf,
/// issuing CA, one more intermediate, root and a cross-certificate. Path building's work
/// grows with every certificate an attacker may add, so the default is small.
pub const DEFAULT_MAX_CHAIN_CERTIFICATES: usize = 5;
pub const MAX_MAX_HEADER_BYTES: usize = 1024 * 1024;

/// Where configuration values come from.
pub trait VariableSource {
    /// `Ok(None)` when the variable is not set; `Err` when the source itself failed.
    fn get(&self, name: &str) -> Result<Option<String>, String>;
}

impl VariableSource for std::collections::HashMap<String, String> {
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        Ok(std::collections::HashMap::get(self, name).cloned())
    }
}

impl VariableSource for &[(&str, &str)] {
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        Ok(self.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
    }
}

/// A validated configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub policy: Policy,
    pub extraction: ExtractionSettings,
    pub clock_skew_seconds: u64,
    /// The preset in force, if any.
    pub platform: Option<&'static str>,
}

fn config_error(variable: &str, problem: impl std::fmt::Display) -> Refusal {
    Refusal::new(Reason::ConfigurationError, format!("variable `{variable}`: {problem}"))
}

/// An HTTP header name: a non-empty RFC 9110 token. Returned lowercase.
pub fn parse_header_name(raw: &str) -> Option<String> {
    let is_tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    (!raw.is_empty() && raw.len() <= 256 && raw.bytes().all(is_tchar)).then(|| raw.to_ascii_lowercase())
}

fn parse_number(name: &str, raw: &str, min: u64, max: u64) -> Result<u64, Refusal> {
    let value: u64 = raw.parse().map_err(|_| config_error(name, "is not a whole number"))?;
    if value < min || value > max {
        return Err(config_error(name, format_args!("must be between {min} and {max}")));
    }
    Ok(value)
}

impl Config {
    /// Read and validate every variable.
    pub fn load(source: &dyn VariableSource) -> Result<Config, Refusal> {
        let preset = match optional(source, var::PLATFORM)? {
            Some(name) => Some(
                platform::find(&name).ok_or_else(|| config_error(var::PLATFORM, "is not a known platform preset"))?,
            ),
            None => None,
        };

        let header = match optional(source, var::CERTIFICATE_HEADER)? {
            Some(h) => parse_header_name(&h)
                .ok_or_else(|| config_error(var::CERTIFICATE_HEADER, "is not a valid header name"))?,
            None => preset.map_or(DEFAULT_HEADER, |p| p.header).to_ascii_lowercase(),
        };
        let chain_header = match optional(source, var::CERTIFICATE_CHAIN_HEADER)? {
            Some(h) => Some(
                parse_header_name(&h)
                    .ok_or_else(|| config_error(var::CERTIFICATE_CHAIN_HEADER, "is not a valid header name"))?,
            ),
            None => preset.and_then(|p| p.chain_header).map(str::to_ascii_lowercase),
        };
        if chain_header.as_deref() == Some(header.as_str()) {
            return Err(config_error(var::CERTIFICATE_CHAIN_HEADER, "must differ from the certificate header"));
        }
        let format = match optional(source, var::CERTIFICATE_FORMAT)? {
            Some(f) => Format::parse(&f).ok_or_else(|| {
                config_error(var::CERTIFICATE_FORMAT, format_args!("must be one of {}", Format::choices()))
            })?,
            None => preset.map_or(Format::Auto, |p| p.format),
        };
        let xfcc_elements = match optional(source, var::XFCC_ELEMENTS)? {
            Some(v) => {
                XfccElements::parse(&v).ok_or_else(|| config_error(var::XFCC_ELEMENTS, "must be `single` or `last`"))?
            }
            None => XfccElements::Single,
        };
        let clock_skew_seconds = match optional(source, var::CLOCK_SKEW_SECONDS)? {
            Some(v) => parse_number(var::CLOCK_SKEW_SECONDS, &v, 0, MAX_CLOCK_SKEW_SECONDS)?,
            None => DEFAULT_CLOCK_SKEW_SECONDS,
        };
        let max_header_bytes = match optional(source, var::MAX_HEADER_BYTES)? {
            Some(v) => {
                parse_number(var::MAX_HEADER_BYTES, &v, MIN_MAX_HEADER_BYTES as u64, MAX_MAX_HEADER_BYTES as u64)?
                    as usize
            }
            None => DEFAULT_MAX_HEADER_BYTES,
        };

        let max_certificates = match optional(source, var::MAX_CHAIN_CERTIFICATES)? {
            Some(v) => parse_number(var::MAX_CHAIN_CERTIFICATES, &v, 1, crate::extract::MAX_CERTIFICATES as u64)?
                as usize,
            None => DEFAULT_MAX_CHAIN_CERTIFICATES,
        };

        let too_large_values = optional(source, var::CERTIFICATE_TOO_LARGE_VALUES)?
            .map(|raw| raw.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect::<Vec<_>>());
        if too_large_values.as_ref().is_some_and(Vec::is_empty) {
            return Err(config_error(var::CERTIFICATE_TOO_LARGE_VALUES, "has no values"));
        }
        let preset_flag = preset.and_then(|p| p.too_large);
        let too_large_header = match optional(source, var::CERTIFICATE_TOO_LARGE_HEADER)? {
            Some(h) => Some(
                parse_header_name(&h)
                    .ok_or_else(|| config_error(var::CERTIFICATE_TOO_LARGE_HEADER, "is not a valid header name"))?,
            ),
            None => preset_flag.map(|f| f.header.to_ascii_lowercase()),
        };
        // A renamed flag header keeps the preset's values, as a renamed certificate header
        // keeps its format.
        let too_large_flag = too_large_header.map(|header| TooLargeFlag {
            header,
            values: too_large_values.clone().unwrap_or_else(|| {
                preset_flag.map_or_else(|| vec!["true".to_string()], |f| f.values.iter().map(|v| v.to_string()).collect())
            }),
        });
        if too_large_flag.is_none() && too_large_values.is_some() {
            return Err(config_error(var::CERTIFICATE_TOO_LARGE_VALUES, "needs certificate_too_large_header"));
        }
        let digest_header = match optional(source, var::CERTIFICATE_DIGEST_HEADER)? {
            Some(h) => Some(
                parse_header_name(&h)
                    .ok_or_else(|| config_error(var::CERTIFICATE_DIGEST_HEADER, "is not a valid header name"))?,
            ),
            None => None,
        };
        for (name, other) in [
            (var::CERTIFICATE_TOO_LARGE_HEADER, too_large_flag.as_ref().map(|f| f.header.as_str())),
            (var::CERTIFICATE_DIGEST_HEADER, digest_header.as_deref()),
        ] {
            if other.is_some_and(|o| o == header || Some(o) == chain_header.as_deref()) {
                return Err(config_error(name, "must differ from the certificate and chain headers"));
            }
        }

        let policy = Policy::load(source)?;

        Ok(Config {
            policy,
            extraction: ExtractionSettings {
                header,
                chain_header,
                format,
                xfcc_elements,
                max_header_bytes,
                max_certificates,
                too_large_flag,
                digest_header,
            },
            clock_skew_seconds,
            platform: preset.map(|p| p.name),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIN: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";

    fn load(vars: &[(&str, &str)]) -> Result<Config, Refusal> {
        Config::load(&vars)
    }

    fn problem(vars: &[(&str, &str)]) -> String {
        let e = load(vars).unwrap_err();
        assert_eq!(e.reason, Reason::ConfigurationError);
        e.detail
    }

    #[test]
    fn defaults() {
        let c = load(&[(var::ALLOWED_THUMBPRINTS, PIN)]).unwrap();
        assert_eq!(c.extraction.header, "x-arr-clientcert");
        assert_eq!(c.extraction.format, Format::Auto);
        assert_eq!(c.extraction.chain_header, None);
        assert_eq!(c.extraction.max_header_bytes, DEFAULT_MAX_HEADER_BYTES);
        assert_eq!(c.extraction.xfcc_elements, XfccElements::Single);
        assert_eq!(c.clock_skew_seconds, DEFAULT_CLOCK_SKEW_SECONDS);
        assert_eq!(c.platform, None);
    }

    #[test]
    fn preset_then_explicit_variables_win() {
        let c = load(&[(var::ALLOWED_THUMBPRINTS, PIN), (var::PLATFORM, "envoy")]).unwrap();
        assert_eq!(c.extraction.header, "x-forwarded-client-cert");
        assert_eq!(c.extraction.format, Format::Xfcc);
        assert_eq!(c.platform, Some("envoy"));
        let c = load(&[
            (var::ALLOWED_THUMBPRINTS, PIN),
            (var::PLATFORM, "envoy"),
            (var::CERTIFICATE_HEADER, "X-My-Cert"),
            (var::CERTIFICATE_FORMAT, "pem"),
        ])
        .unwrap();
        assert_eq!(c.extraction.header, "x-my-cert");
        assert_eq!(c.extraction.format, Format::Pem);
        let c = load(&[(var::ALLOWED_THUMBPRINTS, PIN), (var::PLATFORM, "rfc9440")]).unwrap();
        assert_eq!(c.extraction.chain_header.as_deref(), Some("client-cert-chain"));
        // Empty optional variables mean "unset".
        let c = load(&[(var::ALLOWED_THUMBPRINTS, PIN), (var::PLATFORM, ""), (var::CERTIFICATE_HEADER, " ")]).unwrap();
        assert_eq!(c.extraction.header, "x-arr-clientcert");
    }

    #[test]
    fn fails_closed() {
        assert!(problem(&[]).contains("allowed_thumbprints"));
        assert!(problem(&[(var::ALLOWED_THUMBPRINTS, "")]).contains("empty"));
        assert!(problem(&[(var::ALLOWED_THUMBPRINTS, " ; \n")]).contains("empty"));
        let p = problem(&[(var::ALLOWED_THUMBPRINTS, &format!("{PIN};secretvalue"))]);
        assert!(p.contains("entry 2") && !p.contains("secretvalue"), "{p}");
        assert!(problem(&[(var::ALLOWED_THUMBPRINTS, PIN), (var::PLATFORM, "iis")]).contains("platform"));
        assert!(problem(&[(var::ALLOWED_THUMBPRINTS, PIN), (var::CERTIFICATE_FORMAT, "der")]).contains("format"));
        assert!(problem(&[(var::ALLOWED_THUMBPRINTS, PIN), (var::CERTIFICATE_HEADER, "bad header")]).contains("header"));
        assert!(problem(&[(var::ALLOWED_THUMBPRINTS, PIN), (var::CLOCK_SKEW_SECONDS, "-1")]).contains("clock"));
        assert!(problem(&[(var::ALLOWED_THUMBPRINTS, PIN), (var::CLOCK_SKEW_SECONDS, "999999")]).contains("between"));
        assert!(problem(&[(var::ALLOWED_THUMBPRINTS, PIN), (var::MAX_HEADER_BYTES, "10")]).contains("between"));
        assert!(problem(&[(var::ALLOWED_THUMBPRINTS, PIN), (var::XFCC_ELEMENTS, "first")]).contains("xfcc"));
        assert!(problem(&[
            (var::ALLOWED_THUMBPRINTS, PIN),
            (var::CERTIFICATE_HEADER, "A"),
            (var::CERTIFICATE_CHAIN_HEADER, "a")
        ])
        .contains("differ"));
    }

    #[test]
    fn numeric_limits_are_inclusive() {
        let with = |name: &'static str, value: &str| load(&[(var::ALLOWED_THUMBPRINTS, PIN), (name, value)]);
        for (value, bytes) in [("512", 512), ("1048576", 1024 * 1024)] {
            assert_eq!(with(var::MAX_HEADER_BYTES, value).unwrap().extraction.max_header_bytes, bytes);
        }
        // Surrounding white space is trimmed, as for every variable.
        assert_eq!(with(var::MAX_HEADER_BYTES, " 600\n").unwrap().extraction.max_header_bytes, 600);
        for value in ["511", "1048577", "1e6", "6 00", "0x600"] {
            let e = with(var::MAX_HEADER_BYTES, value).unwrap_err();
            assert_eq!(e.reason, Reason::ConfigurationError, "{value}");
            assert!(e.detail.contains("max_header_bytes"), "{}", e.detail);
        }
        assert!(with(var::MAX_HEADER_BYTES, "511").unwrap_err().detail.contains("between 512 and 1048576"));
        for (value, seconds) in [("0", 0), ("86400", 86_400)] {
            assert_eq!(with(var::CLOCK_SKEW_SECONDS, value).unwrap().clock_skew_seconds, seconds);
        }
        assert!(with(var::CLOCK_SKEW_SECONDS, "86401").unwrap_err().detail.contains("between 0 and 86400"));
    }

    struct Broken;
    impl VariableSource for Broken {
        fn get(&self, _: &str) -> Result<Option<String>, String> {
            Err("provider down".into())
        }
    }

    #[test]
    fn a_failing_source_is_a_configuration_error() {
        let e = Config::load(&Broken).unwrap_err();
        assert_eq!(e.reason, Reason::ConfigurationError);
    }
}
