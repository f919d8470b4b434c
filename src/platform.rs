//! Presets: which header each terminator writes the certificate into, and in which format.

use crate::extract::Format;

/// What a preset sets. Explicit `certificate_header` / `certificate_format` variables win.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    pub name: &'static str,
    pub header: &'static str,
    pub format: Format,
    /// A separate header carrying the rest of the chain, when the platform has one.
    pub chain_header: Option<&'static str>,
}

const fn preset(name: &'static str, header: &'static str, format: Format) -> Preset {
    Preset { name, header, format, chain_header: None }
}

/// Every preset, in the order the README documents them.
pub const PRESETS: &[Preset] = &[
    preset("azure-app-service", "X-ARR-ClientCert", Format::Base64Der),
    preset("aspnetcore", "X-Client-Cert", Format::Base64Der),
    preset("azure-app-gateway", "X-Client-Cert", Format::UrlPem),
    preset("aws-alb", "X-Amzn-Mtls-Clientcert-Leaf", Format::UrlPem),
    preset("aws-alb-passthrough", "X-Amzn-Mtls-Clientcert", Format::UrlPem),
    preset("cloudfront", "CloudFront-Viewer-Cert-Pem", Format::UrlPem),
    preset("envoy", "X-Forwarded-Client-Cert", Format::Xfcc),
    preset("istio", "X-Forwarded-Client-Cert", Format::Xfcc),
    preset("nginx", "X-SSL-Client-Cert", Format::UrlPem),
    preset("ingress-nginx", "ssl-client-cert", Format::UrlPem),
    preset("traefik", "X-Forwarded-Tls-Client-Cert", Format::Base64Der),
    preset("haproxy", "X-SSL-Client-Cert", Format::Base64Der),
    preset("caddy", "X-Client-Cert", Format::Base64Der),
    preset("apache", "X-SSL-Client-Cert", Format::Pem),
    preset("cloudflare", "Cf-Client-Cert-Der-Base64", Format::Base64Der),
    preset("gcp", "X-Client-Cert", Format::Rfc9440),
    preset("akamai", "AKAMAI-CC-DER", Format::Rfc9440),
    preset("kong", "X-Client-Cert", Format::UrlPem),
    Preset { name: "rfc9440", header: "Client-Cert", format: Format::Rfc9440, chain_header: Some("Client-Cert-Chain") },
];

/// Look a preset up by name (case-insensitive, surrounding white space ignored).
pub fn find(name: &str) -> Option<&'static Preset> {
    let name = name.trim();
    PRESETS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_preset_exists() {
        for name in [
            "azure-app-service",
            "aspnetcore",
            "azure-app-gateway",
            "aws-alb",
            "aws-alb-passthrough",
            "cloudfront",
            "envoy",
            "nginx",
            "ingress-nginx",
            "traefik",
            "haproxy",
            "caddy",
            "apache",
            "cloudflare",
            "gcp",
            "akamai",
            "kong",
            "rfc9440",
        ] {
            assert!(find(name).is_some(), "missing preset {name}");
        }
        assert_eq!(find(" Envoy ").unwrap().format, Format::Xfcc);
        assert_eq!(find("azure-app-service").unwrap().header, "X-ARR-ClientCert");
        assert!(find("nginxx").is_none());
    }

    #[test]
    fn names_are_unique() {
        for (i, a) in PRESETS.iter().enumerate() {
            assert!(PRESETS[i + 1..].iter().all(|b| b.name != a.name));
        }
    }
}
