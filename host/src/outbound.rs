//! `allowed_outbound_hosts`, as Spin reads it: which outgoing requests a component may
//! make. Spin refuses the others with `HttpRequestDenied`; so does this host.
//!
//! An entry is `scheme://host[:port]`: the scheme `http`, `https` or `*`; the host a name,
//! an address, `*` or `*.suffix`; the port a number, `*`, or absent for the scheme's
//! default. Spin's `self` and `*.spin.internal` (service chaining to another component of
//! the app) need Spin: this host serves one component and says so when they are used.

use anyhow::{bail, Context, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostPattern {
    Any,
    Exact(String),
    /// `*.example.com`: any name ending in `.example.com`.
    Suffix(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PortPattern {
    Any,
    Exact(u16),
    /// The scheme's default (80 for http, 443 for https).
    Default,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    /// `None` is `*`.
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

/// A component's outbound allow list. The default allows nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    rules: Vec<Rule>,
    /// Entries for Spin's own service chaining, which this host cannot serve.
    chaining: Vec<String>,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl AllowedHosts {
    /// Parse the entries of `allowed_outbound_hosts`.
    pub fn parse(entries: &[String]) -> Result<Self> {
        let mut allowed = AllowedHosts::default();
        for entry in entries {
            let (scheme, rest) = entry.split_once("://").with_context(|| format!("{entry:?} has no scheme://"))?;
            let scheme = scheme.to_ascii_lowercase();
            if !matches!(scheme.as_str(), "http" | "https" | "*") {
                // Spin also knows redis, postgres, mysql, mqtt...: not HTTP, nothing to do here.
                continue;
            }
            let rest = rest.trim_end_matches('/');
            if rest.contains('/') {
                bail!("{entry:?}: an allowed host has no path");
            }
            let (host, port) = match rest.rsplit_once(':') {
                Some((h, p)) if !p.contains(']') => (h, Some(p)),
                _ => (rest, None),
            };
            let host = host.to_ascii_lowercase();
            if host == "self" || host.ends_with(".spin.internal") {
                allowed.chaining.push(entry.clone());
                continue;
            }
            let host = match host.as_str() {
                "*" => HostPattern::Any,
                h if h.starts_with("*.") => HostPattern::Suffix(h[1..].to_string()),
                h if h.contains('*') => bail!("{entry:?}: `*` stands for a whole host or its leading labels"),
                h => HostPattern::Exact(h.to_string()),
            };
            let port = match port {
                None => PortPattern::Default,
                Some("*") => PortPattern::Any,
                Some(p) => PortPattern::Exact(p.parse().with_context(|| format!("{entry:?}: the port {p:?}"))?),
            };
            let scheme = (scheme != "*").then_some(scheme);
            allowed.rules.push(Rule { scheme, host, port });
        }
        Ok(allowed)
    }

    /// The `allowed_outbound_hosts` of `[component.<component>]` in a `spin.toml` (none
    /// when the key is absent).
    pub fn from_manifest_text(text: &str, component: &str) -> Result<Self> {
        let doc: toml::Table = text.parse().context("spin.toml is not valid TOML")?;
        let entries = doc
            .get("component")
            .and_then(|c| c.get(component))
            .and_then(|c| c.get("allowed_outbound_hosts"))
            .and_then(|h| h.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect::<Vec<_>>())
            .unwrap_or_default();
        Self::parse(&entries)
    }

    /// Whether a request to `scheme://host:port` is allowed (`port` absent: the default).
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let scheme = scheme.to_ascii_lowercase();
        let host = host.to_ascii_lowercase();
        let Some(port) = port.or_else(|| default_port(&scheme)) else { return false };
        self.rules.iter().any(|rule| {
            rule.scheme.as_deref().is_none_or(|s| s == scheme)
                && match &rule.host {
                    HostPattern::Any => true,
                    HostPattern::Exact(h) => *h == host,
                    HostPattern::Suffix(s) => host.ends_with(s.as_str()) && host.len() > s.len(),
                }
                && match rule.port {
                    PortPattern::Any => true,
                    PortPattern::Exact(p) => p == port,
                    PortPattern::Default => rule.scheme.as_deref().and_then(default_port).map_or(
                        // `*://host`: the default port of the request's own scheme.
                        default_port(&scheme) == Some(port),
                        |d| d == port,
                    ),
                }
        })
    }

    /// Whether an entry asks for Spin's service chaining (`self`, `*.spin.internal`).
    pub fn wants_service_chaining(&self) -> bool {
        !self.chaining.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(entries: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn entries_match_as_spin_reads_them() {
        let a = allowed(&["http://127.0.0.1:8081", "https://api.example", "*://*.internal.example:*"]);
        assert!(a.allows("http", "127.0.0.1", Some(8081)));
        assert!(!a.allows("http", "127.0.0.1", Some(8082)));
        assert!(!a.allows("https", "127.0.0.1", Some(8081)));
        assert!(a.allows("https", "API.example", None));
        assert!(a.allows("https", "api.example", Some(443)));
        assert!(!a.allows("https", "api.example", Some(8443)));
        assert!(!a.allows("http", "api.example", None));
        assert!(a.allows("http", "a.internal.example", Some(9)));
        assert!(!a.allows("http", "internal.example", Some(9)));
        assert!(!a.allows("http", "evilinternal.example", Some(9)));
        assert!(!AllowedHosts::default().allows("http", "127.0.0.1", Some(80)));
        let chained = allowed(&["http://self", "http://app.spin.internal", "redis://r:6379"]);
        assert!(chained.wants_service_chaining());
        assert!(!chained.allows("http", "app.spin.internal", None));
        assert!(AllowedHosts::parse(&["127.0.0.1:80".to_string()]).is_err());
        assert!(AllowedHosts::parse(&["http://a.example/x".to_string()]).is_err());
        assert!(AllowedHosts::parse(&["http://a*.example".to_string()]).is_err());
        let manifest = "[component.certgate]\nallowed_outbound_hosts = [\"http://127.0.0.1:9\"]\n";
        assert!(AllowedHosts::from_manifest_text(manifest, "certgate").unwrap().allows("http", "127.0.0.1", Some(9)));
        assert_eq!(AllowedHosts::from_manifest_text(manifest, "other").unwrap(), AllowedHosts::default());
    }
}
