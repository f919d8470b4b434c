//! Presets: which header each terminator writes the certificate into, in which format, and
//! what else it can send about it. Each preset names the source it was checked against.

use crate::extract::Format;

/// A header in which the terminator says it dropped the certificate because it was too
/// large: any of `values` (case-insensitive, among the comma-separated tokens) means so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLargeFlag {
    /// Lowercase header name.
    pub header: &'static str,
    /// The tokens that mean "left out", compared ASCII case-insensitively.
    pub values: &'static [&'static str],
}

/// What a preset sets. Explicit variables win over every field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    /// The preset's name, as the `platform` variable spells it.
    pub name: &'static str,
    /// The header the terminator writes the leaf certificate into.
    pub header: &'static str,
    /// How the terminator encodes the certificate in that header.
    pub format: Format,
    /// A separate header carrying the rest of the chain, when the platform has one.
    pub chain_header: Option<&'static str>,
    /// Where the platform says a certificate was too large to forward.
    pub too_large: Option<TooLargeFlag>,
    /// The documentation or source code the header and format were checked against.
    pub source: &'static str,
}

const fn preset(name: &'static str, header: &'static str, format: Format, source: &'static str) -> Preset {
    Preset { name, header, format, chain_header: None, too_large: None, source }
}

const fn with_chain(mut p: Preset, chain_header: &'static str) -> Preset {
    p.chain_header = Some(chain_header);
    p
}

const fn with_too_large(mut p: Preset, header: &'static str, values: &'static [&'static str]) -> Preset {
    p.too_large = Some(TooLargeFlag { header, values });
    p
}

/// Every preset, in the order the README documents them.
pub const PRESETS: &[Preset] = &[
    preset(
        "azure-app-service",
        "X-ARR-ClientCert",
        Format::Base64Der,
        "Azure App Service, \"Configure TLS mutual authentication\"",
    ),
    preset(
        "aspnetcore",
        "X-Client-Cert",
        Format::Base64Der,
        "ASP.NET Core CertificateForwardingOptions.cs (Convert.FromBase64String)",
    ),
    preset(
        "aspnetcore-sample",
        "X-ARR-ClientCert",
        Format::HexDer,
        "AspNetCore.Docs certauth.md sample client (GetRawCertDataString) and server (StringToByteArray)",
    ),
    preset(
        "azure-app-gateway",
        "X-Client-Cert",
        Format::UrlPem,
        "Azure Application Gateway, \"Rewrite HTTP headers\" ({var_client_certificate})",
    ),
    preset(
        "aws-alb",
        "X-Amzn-Mtls-Clientcert-Leaf",
        Format::UrlPem,
        "AWS ALB, \"Mutual authentication with TLS\"; renamed by listener attribute \
         routing.http.request.x_amzn_mtls_clientcert_leaf.header_name",
    ),
    preset(
        "aws-alb-passthrough",
        "X-Amzn-Mtls-Clientcert",
        Format::UrlPem,
        "AWS ALB, \"Mutual authentication with TLS\" (passthrough); renamed by \
         routing.http.request.x_amzn_mtls_clientcert.header_name",
    ),
    preset(
        "cloudfront",
        "CloudFront-Viewer-Cert-Pem",
        Format::UrlPem,
        "Amazon CloudFront, \"Viewer mTLS headers for cache policies and forwarded to origin\"",
    ),
    with_chain(
        preset(
            "cloudfront-passthrough",
            "Client-Cert",
            Format::Rfc9440,
            "Amazon CloudFront passthrough mode (May 2026), \"Helper methods for mutual TLS\"",
        ),
        "Client-Cert-Chain",
    ),
    preset(
        "envoy",
        "X-Forwarded-Client-Cert",
        Format::Xfcc,
        "Envoy headers.rst, x-forwarded-client-cert (text and, from 1.38, JSON)",
    ),
    preset(
        "envoy-json",
        "X-Forwarded-Client-Cert",
        Format::XfccJson,
        "Envoy 1.38 headers.rst \"JSON format\"; SetCurrentClientCertDetails.format = JSON (envoyproxy/envoy#43855)",
    ),
    with_chain(
        preset(
            "envoy-client-cert",
            "Client-Cert",
            Format::Rfc9440,
            "Envoy contrib envoy.filters.http.client_cert, client_cert_filter.cc (envoyproxy/envoy#47329)",
        ),
        "Client-Cert-Chain",
    ),
    preset("istio", "X-Forwarded-Client-Cert", Format::Xfcc, "Istio gateway, forwardClientCertDetails (Envoy's XFCC)"),
    preset("nginx", "X-SSL-Client-Cert", Format::UrlPem, "nginx ngx_http_ssl_module, $ssl_client_escaped_cert"),
    preset(
        "ingress-nginx",
        "ssl-client-cert",
        Format::UrlPem,
        "ingress-nginx nginx.tmpl, auth-tls-pass-certificate-to-upstream",
    ),
    preset(
        "traefik",
        "X-Forwarded-Tls-Client-Cert",
        Format::Base64Der,
        "Traefik pkg/middlewares/passtlsclientcert/pass_tls_client_cert.go",
    ),
    preset("haproxy", "X-SSL-Client-Cert", Format::Base64Der, "HAProxy configuration manual, ssl_c_der,base64"),
    preset(
        "caddy",
        "X-Client-Cert",
        Format::Base64Der,
        "Caddy modules/caddyhttp/replacer.go, http.request.tls.client.certificate_der_base64",
    ),
    preset("apache", "X-SSL-Client-Cert", Format::Pem, "Apache httpd mod_ssl SSL_CLIENT_CERT, mod_headers.c"),
    preset(
        "cloudflare",
        "Cf-Client-Cert-Der-Base64",
        Format::Base64Der,
        "Cloudflare, \"Forward a client certificate\" (legacy headers)",
    ),
    with_too_large(
        with_chain(
            preset(
                "cloudflare-rfc9440",
                "Client-Cert",
                Format::Rfc9440,
                "Cloudflare, \"Forward certificate to server\" (2026): cf.tls_client_auth.cert_rfc9440, \
                 cert_chain_rfc9440, *_too_large",
            ),
            "Client-Cert-Chain",
        ),
        "Client-Cert-Too-Large",
        &["true"],
    ),
    with_too_large(
        with_chain(
            preset(
                "gcp",
                "X-Client-Cert",
                Format::Rfc9440,
                "Google Cloud load balancing, \"Create custom headers\", mTLS variables {client_cert_leaf}, \
                 {client_cert_chain}, {client_cert_error}",
            ),
            "X-Client-Cert-Chain",
        ),
        "X-Client-Cert-Error",
        &["client_cert_validated_leaf_exceeded_size_limit", "client_cert_validated_chain_exceeded_size_limit"],
    ),
    preset(
        "akamai",
        "Akamai-CC-DER",
        Format::Rfc9440,
        "Akamai techdocs, mTLS edge certificate headers (Akamai-CC-DER)",
    ),
    preset("kong", "X-Client-Cert", Format::UrlPem, "Kong tls-metadata-headers plugin"),
    with_chain(preset("rfc9440", "Client-Cert", Format::Rfc9440, "RFC 9440"), "Client-Cert-Chain"),
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
            "aspnetcore-sample",
            "azure-app-gateway",
            "aws-alb",
            "aws-alb-passthrough",
            "cloudfront",
            "cloudfront-passthrough",
            "envoy",
            "envoy-json",
            "envoy-client-cert",
            "nginx",
            "ingress-nginx",
            "traefik",
            "haproxy",
            "caddy",
            "apache",
            "cloudflare",
            "cloudflare-rfc9440",
            "gcp",
            "akamai",
            "kong",
            "rfc9440",
        ] {
            assert!(find(name).is_some(), "missing preset {name}");
        }
        assert_eq!(find(" Envoy ").unwrap().format, Format::Xfcc);
        assert_eq!(find("azure-app-service").unwrap().header, "X-ARR-ClientCert");
        assert_eq!(find("aspnetcore-sample").unwrap().format, Format::HexDer);
        assert!(find("nginxx").is_none());
    }

    #[test]
    fn names_are_unique_and_every_preset_has_a_source() {
        for (i, a) in PRESETS.iter().enumerate() {
            assert!(PRESETS[i + 1..].iter().all(|b| b.name != a.name));
            assert!(!a.source.is_empty(), "{}", a.name);
            assert!(crate::extract::parse_header_name(a.header).is_some(), "{}", a.name);
            assert!(a.chain_header.is_none_or(|h| crate::extract::parse_header_name(h).is_some()));
            assert!(a.too_large.is_none_or(|f| !f.values.is_empty()));
        }
    }
}
