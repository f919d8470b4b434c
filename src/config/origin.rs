//! `upstream`: the origin a gateway forwards allowed requests to.

/// Where `service = gateway` sends allowed requests: a scheme, an authority and a base path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamOrigin {
    /// `https` (otherwise `http`).
    pub https: bool,
    /// `host[:port]`, as configured (a name in lower case, an IPv4 address or `[IPv6]`).
    pub authority: String,
    /// Empty, or `/` and segments without a trailing `/`: every request path is appended.
    pub base_path: String,
}

impl UpstreamOrigin {
    /// The scheme's name.
    pub fn scheme(&self) -> &'static str {
        if self.https {
            "https"
        } else {
            "http"
        }
    }

    /// The host, without the port (for `allowed_outbound_hosts` advice and logs).
    pub fn host(&self) -> &str {
        match self.authority.rfind(':') {
            Some(i) if !self.authority[i..].contains(']') => &self.authority[..i],
            _ => &self.authority,
        }
    }
}

/// Why an `upstream` value is refused (the explanation quotes nothing of the value).
pub(crate) fn parse(raw: &str) -> Result<UpstreamOrigin, String> {
    let lower_scheme = raw.chars().take(8).collect::<String>().to_ascii_lowercase();
    let (https, rest) = if lower_scheme.starts_with("https://") {
        (true, &raw[8..])
    } else if lower_scheme.starts_with("http://") {
        (false, &raw[7..])
    } else {
        return Err("must start with http:// or https://".into());
    };
    if let Some(bad) = rest.chars().find(|c| c.is_ascii_whitespace() || c.is_control() || !c.is_ascii()) {
        let what = if bad.is_ascii() {
            "white space or control characters"
        } else {
            "non-ASCII characters (use the IDNA form)"
        };
        return Err(format!("must not contain {what}"));
    }
    if rest.contains(['?', '#']) {
        return Err("must not have a query or fragment".into());
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err("must not carry a user name or password".into());
    }
    let (host, port) = split_port(authority)?;
    if let Some(port) = port {
        match port.parse::<u16>() {
            Ok(p) if p > 0 && port.bytes().all(|b| b.is_ascii_digit()) && !port.starts_with('0') => {}
            _ => return Err("has a port that is not 1 to 65535".into()),
        }
    }
    // A host whose last label is numeric is an IPv4 address and must be written as one:
    // `127.1`, `2130706433` or `0x7f.1` resolve to loopback under most resolvers.
    let hex =
        |l: &str| l.len() > 2 && l[..2].eq_ignore_ascii_case("0x") && l[2..].bytes().all(|b| b.is_ascii_hexdigit());
    let digits = |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit());
    let numeric =
        host.rsplit('.').next().is_some_and(|l| digits(l) || hex(l)) || host.split('.').all(|l| digits(l) || hex(l));
    let host_ok = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        inner.parse::<std::net::Ipv6Addr>().is_ok()
    } else if numeric {
        host.parse::<std::net::Ipv4Addr>().is_ok()
    } else {
        !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            })
    };
    if !host_ok {
        return Err("has no valid host (a DNS name, an IPv4 address or a bracketed IPv6 address)".into());
    }
    if path.split('/').any(|segment| segment == "." || segment == "..") || path.contains("//") {
        return Err("has a base path with empty, `.` or `..` segments".into());
    }
    if path.contains('%') {
        return Err("has a percent-encoded base path (write it plain)".into());
    }
    if !path.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,=:@".contains(&b)) {
        return Err(
            "has a base path with characters other than letters, digits and -._~!$&'()*+,=:@ (no ; or \\)".into()
        );
    }
    Ok(UpstreamOrigin {
        https,
        authority: authority.to_ascii_lowercase(),
        base_path: path.trim_end_matches('/').to_string(),
    })
}

/// `host` and `port` of an authority (`[v6]:port`, `name:port`, or either without a port).
fn split_port(authority: &str) -> Result<(&str, Option<&str>), String> {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) if end + 1 == authority.len() => Ok((authority, None)),
            Some(end) if authority.as_bytes()[end + 1] == b':' => Ok((&authority[..=end], Some(&authority[end + 2..]))),
            _ => Err("has no valid host (a DNS name, an IPv4 address or a bracketed IPv6 address)".into()),
        };
    }
    match authority.split_once(':') {
        Some((host, port)) => Ok((host, Some(port))),
        None => Ok((authority, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> (bool, String, String) {
        let o = parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        (o.https, o.authority, o.base_path)
    }

    #[test]
    fn origins_and_base_paths() {
        assert_eq!(ok("https://api.internal.example"), (true, "api.internal.example".into(), "".into()));
        assert_eq!(ok("HTTP://App.Spin.Internal/"), (false, "app.spin.internal".into(), "".into()));
        assert_eq!(ok("http://127.0.0.1:8081/base/v1/"), (false, "127.0.0.1:8081".into(), "/base/v1".into()));
        assert_eq!(ok("http://[::1]:9000"), (false, "[::1]:9000".into(), "".into()));
        assert_eq!(ok("http://10.0.0.7:80"), (false, "10.0.0.7:80".into(), "".into()));
        assert_eq!(ok("https://0xcafe.example"), (true, "0xcafe.example".into(), "".into()));
        assert_eq!(ok("http://api2.example.com/v1.2/x"), (false, "api2.example.com".into(), "/v1.2/x".into()));
        assert_eq!(parse("http://[::1]:9000").unwrap().host(), "[::1]");
        assert_eq!(parse("http://a.example:80/x").unwrap().host(), "a.example");
        assert_eq!(parse("https://a.example").unwrap().scheme(), "https");
    }

    #[test]
    fn refusals_name_the_problem_not_the_value() {
        for (raw, problem) in [
            ("api.example", "http:// or https://"),
            ("ftp://api.example", "http:// or https://"),
            ("https://", "no valid host"),
            ("http://", "no valid host"),
            ("https://user:pw@api.example", "user name"),
            ("https://api.example/?x=1", "query"),
            ("https://api.example#f", "query or fragment"),
            ("https://api.example:0", "port"),
            ("https://api.example:65536", "port"),
            ("https://api.example:+80", "port"),
            ("https://api.example:", "port"),
            ("https://api..example", "no valid host"),
            ("https://-api.example", "no valid host"),
            ("https://api_x.example", "no valid host"),
            ("https://[::1", "no valid host"),
            ("https://[zz]:1", "no valid host"),
            ("https://api.example/a/../b", "segments"),
            ("https://api.example/a//b", "segments"),
            ("https://api.example/a%2fb", "percent"),
            ("https://api.example /x", "white space"),
            ("https://api.example/\u{e9}", "non-ASCII"),
            ("http://127.1", "no valid host"),
            ("http://2130706433:8081", "no valid host"),
            ("http://0x7f.1", "no valid host"),
            ("http://a.0x10", "no valid host"),
            ("https://api.example/v1\\..\\admin", "no ; or"),
            ("https://api.example/v1;..", "no ; or"),
            ("https://api.example:0080", "port"),
        ] {
            let e = parse(raw).expect_err(raw);
            assert!(e.contains(problem), "{raw}: {e}");
            assert!(!e.contains("api"), "{raw}: the explanation quotes the value: {e}");
        }
    }
}
