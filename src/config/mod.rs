//! Configuration: every variable certgate reads ([`vars::VARS`]), read through a
//! [`VariableSource`] (Spin variables via `wasi:config/store` in the component, a map in
//! tests) and validated when read. Anything missing, empty or malformed is a
//! [`ConfigError`]: the service then refuses every request and `/healthz` reports 503.
//!
//! Imports run one way: `config` builds the [`Policy`](crate::policy::Policy) and the
//! extraction settings from variables; `policy` and `trust` know nothing of variables.

mod error;
mod origin;
mod policy;
mod read;
pub mod vars;

pub use error::{ConfigError, Problem};
pub use origin::UpstreamOrigin;
pub use read::VariableSource;
#[cfg(test)]
use read::{MAX_LIST_ENTRIES, MAX_VARIABLE_BYTES};
pub(crate) use vars::var;

use crate::extract::{ExtractionSettings, Format, TooLargeFlag, XfccElements};
use crate::platform;
use crate::policy::proxy::MIN_SECRET_LEN;
use crate::policy::Policy;
use read::Reader;

/// The header read when neither `platform` nor `certificate_header` says otherwise:
/// the ASP.NET Core / Azure App Service convention this design starts from.
pub const DEFAULT_HEADER: &str = "X-ARR-ClientCert";

/// A validated configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The trust policy.
    pub policy: Policy,
    /// Where and how the certificate is read.
    pub extraction: ExtractionSettings,
    /// Tolerance applied to notBefore and notAfter.
    pub clock_skew_seconds: u64,
    /// How long, in seconds, a long-lived instance may use this configuration before
    /// reading it again (`config_refresh_seconds`; 0: read for every request).
    pub config_refresh_seconds: u64,
    /// The preset in force, if any.
    pub platform: Option<&'static str>,
    /// What certgate answers as (`service`), and how it names and signs identity headers.
    pub service: ServiceSettings,
}

/// What certgate serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// Its own routes (`service = app`).
    App,
    /// An authorization service for a proxy (`service = forward-auth`).
    ForwardAuth,
    /// A gateway that forwards allowed requests to an upstream (`service = gateway`).
    Gateway,
}

/// Where and how `service = gateway` forwards (`upstream`, its timeouts, the body limit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewaySettings {
    /// The origin.
    pub upstream: UpstreamOrigin,
    /// The longest a connection to it may take, in seconds.
    pub connect_timeout_seconds: u64,
    /// The longest wait for its response headers, and between pieces of its response body.
    pub timeout_seconds: u64,
    /// The largest request body forwarded, in bytes.
    pub max_request_body_bytes: u64,
}

/// `service`, `identity_header_prefix` and `identity_signing_key`.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceSettings {
    /// What certgate answers as.
    pub service: Service,
    /// The identity headers' prefix (lower case).
    pub identity_prefix: String,
    /// The key signing them, if any.
    pub identity_key: Option<Vec<u8>>,
    /// With `service = gateway`, where it forwards.
    pub gateway: Option<GatewaySettings>,
}

impl std::fmt::Debug for ServiceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("ServiceSettings")
            .field("service", &self.service)
            .field("identity_prefix", &self.identity_prefix)
            .field("signed", &self.identity_key.is_some())
            .field("gateway", &self.gateway)
            .finish()
    }
}

fn error(variable: &'static str, problem: Problem) -> ConfigError {
    ConfigError::new(variable, problem)
}

/// A number the table bounds: its range is within `usize` on every target.
fn size(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl Config {
    /// Read and validate every variable.
    pub fn load(source: &dyn VariableSource) -> Result<Config, ConfigError> {
        let read = Reader::new(source);
        let preset = match read.set(var::PLATFORM)? {
            Some(name) => Some(platform::find(&name).ok_or(error(var::PLATFORM, Problem::UnknownPlatform))?),
            None => None,
        };

        let header = match read.header(var::CERTIFICATE_HEADER)? {
            Some(h) => h,
            None => preset.map_or(DEFAULT_HEADER, |p| p.header).to_ascii_lowercase(),
        };
        let chain_header = match read.header(var::CERTIFICATE_CHAIN_HEADER)? {
            Some(h) => Some(h),
            None => preset.and_then(|p| p.chain_header).map(str::to_ascii_lowercase),
        };
        if chain_header.as_deref() == Some(header.as_str()) {
            return Err(error(var::CERTIFICATE_CHAIN_HEADER, Problem::MustDiffer("the certificate header")));
        }
        let format = match read.set(var::CERTIFICATE_FORMAT)? {
            Some(f) => Format::parse(&f).ok_or(error(var::CERTIFICATE_FORMAT, Problem::UnknownFormat))?,
            None => preset.map_or(Format::Auto, |p| p.format),
        };
        let xfcc_elements = match read.choice(var::XFCC_ELEMENTS)? {
            Some("last") => XfccElements::Last,
            _ => XfccElements::Single,
        };
        let clock_skew_seconds = read.number(var::CLOCK_SKEW_SECONDS)?.unwrap_or(0);
        let config_refresh_seconds = read.number(var::CONFIG_REFRESH_SECONDS)?.unwrap_or(0);
        let max_header_bytes = size(read.number(var::MAX_HEADER_BYTES)?.unwrap_or(0));
        let max_certificates = size(read.number(var::MAX_CHAIN_CERTIFICATES)?.unwrap_or(1));

        let too_large_values = read.set(var::CERTIFICATE_TOO_LARGE_VALUES)?.map(|raw| read::comma_list(&raw));
        if too_large_values.as_ref().is_some_and(Vec::is_empty) {
            return Err(error(var::CERTIFICATE_TOO_LARGE_VALUES, Problem::NoValues));
        }
        let preset_flag = preset.and_then(|p| p.too_large);
        let too_large_header = match read.header(var::CERTIFICATE_TOO_LARGE_HEADER)? {
            Some(h) => Some(h),
            None => preset_flag.map(|f| f.header.to_ascii_lowercase()),
        };
        // A renamed flag header keeps the preset's values, as a renamed certificate header
        // keeps its format.
        let too_large_flag = too_large_header.map(|header| TooLargeFlag {
            header,
            values: too_large_values.clone().unwrap_or_else(|| {
                preset_flag
                    .map_or_else(|| vec!["true".to_string()], |f| f.values.iter().map(|v| v.to_string()).collect())
            }),
        });
        if too_large_flag.is_none() && too_large_values.is_some() {
            return Err(error(var::CERTIFICATE_TOO_LARGE_VALUES, Problem::Needs("certificate_too_large_header")));
        }
        let digest_header = read.header(var::CERTIFICATE_DIGEST_HEADER)?;
        for (name, other) in [
            (var::CERTIFICATE_TOO_LARGE_HEADER, too_large_flag.as_ref().map(|f| f.header.as_str())),
            (var::CERTIFICATE_DIGEST_HEADER, digest_header.as_deref()),
        ] {
            if other.is_some_and(|o| o == header || Some(o) == chain_header.as_deref()) {
                return Err(error(name, Problem::MustDiffer("the certificate and chain headers")));
            }
        }

        let policy = policy::load(&read)?;

        let service = match read.choice(var::SERVICE)? {
            Some("forward-auth") => Service::ForwardAuth,
            Some("gateway") => Service::Gateway,
            _ => Service::App,
        };
        let upstream = match read.set(var::UPSTREAM)? {
            Some(raw) => Some(origin::parse(&raw).map_err(|e| error(var::UPSTREAM, Problem::Invalid(e)))?),
            None => None,
        };
        let gateway = match (service, upstream) {
            (Service::Gateway, Some(upstream)) => Some(GatewaySettings {
                upstream,
                connect_timeout_seconds: read.number(var::UPSTREAM_CONNECT_TIMEOUT_SECONDS)?.unwrap_or(5),
                timeout_seconds: read.number(var::UPSTREAM_TIMEOUT_SECONDS)?.unwrap_or(30),
                max_request_body_bytes: read.number(var::MAX_REQUEST_BODY_BYTES)?.unwrap_or(10 * 1024 * 1024),
            }),
            (Service::Gateway, None) => return Err(error(var::SERVICE, Problem::Needs("upstream"))),
            // An upstream that is never used is a deployment that does not do what it says.
            (_, Some(_)) => return Err(error(var::UPSTREAM, Problem::Needs("service = gateway"))),
            (_, None) => None,
        };
        let identity_prefix =
            read.header(var::IDENTITY_HEADER_PREFIX)?.unwrap_or_else(|| "x-certgate-client-".to_string());
        if identity_prefix.len() > 64 {
            return Err(error(var::IDENTITY_HEADER_PREFIX, Problem::Invalid("is longer than 64 characters".into())));
        }
        let identity_key = match read.set_untrimmed(var::IDENTITY_SIGNING_KEY)? {
            Some(key) if key.len() < MIN_SECRET_LEN => {
                return Err(error(var::IDENTITY_SIGNING_KEY, Problem::TooShort { min: MIN_SECRET_LEN }))
            }
            Some(key) => Some(key.into_bytes()),
            None => None,
        };
        // The identity headers must not be named like a header certgate itself reads: the
        // proxy strips every client header with the prefix, and certgate's answer must never
        // be mistaken for the proxy's own proof or the certificate.
        let read_headers = [Some(header.as_str()), chain_header.as_deref(), digest_header.as_deref()]
            .into_iter()
            .flatten()
            .chain(too_large_flag.as_ref().map(|f| f.header.as_str()))
            .chain(policy.shared_secret.as_ref().map(|s| s.header.as_str()))
            .chain(policy.signature.as_ref().map(|s| s.header.as_str()))
            .chain(policy.verdicts.iter().map(|v| v.header.as_str()));
        for name in read_headers {
            if name.to_ascii_lowercase().starts_with(&identity_prefix) {
                return Err(error(
                    var::IDENTITY_HEADER_PREFIX,
                    Problem::MustDiffer("every header certgate reads (certificate, proof, verdict)"),
                ));
            }
        }

        if service == Service::Gateway && policy.report_only {
            // Report-only would forward every client, with no identity, to the upstream.
            return Err(error(
                var::MODE,
                Problem::Invalid("report-only cannot be combined with service = gateway".into()),
            ));
        }
        if service == Service::ForwardAuth {
            // An authorization service anyone can ask would hand out (and sign) identities
            // for certificates it never saw presented: the proxy must prove each request.
            if policy.shared_secret.is_none() && policy.signature.is_none() {
                return Err(error(var::SERVICE, Problem::Needs("proxy_secret or proxy_hmac_key")));
            }
            // Report-only would let every client through to the application itself.
            if policy.report_only {
                return Err(error(
                    var::MODE,
                    Problem::Invalid("report-only cannot be combined with service = forward-auth".into()),
                ));
            }
        }

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
            config_refresh_seconds,
            platform: preset.map(|p| p.name),
            service: ServiceSettings { service, identity_prefix, identity_key, gateway },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIN: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::load(&vars)
    }

    fn problem(vars: &[(&str, &str)]) -> String {
        load(vars).unwrap_err().to_string()
    }

    fn error(vars: &[(&str, &str)]) -> ConfigError {
        load(vars).unwrap_err()
    }

    #[test]
    fn defaults() {
        let c = load(&[(var::ALLOWED_THUMBPRINTS, PIN)]).unwrap();
        assert_eq!(c.extraction.header, "x-arr-clientcert");
        assert_eq!(c.extraction.format, Format::Auto);
        assert_eq!(c.extraction.chain_header, None);
        assert_eq!(c.extraction.max_header_bytes, 32 * 1024);
        assert_eq!(c.extraction.max_certificates, 5);
        assert_eq!(c.extraction.xfcc_elements, XfccElements::Single);
        assert_eq!(c.clock_skew_seconds, 60);
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
        let no_source = ConfigError::new(var::ALLOWED_THUMBPRINTS, Problem::NoTrustSource);
        assert_eq!(error(&[]), no_source);
        // Empty means unset, as Spin passes an unset variable's empty default.
        assert_eq!(error(&[(var::ALLOWED_THUMBPRINTS, "")]), no_source);
        assert!(problem(&[]).starts_with("no trust source: set one of the variables allowed_thumbprints"));
        assert!(problem(&[(var::ALLOWED_THUMBPRINTS, " ; \n")]).contains("empty"));
        let e = error(&[(var::ALLOWED_THUMBPRINTS, &format!("{PIN};secretvalue"))]);
        assert_eq!((e.variable, e.entry), (var::ALLOWED_THUMBPRINTS, Some(2)));
        assert!(!e.to_string().contains("secretvalue"), "{e}");
        let with = |name: &'static str, value: &str| error(&[(var::ALLOWED_THUMBPRINTS, PIN), (name, value)]);
        assert_eq!(with(var::PLATFORM, "iis"), ConfigError::new(var::PLATFORM, Problem::UnknownPlatform));
        assert_eq!(
            with(var::CERTIFICATE_FORMAT, "der"),
            ConfigError::new(var::CERTIFICATE_FORMAT, Problem::UnknownFormat)
        );
        assert_eq!(
            with(var::CERTIFICATE_HEADER, "bad header"),
            ConfigError::new(var::CERTIFICATE_HEADER, Problem::NotAHeaderName)
        );
        assert_eq!(with(var::CLOCK_SKEW_SECONDS, "-1"), ConfigError::new(var::CLOCK_SKEW_SECONDS, Problem::NotANumber));
        let range = |min, max| Problem::OutOfRange { min, max };
        assert_eq!(
            with(var::CLOCK_SKEW_SECONDS, "999999"),
            ConfigError::new(var::CLOCK_SKEW_SECONDS, range(0, 86_400))
        );
        assert_eq!(with(var::MAX_HEADER_BYTES, "10"), ConfigError::new(var::MAX_HEADER_BYTES, range(512, 1_048_576)));
        let xfcc = with(var::XFCC_ELEMENTS, "first");
        assert_eq!(xfcc, ConfigError::new(var::XFCC_ELEMENTS, Problem::NotOneOf(&["single", "last"])));
        assert_eq!(xfcc.to_string(), "variable `xfcc_elements`: must be `single` or `last`");
        assert_eq!(
            error(&[
                (var::ALLOWED_THUMBPRINTS, PIN),
                (var::CERTIFICATE_HEADER, "A"),
                (var::CERTIFICATE_CHAIN_HEADER, "a")
            ]),
            ConfigError::new(var::CERTIFICATE_CHAIN_HEADER, Problem::MustDiffer("the certificate header"))
        );
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
            assert_eq!(e.variable, var::MAX_HEADER_BYTES, "{value}");
        }
        assert_eq!(
            with(var::MAX_HEADER_BYTES, "511").unwrap_err().to_string(),
            "variable `max_header_bytes`: must be between 512 and 1048576"
        );
        for (value, seconds) in [("0", 0), ("86400", 86_400)] {
            assert_eq!(with(var::CLOCK_SKEW_SECONDS, value).unwrap().clock_skew_seconds, seconds);
        }
        assert_eq!(
            with(var::CLOCK_SKEW_SECONDS, "86401").unwrap_err().problem,
            Problem::OutOfRange { min: 0, max: 86_400 }
        );
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
        assert_eq!(e, ConfigError::new(var::PLATFORM, Problem::Unreadable("provider down".into())));
        assert_eq!(e.to_string(), "variable `platform`: could not be read (provider down)");
    }
}

#[cfg(test)]
mod policy_tests;

/// The table agrees with what is derived from it and what declares it.
#[cfg(test)]
mod table_tests {
    use super::vars::{self, Default, Kind, VARS};

    #[test]
    fn every_variable_is_in_the_table_once_with_a_valid_name_and_doc() {
        let mut seen = std::collections::HashSet::new();
        for v in VARS {
            assert!(seen.insert(v.name), "{} twice", v.name);
            assert!(v.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{}", v.name);
            assert!(!v.doc.is_empty() && !v.doc.contains('\n'), "{}", v.name);
            if let Default::Value(d) = v.default {
                assert!(!d.is_empty(), "{}: a default value is not empty (use Unset)", v.name);
            }
            assert!(vars::find(v.name).is_some());
        }
    }

    /// Every table default is itself a value the table accepts: loading with every default
    /// spelled out gives the same configuration as loading with none.
    #[test]
    fn table_defaults_load_as_unset_does() {
        let pin = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
        let mut spelled: Vec<(&str, &str)> = vec![(super::var::ALLOWED_THUMBPRINTS, pin)];
        for v in VARS {
            if let Default::Value(d) = v.default {
                spelled.push((v.name, d));
            }
        }
        let bare = super::Config::load(&[(super::var::ALLOWED_THUMBPRINTS, pin)]).unwrap();
        assert_eq!(super::Config::load(&spelled.as_slice()).unwrap(), bare);
        for v in VARS {
            if let (Kind::Number { min, max }, Default::Value(d)) = (v.kind, v.default) {
                let d: u64 = d.parse().unwrap();
                assert!(min <= d && d <= max, "{}", v.name);
            }
        }
    }

    /// `spin.toml` declares every variable as the table does, and maps each into the
    /// component under its own name.
    #[test]
    fn spin_toml_declares_the_table() {
        let manifest: toml::Table = include_str!("../../spin.toml").parse().unwrap();
        let declared = manifest["variables"].as_table().unwrap();
        let component = manifest["component"]["certgate"]["variables"].as_table().unwrap();
        assert_eq!(declared.len(), VARS.len(), "spin.toml declares exactly the table's variables");
        assert_eq!(component.len(), VARS.len());
        for v in VARS {
            let d = declared.get(v.name).unwrap_or_else(|| panic!("spin.toml does not declare {}", v.name));
            assert_eq!(d.get("default").and_then(|x| x.as_str()), Some(v.default.declared()), "{}", v.name);
            assert_eq!(d.get("required"), None, "{}: no variable is required on its own", v.name);
            assert_eq!(d.get("secret").and_then(|x| x.as_bool()).unwrap_or(false), v.secret, "{}", v.name);
            let template = format!("{{{{ {} }}}}", v.name);
            assert_eq!(component.get(v.name).and_then(|x| x.as_str()), Some(template.as_str()), "{}", v.name);
        }
    }

    /// The reference table in `docs/configuration.md` is the table's rendering
    /// (`CERTGATE_BLESS=1 cargo test -p certgate --lib reference_table` rewrites it).
    #[test]
    fn docs_reference_table_is_rendered_from_the_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md");
        let text = std::fs::read_to_string(path).unwrap();
        let (begin, end) = ("<!-- vars:begin -->\n", "<!-- vars:end -->");
        let start = text.find(begin).expect("docs/configuration.md has <!-- vars:begin -->") + begin.len();
        let stop = text.find(end).expect("docs/configuration.md has <!-- vars:end -->");
        let rendered = vars::reference_table();
        if std::env::var_os("CERTGATE_BLESS").is_some() {
            std::fs::write(path, format!("{}{rendered}{}", &text[..start], &text[stop..])).unwrap();
            return;
        }
        assert_eq!(
            &text[start..stop],
            rendered,
            "docs/configuration.md's table differs from VARS (CERTGATE_BLESS=1 rewrites it)"
        );
    }

    /// The loader takes these variables' defaults from the table alone: each must have one.
    #[test]
    fn variables_read_without_a_fallback_have_table_defaults() {
        for name in [
            super::var::CLOCK_SKEW_SECONDS,
            super::var::MAX_HEADER_BYTES,
            super::var::MAX_CHAIN_CERTIFICATES,
            super::var::PROXY_SECRET_HEADER,
            super::var::PROXY_SIGNATURE_HEADER,
            super::var::PROXY_SIGNATURE_MAX_AGE_SECONDS,
            super::var::PIN_EXPIRY_WARNING_DAYS,
            super::var::CRL_WHEN_STALE,
            super::var::MODE,
            super::var::XFCC_ELEMENTS,
            super::var::REQUIRE_CLIENT_AUTH_EKU,
        ] {
            assert!(matches!(vars::find(name).map(|v| v.default), Some(Default::Value(_))), "{name}");
        }
    }

    #[test]
    fn spin_declarations_render_the_table() {
        let (app, component) = vars::spin_declarations(&["clock_skew_seconds", "proxy_secret"]);
        assert_eq!(
            app,
            "clock_skew_seconds = { default = \"60\" }\nproxy_secret = { default = \"\", secret = true }\n"
        );
        assert_eq!(
            component,
            "clock_skew_seconds = \"{{ clock_skew_seconds }}\"\nproxy_secret = \"{{ proxy_secret }}\"\n"
        );
        let (all, _) = vars::spin_declarations(&[]);
        assert_eq!(all.lines().count(), VARS.len());
    }
}
