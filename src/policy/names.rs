//! Name rules: allow by subject CN, DNS SAN, email SAN, URI SAN and SPIFFE ID.
//!
//! Syntax, one rule per entry (`,` `;` or line breaks): `cn:alice`, `dns:api.example.com`,
//! `dns:*.example.com` (exactly one label), `email:ops@example.com`, `uri:https://x/y`,
//! `uri:https://x/*` (prefix), `spiffe://prod.example/ns/payments/sa/api` (exact),
//! `spiffe://prod.example/ns/payments/*` (path prefix, on a segment boundary),
//! `spiffe://prod.example/*` (anything in the trust domain). A certificate passes when any
//! rule matches.

use crate::certificate::ClientCertificate;
use crate::thumbprint::split_entries;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameRule {
    CommonName(String),
    Dns(String),
    DnsWildcard(String),
    Email(String),
    Uri(String),
    UriPrefix(String),
    Spiffe { trust_domain: String, path: SpiffePath },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpiffePath {
    Any,
    Exact(String),
    /// Matches the path itself and anything below it.
    Prefix(String),
}

/// A SPIFFE ID `spiffe://trust-domain/path`, validated per the SPIFFE ID spec.
fn parse_spiffe(id: &str) -> Option<(String, String)> {
    let rest = id.strip_prefix("spiffe://")?;
    let (domain, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let domain_ok = !domain.is_empty()
        && domain.len() <= 255
        && domain.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b));
    let path_ok = path.is_empty()
        || (path.split('/').skip(1).all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        }) && !path.ends_with('/'));
    (domain_ok && path_ok).then(|| (domain.to_string(), path.to_string()))
}

pub(crate) fn parse_rule(raw: &str) -> Result<NameRule, &'static str> {
    let raw = raw.trim();
    if let Some(rest) = raw.strip_prefix("spiffe://") {
        let (domain_and_path, wildcard) = match rest.strip_suffix("/*") {
            Some(p) => (p, true),
            None => (rest, false),
        };
        let (trust_domain, path) =
            parse_spiffe(&format!("spiffe://{domain_and_path}")).ok_or("not a valid SPIFFE ID")?;
        let path = match (wildcard, path.is_empty()) {
            (true, true) => SpiffePath::Any,
            (true, false) => SpiffePath::Prefix(path),
            (false, true) => return Err("a SPIFFE rule needs a path, or `/*` for the whole trust domain"),
            (false, false) => SpiffePath::Exact(path),
        };
        return Ok(NameRule::Spiffe { trust_domain, path });
    }
    let (kind, value) = raw.split_once(':').ok_or("expected cn:, dns:, email:, uri: or spiffe://")?;
    let value = value.trim();
    if value.is_empty() || value.chars().any(char::is_control) {
        return Err("empty or invalid value");
    }
    match kind.trim().to_ascii_lowercase().as_str() {
        "cn" => Ok(NameRule::CommonName(value.to_string())),
        "dns" => match value.strip_prefix("*.") {
            Some(base) if !base.is_empty() && !base.contains('*') => {
                Ok(NameRule::DnsWildcard(base.to_ascii_lowercase()))
            }
            Some(_) => Err("a DNS wildcard is `*.` followed by a domain"),
            None if value.contains('*') => Err("`*` is only allowed as the whole first label"),
            None => Ok(NameRule::Dns(value.trim_end_matches('.').to_ascii_lowercase())),
        },
        "email" if value.contains('@') => Ok(NameRule::Email(value.to_ascii_lowercase())),
        "email" => Err("an email rule needs an address"),
        "uri" => match value.strip_suffix('*') {
            Some(prefix) if !prefix.is_empty() => Ok(NameRule::UriPrefix(prefix.to_string())),
            Some(_) => Err("a URI prefix rule needs a prefix"),
            None => Ok(NameRule::Uri(value.to_string())),
        },
        _ => Err("expected cn:, dns:, email:, uri: or spiffe://"),
    }
}

/// Parse `allowed_names`: a list (split on `,` `;` and line breaks) of `cn:`, `dns:`, `email:`, `uri:` and
/// `spiffe://` rules; the error names the (1-based) entry.
pub fn parse_rules(raw: &str) -> Result<Vec<NameRule>, String> {
    split_entries(raw).map(|(i, piece)| parse_rule(piece).map_err(|p| format!("entry {i}: {p}"))).collect()
}

impl NameRule {
    pub fn matches(&self, c: &ClientCertificate) -> bool {
        match self {
            // A subject with several CNs names several things: no `cn:` rule picks one.
            NameRule::CommonName(cn) => matches!(c.common_names.as_slice(), [only] if only == cn),
            NameRule::Dns(d) => c.dns_names.iter().any(|n| n.trim_end_matches('.').eq_ignore_ascii_case(d)),
            NameRule::DnsWildcard(base) => c.dns_names.iter().any(|n| {
                let n = n.trim_end_matches('.').to_ascii_lowercase();
                n.split_once('.').is_some_and(|(first, rest)| !first.is_empty() && first != "*" && rest == base)
            }),
            NameRule::Email(e) => c.emails.iter().any(|n| n.eq_ignore_ascii_case(e)),
            NameRule::Uri(u) => c.uris.iter().any(|n| n == u),
            NameRule::UriPrefix(p) => c.uris.iter().any(|n| n.starts_with(p.as_str())),
            NameRule::Spiffe { trust_domain, path } => {
                // A SPIFFE SVID carries exactly one SPIFFE ID.
                let ids: Vec<_> = c.uris.iter().filter(|u| u.starts_with("spiffe://")).collect();
                let [id] = ids.as_slice() else { return false };
                let Some((domain, id_path)) = parse_spiffe(id) else {
                    return false;
                };
                domain == *trust_domain
                    && match path {
                        SpiffePath::Any => true,
                        SpiffePath::Exact(p) => id_path == *p,
                        SpiffePath::Prefix(p) => id_path == *p || id_path.starts_with(&format!("{p}/")),
                    }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(cn: &str, dns: &[&str], uris: &[&str], emails: &[&str]) -> ClientCertificate {
        ClientCertificate {
            dns_names: dns.iter().map(|s| s.to_string()).collect(),
            uris: uris.iter().map(|s| s.to_string()).collect(),
            emails: emails.iter().map(|s| s.to_string()).collect(),
            ..ClientCertificate::for_tests(cn)
        }
    }

    fn allowed(rules: &str, c: &ClientCertificate) -> bool {
        parse_rules(rules).unwrap().iter().any(|r| r.matches(c))
    }

    #[test]
    fn spiffe_rules() {
        let pay = cert("x", &[], &["spiffe://prod.example/ns/payments/sa/api"], &[]);
        assert!(allowed("spiffe://prod.example/ns/payments/*", &pay));
        assert!(allowed("spiffe://prod.example/*", &pay));
        assert!(allowed("spiffe://prod.example/ns/payments/sa/api", &pay));
        assert!(!allowed("spiffe://prod.example/ns/pay/*", &pay), "prefix is per segment");
        assert!(!allowed("spiffe://staging.example/*", &pay));
        assert!(!allowed("spiffe://prod.example/ns/payments/sa/api2", &pay));
        let two = cert("x", &[], &["spiffe://prod.example/a", "spiffe://prod.example/b"], &[]);
        assert!(!allowed("spiffe://prod.example/*", &two), "two SPIFFE IDs is not an SVID");
        for bad in [
            "spiffe://",
            "spiffe://Prod.example/x",
            "spiffe://prod.example/../x",
            "spiffe://prod.example",
            "spiffe://p/x/",
        ] {
            assert!(parse_rule(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn other_rules() {
        let c = cert("alice", &["api.example.com"], &["https://id.example/u/1"], &["Alice@Example.com"]);
        assert!(allowed("cn:alice", &c));
        assert!(!allowed("cn:Alice", &c));
        assert!(allowed("dns:API.example.com", &c));
        assert!(allowed("dns:*.example.com", &c));
        assert!(!allowed("dns:*.com", &c), "a wildcard covers one label");
        assert!(allowed("email:alice@example.com", &c));
        assert!(allowed("uri:https://id.example/u/*", &c));
        assert!(!allowed("uri:https://id.example/u/2", &c));
        assert!(allowed("cn:bob; dns:api.example.com", &c));
        // Two CNs (one of them the rule's) match no `cn:` rule.
        let two = ClientCertificate { common_names: vec!["mallory".into(), "alice".into()], ..c.clone() };
        assert!(!allowed("cn:alice", &two) && !allowed("cn:mallory", &two));
        // Each refusal says what is wrong (the operator reads it in the configuration error).
        for (bad, why) in [
            ("alice", "expected cn:, dns:, email:, uri: or spiffe://"),
            ("cn:", "empty or invalid value"),
            ("dns:a.*.com", "`*` is only allowed as the whole first label"),
            ("dns:*.", "a DNS wildcard is `*.` followed by a domain"),
            ("email:nope", "an email rule needs an address"),
            ("ip:1.2.3.4", "expected cn:, dns:, email:, uri: or spiffe://"),
            ("uri:*", "a URI prefix rule needs a prefix"),
        ] {
            assert_eq!(parse_rule(bad), Err(why), "{bad}");
        }
    }
}
