//! The one table of configuration variables. Loading ([`super::Config::load`]), the
//! `spin.toml` declarations, the reference table in `docs/configuration.md` and the local
//! host's defaults are all derived from or checked against [`VARS`] (see the tests).
//!
//! Reading costs depend on the host: on Spin every *declared* variable is resolved through
//! its providers on each lookup, while an undeclared one is answered "unset" at once. So a
//! deployment declares only the variables it sets; certgate reads each variable at most
//! once per configuration load, and a variable it does not need is simply unset.

/// Variable names, as declared in `spin.toml`.
pub mod var {
    /// `allowed_thumbprints`: see [`VARS`](super::VARS).
    pub const ALLOWED_THUMBPRINTS: &str = "allowed_thumbprints";
    /// `platform`: see [`VARS`](super::VARS).
    pub const PLATFORM: &str = "platform";
    /// `certificate_header`: see [`VARS`](super::VARS).
    pub const CERTIFICATE_HEADER: &str = "certificate_header";
    /// `certificate_chain_header`: see [`VARS`](super::VARS).
    pub const CERTIFICATE_CHAIN_HEADER: &str = "certificate_chain_header";
    /// `certificate_format`: see [`VARS`](super::VARS).
    pub const CERTIFICATE_FORMAT: &str = "certificate_format";
    /// `xfcc_elements`: see [`VARS`](super::VARS).
    pub const XFCC_ELEMENTS: &str = "xfcc_elements";
    /// `clock_skew_seconds`: see [`VARS`](super::VARS).
    pub const CLOCK_SKEW_SECONDS: &str = "clock_skew_seconds";
    /// `config_refresh_seconds`: see [`VARS`](super::VARS).
    pub const CONFIG_REFRESH_SECONDS: &str = "config_refresh_seconds";
    /// `max_header_bytes`: see [`VARS`](super::VARS).
    pub const MAX_HEADER_BYTES: &str = "max_header_bytes";
    /// `max_chain_certificates`: see [`VARS`](super::VARS).
    pub const MAX_CHAIN_CERTIFICATES: &str = "max_chain_certificates";
    /// `certificate_too_large_header`: see [`VARS`](super::VARS).
    pub const CERTIFICATE_TOO_LARGE_HEADER: &str = "certificate_too_large_header";
    /// `certificate_too_large_values`: see [`VARS`](super::VARS).
    pub const CERTIFICATE_TOO_LARGE_VALUES: &str = "certificate_too_large_values";
    /// `certificate_digest_header`: see [`VARS`](super::VARS).
    pub const CERTIFICATE_DIGEST_HEADER: &str = "certificate_digest_header";
    /// `allowed_key_pins`: see [`VARS`](super::VARS).
    pub const ALLOWED_KEY_PINS: &str = "allowed_key_pins";
    /// `pins`: see [`VARS`](super::VARS).
    pub const PINS: &str = "pins";
    /// `keyvalue_store`: see [`VARS`](super::VARS).
    pub const KEYVALUE_STORE: &str = "keyvalue_store";
    /// `chain_cache_seconds`: see [`VARS`](super::VARS).
    pub const CHAIN_CACHE_SECONDS: &str = "chain_cache_seconds";
    /// `trust_anchors`: see [`VARS`](super::VARS).
    pub const TRUST_ANCHORS: &str = "trust_anchors";
    /// `intermediates`: see [`VARS`](super::VARS).
    pub const INTERMEDIATES: &str = "intermediates";
    /// `require_client_auth_eku`: see [`VARS`](super::VARS).
    pub const REQUIRE_CLIENT_AUTH_EKU: &str = "require_client_auth_eku";
    /// `allowed_names`: see [`VARS`](super::VARS).
    pub const ALLOWED_NAMES: &str = "allowed_names";
    /// `revoked`: see [`VARS`](super::VARS).
    pub const REVOKED: &str = "revoked";
    /// `crls`: see [`VARS`](super::VARS).
    pub const CRLS: &str = "crls";
    /// `crl_when_stale`: see [`VARS`](super::VARS).
    pub const CRL_WHEN_STALE: &str = "crl_when_stale";
    /// `mode`: see [`VARS`](super::VARS).
    pub const MODE: &str = "mode";
    /// `service`: see [`VARS`](super::VARS).
    pub const SERVICE: &str = "service";
    /// `upstream`: see [`VARS`](super::VARS).
    pub const UPSTREAM: &str = "upstream";
    /// `upstream_connect_timeout_seconds`: see [`VARS`](super::VARS).
    pub const UPSTREAM_CONNECT_TIMEOUT_SECONDS: &str = "upstream_connect_timeout_seconds";
    /// `upstream_timeout_seconds`: see [`VARS`](super::VARS).
    pub const UPSTREAM_TIMEOUT_SECONDS: &str = "upstream_timeout_seconds";
    /// `max_request_body_bytes`: see [`VARS`](super::VARS).
    pub const MAX_REQUEST_BODY_BYTES: &str = "max_request_body_bytes";
    /// `identity_header_prefix`: see [`VARS`](super::VARS).
    pub const IDENTITY_HEADER_PREFIX: &str = "identity_header_prefix";
    /// `identity_signing_key`: see [`VARS`](super::VARS).
    pub const IDENTITY_SIGNING_KEY: &str = "identity_signing_key";
    /// `pin_expiry_warning_days`: see [`VARS`](super::VARS).
    pub const PIN_EXPIRY_WARNING_DAYS: &str = "pin_expiry_warning_days";
    /// `proxy_secret`: see [`VARS`](super::VARS).
    pub const PROXY_SECRET: &str = "proxy_secret";
    /// `proxy_secret_header`: see [`VARS`](super::VARS).
    pub const PROXY_SECRET_HEADER: &str = "proxy_secret_header";
    /// `proxy_hmac_key`: see [`VARS`](super::VARS).
    pub const PROXY_HMAC_KEY: &str = "proxy_hmac_key";
    /// `proxy_signature_header`: see [`VARS`](super::VARS).
    pub const PROXY_SIGNATURE_HEADER: &str = "proxy_signature_header";
    /// `proxy_signature_max_age_seconds`: see [`VARS`](super::VARS).
    pub const PROXY_SIGNATURE_MAX_AGE_SECONDS: &str = "proxy_signature_max_age_seconds";
    /// `terminator_verify_header`: see [`VARS`](super::VARS).
    pub const TERMINATOR_VERIFY_HEADER: &str = "terminator_verify_header";
    /// `terminator_verify_values`: see [`VARS`](super::VARS).
    pub const TERMINATOR_VERIFY_VALUES: &str = "terminator_verify_values";
    /// `terminator_verdicts`: see [`VARS`](super::VARS).
    pub const TERMINATOR_VERDICTS: &str = "terminator_verdicts";
}

/// What a variable configures (its section in the reference).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Where the certificate is read and how it is decoded.
    Extraction,
    /// Thumbprint and key pins.
    Pins,
    /// Chain validation to configured CAs.
    Chain,
    /// Name rules.
    Names,
    /// Denylist and CRLs.
    Revocation,
    /// Proof that the request came through the terminator, and the terminator's verdicts.
    Origin,
    /// How decisions are applied.
    Operation,
}

/// A variable's default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Default {
    /// Unset unless configured (declared as `default = ""` in `spin.toml`).
    Unset,
    /// This value when unset or empty (declared with it as `default` in `spin.toml`).
    Value(&'static str),
}

impl Default {
    /// The `default` a `spin.toml` declaration carries.
    pub fn declared(self) -> &'static str {
        match self {
            Default::Unset => "",
            Default::Value(v) => v,
        }
    }
}

/// How a variable's value is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Free text (secrets).
    Text,
    /// An HTTP header name (RFC 9110 token), compared case-insensitively.
    HeaderName,
    /// A whole number within an inclusive range.
    Number {
        /// Smallest value accepted.
        min: u64,
        /// Largest value accepted.
        max: u64,
    },
    /// `true`/`false` (also `yes`/`no`, `on`/`off`, `1`/`0`).
    Bool,
    /// One of these words, case-insensitively.
    Choice(&'static [&'static str]),
    /// A platform preset's name.
    Platform,
    /// A certificate format's name.
    Format,
    /// A list of entries with its own syntax.
    List,
    /// A PEM bundle.
    Pem,
    /// JSON.
    Json,
}

/// One configuration variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Var {
    /// Its name (a Spin variable name).
    pub name: &'static str,
    /// What it configures.
    pub group: Group,
    /// Its default.
    pub default: Default,
    /// The default as the reference states it.
    pub default_doc: &'static str,
    /// Whether its value is a secret (declared `secret = true`; never logged).
    pub secret: bool,
    /// How its value is read.
    pub kind: Kind,
    /// What it means, as the reference table states it (Markdown, one line).
    pub doc: &'static str,
}

/// Every variable certgate reads, in reference order.
pub const VARS: &[Var] = &[
    Var {
        name: var::ALLOWED_THUMBPRINTS,
        group: Group::Pins,
        default: Default::Unset,
        default_doc: "none (a trust source is required: this, `allowed_key_pins`, `pins`, `trust_anchors` or `keyvalue_store`)",
        secret: false,
        kind: Kind::List,
        doc: "pinned certificates: SHA-1 (40 hex) or SHA-256 (64 hex) of the leaf's DER",
    },
    Var {
        name: var::PLATFORM,
        group: Group::Extraction,
        default: Default::Unset,
        default_doc: "none",
        secret: false,
        kind: Kind::Platform,
        doc: "preset that sets header and format (table below); explicit variables win; an unknown name is a configuration error",
    },
    Var {
        name: var::CERTIFICATE_HEADER,
        group: Group::Extraction,
        default: Default::Unset,
        default_doc: "`X-ARR-ClientCert`",
        secret: false,
        kind: Kind::HeaderName,
        doc: "the one header the terminator writes the certificate into",
    },
    Var {
        name: var::CERTIFICATE_CHAIN_HEADER,
        group: Group::Extraction,
        default: Default::Unset,
        default_doc: "none (`Client-Cert-Chain` with `platform = \"rfc9440\"`)",
        secret: false,
        kind: Kind::HeaderName,
        doc: "a separate header with the rest of the chain (RFC 9440 `Client-Cert-Chain`)",
    },
    Var {
        name: var::CERTIFICATE_FORMAT,
        group: Group::Extraction,
        default: Default::Unset,
        default_doc: "`auto`",
        secret: false,
        kind: Kind::Format,
        doc: "`auto`, `base64-der`, `hex-der`, `pem`, `url-pem`, `rfc9440`, `xfcc`, `xfcc-json` ([formats read](formats.md))",
    },
    Var {
        name: var::XFCC_ELEMENTS,
        group: Group::Extraction,
        default: Default::Value("single"),
        default_doc: "",
        secret: false,
        kind: Kind::Choice(&["single", "last"]),
        doc: "with several XFCC elements: `single` refuses (`certificate_ambiguous`), `last` uses the element added by the nearest proxy, after checking every element's shape and claims ([XFCC rules](formats.md#xfcc-rules))",
    },
    Var {
        name: var::CLOCK_SKEW_SECONDS,
        group: Group::Extraction,
        default: Default::Value("60"),
        default_doc: "",
        secret: false,
        kind: Kind::Number { min: 0, max: 86_400 },
        doc: "tolerance on notBefore / notAfter, 0 to 86400",
    },
    Var {
        name: var::MAX_HEADER_BYTES,
        group: Group::Extraction,
        default: Default::Value("32768"),
        default_doc: "",
        secret: false,
        kind: Kind::Number { min: 512, max: 1_048_576 },
        doc: "largest certificate header (all lines together) accepted, 512 to 1048576; larger is `certificate_too_large`",
    },
    Var {
        name: var::MAX_CHAIN_CERTIFICATES,
        group: Group::Extraction,
        default: Default::Value("5"),
        default_doc: "",
        secret: false,
        kind: Kind::Number { min: 1, max: crate::extract::MAX_CERTIFICATES as u64 },
        doc: "most certificates a request may forward, leaf included (inline lists, XFCC `Chain`, the chain header), 1 to 16; more is `certificate_too_large`. Path building's work grows with each one an attacker may add",
    },
    Var {
        name: var::CERTIFICATE_TOO_LARGE_HEADER,
        group: Group::Extraction,
        default: Default::Unset,
        default_doc: "the preset's (`cloudflare-rfc9440`, `gcp`), else none",
        secret: false,
        kind: Kind::HeaderName,
        doc: "a header in which the terminator says it left the certificate out as too large (Cloudflare's `cert_rfc9440_too_large`, Google Cloud's `client_cert_error`): a flagged request is `certificate_too_large`, not `certificate_missing`; absent means not flagged",
    },
    Var {
        name: var::CERTIFICATE_TOO_LARGE_VALUES,
        group: Group::Extraction,
        default: Default::Unset,
        default_doc: "the preset's, else `true`",
        secret: false,
        kind: Kind::List,
        doc: "values meaning \"too large\", comma-separated, matched case-insensitively against each comma-separated token of that header (a renamed header keeps its preset's values)",
    },
    Var {
        name: var::CERTIFICATE_DIGEST_HEADER,
        group: Group::Extraction,
        default: Default::Unset,
        default_doc: "none",
        secret: false,
        kind: Kind::HeaderName,
        doc: "a header with the terminator's SHA-256 of the leaf (64 hex digits in either case, `:` between pairs allowed, or base64): it must occur once and equal the SHA-256 of the forwarded DER, else `certificate_ambiguous`",
    },
    Var {
        name: var::ALLOWED_KEY_PINS,
        group: Group::Pins,
        default: Default::Unset,
        default_doc: "none",
        secret: false,
        kind: Kind::List,
        doc: "key pins: SHA-256 of the SubjectPublicKeyInfo, base64 as Envoy's `verify_certificate_spki` and HPKP write it (optionally `sha256/…`) or hex; a renewal with the same key still matches. A key pin trusts the key, in whatever certificate carries it: behind a terminator that forwards certificates it did not verify, the key holder writes that certificate's names, serial and issuer, so `allowed_names`, `serial:` entries and CRLs say nothing about it; revoke a key pin by removing it or with a `key:` entry in `revoked`",
    },
    Var {
        name: var::PINS,
        group: Group::Pins,
        default: Default::Unset,
        default_doc: "none",
        secret: false,
        kind: Kind::Json,
        doc: "JSON array of pins with labels and windows, for rotation: `[{\"label\":\"current\",\"sha256\":\"…\",\"not_after\":\"2027-01-31T00:00:00Z\"},{\"label\":\"next\",\"key_sha256\":\"…\",\"not_before\":\"2027-01-15T00:00:00Z\"}]`; keys `sha1`, `sha256`, `thumbprint`, `key_sha256` (exactly one), `label`, `not_before`, `not_after` (RFC 3339); unknown keys are refused",
    },
    Var {
        name: var::TRUST_ANCHORS,
        group: Group::Chain,
        default: Default::Unset,
        default_doc: "none",
        secret: false,
        kind: Kind::Pem,
        doc: "PEM bundle of CA certificates: a certificate that chains to one is trusted (path building through `intermediates` and the forwarded chain, signatures, basic constraints, name constraints, validity, clientAuth EKU, CRLs). Each must be a CA (basicConstraints cA=TRUE, keyUsage allowing keyCertSign if present): an end-entity certificate is a `configuration_error` naming its place and subject",
    },
    Var {
        name: var::CHAIN_CACHE_SECONDS,
        group: Group::Chain,
        default: Default::Unset,
        default_doc: "none (every request validates its path)",
        secret: false,
        kind: Kind::Number { min: 1, max: crate::store::chain::MAX_LIFETIME_SECONDS },
        doc: "keep each validated path to a trust anchor in the key-value store (`keyvalue_store`, needed, as are `trust_anchors`) for this many seconds, 1 to 86,400, so a fleet's chains are built and their signatures verified once per certificate per lifetime instead of on every request (one more read, and a write when the path was validated). Entries are keyed by the leaf and a digest of the anchors, intermediates and EKU policy, so changing those starts afresh; validity, revocation, key usage and names are still judged on every request ([the chain cache](keyvalue.md#the-chain-cache))",
    },
    Var {
        name: var::INTERMEDIATES,
        group: Group::Chain,
        default: Default::Unset,
        default_doc: "none",
        secret: false,
        kind: Kind::Pem,
        doc: "PEM bundle of extra intermediate CAs (needs `trust_anchors`; CA certificates only, as for anchors); the forwarded chain is used as untrusted intermediates too",
    },
    Var {
        name: var::REQUIRE_CLIENT_AUTH_EKU,
        group: Group::Chain,
        default: Default::Value("true"),
        default_doc: "",
        secret: false,
        kind: Kind::Bool,
        doc: "`true`: on the chain path the leaf's EKU must allow clientAuth (or be absent, per RFC 5280); `false`: any EKU (public CAs are dropping clientAuth in 2026)",
    },
    Var {
        name: var::ALLOWED_NAMES,
        group: Group::Names,
        default: Default::Unset,
        default_doc: "none",
        secret: false,
        kind: Kind::List,
        doc: "name rules, any of which must match (in addition to trust): `cn:alice`, `dns:api.example.com`, `dns:*.example.com` (one label), `email:ops@example.com`, `uri:https://id.example/u/*` (prefix), `spiffe://prod.example/ns/payments/*` (path prefix on a segment boundary), `spiffe://prod.example/*` (trust domain), or an exact SPIFFE ID. **`cn:` rules are not bound by name constraints** (X.509 name constraints cover SANs, not the subject CN): under a name-constrained CA, use `dns:`, `uri:` or SPIFFE rules",
    },
    Var {
        name: var::REVOKED,
        group: Group::Revocation,
        default: Default::Unset,
        default_doc: "none",
        secret: false,
        kind: Kind::List,
        doc: "denylist: `serial:0A:1B:…` (hex, as `openssl x509 -serial` or .NET's `SerialNumber` print it, `:` and spaces optional), `key:` and a key digest as `allowed_key_pins` writes it (every certificate with that key, however it spells it: an EC point compressed, hybrid or not, RSA's NULL parameters present or not, RSA under the RSASSA-PSS or the X.500 `id-ea-rsa` identifier; give the digest of the usual spelling, `openssl pkey -pubout`'s; a key certgate cannot read in one canonical form is refused as `certificate_malformed`. The way to revoke a key pin), or SHA-1/SHA-256 thumbprints. Serials are compared as unsigned integers, so leading zero bytes never matter (`serial:80…` and `serial:0080…` are one serial); serials and keys apply to the client certificate, pinned or chaining. Thumbprints apply to it and to every CA certificate on its validated path, the trust anchor included, and also match a certificate's ECDSA twin (the same certificate with the other valid form of its signature, `s` replaced by `n - s`, which anyone can write and which has other thumbprints; an RSA or Ed25519 signature has one valid form)",
    },
    Var {
        name: var::CRLS,
        group: Group::Revocation,
        default: Default::Unset,
        default_doc: "none",
        secret: false,
        kind: Kind::Pem,
        doc: "PEM bundle of `X509 CRL`s, each signature-checked when read: its issuer is the configured anchor or intermediate with the CRL's issuer name **and** a key that verifies it (and keyUsage allowing cRLSign). Each needs a nextUpdate. A CRL applies to a certificate only when issued by that certificate's own issuer, name and key (a name or a key written two ways is one: another string type, case or spacing, as X.520 and OpenSSL match names; a compressed point): two CAs sharing a name (a rollover) never share a list, though a serial a same-named CA's list names is revoked (a CA's new key may list its old key's certificates), and a certificate whose issuer's name has lists but none from its issuer's key has an unknown status (`crl_when_stale`). Every certificate on the path (the leaf and each intermediate; for a pinned leaf, the leaf with the configured CA that signed it) is checked against its issuer's lists: listed on any of them is revoked, and whether they are current is judged by the freshest (latest thisUpdate) of those that speak for it, whatever the bundle's order. A CRL with an issuingDistributionPoint speaks only for what it covers: CA certificates only (an ARL), end-entity ones only, or the certificates whose cRLDistributionPoints name its distribution point; one limited to some reasons, or indirect, speaks for none. A certificate whose issuer has lists but none that speaks for it has an unknown status (`crl_when_stale`). A pinned leaf whose issuer a configured CRL names (as X.520 matches names), but which no configured CA of that name signed (or whose signature certgate cannot check), has an unknown revocation status: treated as a stale list (`crl_when_stale`)",
    },
    Var {
        name: var::CRL_WHEN_STALE,
        group: Group::Revocation,
        default: Default::Value("deny"),
        default_doc: "",
        secret: false,
        kind: Kind::Choice(&["deny", "allow"]),
        doc: "when the freshest CRL of any issuer on the path is past its nextUpdate: `deny` (`revocation_list_stale`, fail closed) or `allow` (carry on, log a warning: fail open)",
    },
    Var {
        name: var::MODE,
        group: Group::Operation,
        default: Default::Value("enforce"),
        default_doc: "",
        secret: false,
        kind: Kind::Choice(&["enforce", "report-only"]),
        doc: "`enforce`, or `report-only`: every would-be denial (including a missing proxy secret) is logged (`\"outcome\":\"report_only\"`) and let through with `Certgate-Report-Only: would-deny; reason=…`, so report-only protects nothing; configuration errors are never let through",
    },
    Var {
        name: var::SERVICE,
        group: Group::Operation,
        default: Default::Value("app"),
        default_doc: "",
        secret: false,
        kind: Kind::Choice(&["app", "forward-auth", "gateway"]),
        doc: "`app`: certgate's own routes (`/api/values`, `/api/whoami`); `forward-auth`: an authorization service for a proxy (nginx `auth_request`, Caddy `forward_auth`, Traefik `ForwardAuth`, Envoy `ext_authz`): every path and method is authenticated and answered `200` with an empty body and the identity headers, or the reasoned `403`; needs `proxy_secret` or `proxy_hmac_key`, and cannot be combined with `mode = report-only`; `/healthz` answers health only to a request that carries neither the proxy's proof header nor a forwarded-request header (`X-Forwarded-Uri`, `X-Forwarded-Method`, `X-Original-URI`, `X-Original-Method`), so a proxy that forwards the client's own path never turns `/healthz` into an allow ([forward-auth](forward-auth.md)); `gateway`: every path but `/healthz` is authenticated and the allowed request forwarded to `upstream` with the identity headers, its bodies streamed; cannot be combined with `mode = report-only` ([gateway](../deploy/gateway/README.md))",
    },
    Var {
        name: var::UPSTREAM,
        group: Group::Operation,
        default: Default::Unset,
        default_doc: "none",
        secret: false,
        kind: Kind::Text,
        doc: "with `service = gateway` (and only then), where allowed requests go: `http://` or `https://`, a host (name, IPv4 or `[IPv6]`), an optional port and an optional base path that every request path is appended to; no user, query or fragment. On Spin another component of the app is `http://<component>.spin.internal`; the host must be in the component's `allowed_outbound_hosts` ([gateway](../deploy/gateway/README.md))",
    },
    Var {
        name: var::UPSTREAM_CONNECT_TIMEOUT_SECONDS,
        group: Group::Operation,
        default: Default::Value("5"),
        default_doc: "",
        secret: false,
        kind: Kind::Number { min: 1, max: 60 },
        doc: "with `service = gateway`, how long connecting to the upstream may take, 1 to 60; then `504 upstream_timeout`",
    },
    Var {
        name: var::UPSTREAM_TIMEOUT_SECONDS,
        group: Group::Operation,
        default: Default::Value("30"),
        default_doc: "",
        secret: false,
        kind: Kind::Number { min: 1, max: 600 },
        doc: "with `service = gateway`, the longest wait, 1 to 600, for the upstream's response headers (then `504 upstream_timeout`) and between two pieces of its response body (then the response is cut off and logged)",
    },
    Var {
        name: var::MAX_REQUEST_BODY_BYTES,
        group: Group::Operation,
        default: Default::Value("10485760"),
        default_doc: "",
        secret: false,
        kind: Kind::Number { min: 0, max: 17_179_869_184 },
        doc: "with `service = gateway`, the largest request body forwarded, 0 to 16 GiB: a larger `Content-Length` is refused before the upstream is asked, a streamed body that grows past it is cut off and refused (`413 request_body_too_large`)",
    },
    Var {
        name: var::IDENTITY_HEADER_PREFIX,
        group: Group::Operation,
        default: Default::Value("X-Certgate-Client-"),
        default_doc: "",
        secret: false,
        kind: Kind::HeaderName,
        doc: "with `service = forward-auth` or `gateway`, the prefix of the identity headers (`<prefix>Subject`, `Issuer`, `Sha256`, `Serial`, `Not-After`, `Dns`, `Uri`, `Email`, `Matched-Kind`, `Matched`, `Time`, `Signature`; [forward-auth](forward-auth.md)); the proxy must remove every client header with this prefix (a gateway removes them itself, `_` read as `-`)",
    },
    Var {
        name: var::IDENTITY_SIGNING_KEY,
        group: Group::Operation,
        default: Default::Unset,
        default_doc: "none (unsigned)",
        secret: true,
        kind: Kind::Text,
        doc: "with `service = forward-auth` or `gateway`, a key of at least 16 bytes: adds `<prefix>Signature: v1=<base64url HMAC-SHA256>` over the identity headers and the time, so the upstream can check they came from certgate",
    },
    Var {
        name: var::CONFIG_REFRESH_SECONDS,
        group: Group::Operation,
        default: Default::Value("10"),
        default_doc: "",
        secret: false,
        kind: Kind::Number { min: 0, max: 3_600 },
        doc: "where an instance serves many requests (`certgate-p3.wasm` on Spin 4), the longest a configuration read once is used before it is read again, 0 to 3600 (0: every request); `certgate.wasm` reads it for every request anyway",
    },
    Var {
        name: var::KEYVALUE_STORE,
        group: Group::Pins,
        default: Default::Unset,
        default_doc: "none (no store is read)",
        secret: false,
        kind: Kind::Text,
        doc: "the label of a key-value store (`wasi:keyvalue`, Spin's `key_value_stores`) holding pins and revocations in [certgate's store format](keyvalue.md): a trust source beside the variables, and its revocations deny even a certificate a variable pins or a chain trusts. Every request reads its marker and the certificate's entries; a store that cannot be read or is not in the format refuses (`503 store_unavailable`, `store_invalid`)",
    },
    Var {
        name: var::PIN_EXPIRY_WARNING_DAYS,
        group: Group::Pins,
        default: Default::Value("14"),
        default_doc: "",
        secret: false,
        kind: Kind::Number { min: 0, max: 3650 },
        doc: "a match on a pin whose `not_after` is this close logs a warning",
    },
    Var {
        name: var::PROXY_SECRET,
        group: Group::Origin,
        default: Default::Unset,
        default_doc: "none",
        secret: true,
        kind: Kind::Text,
        doc: "**secret** variable: the terminator must send it in `proxy_secret_header`; compared in constant time before any certificate parsing",
    },
    Var {
        name: var::PROXY_SECRET_HEADER,
        group: Group::Origin,
        default: Default::Value("X-Certgate-Proxy-Secret"),
        default_doc: "",
        secret: false,
        kind: Kind::HeaderName,
        doc: "header carrying it",
    },
    Var {
        name: var::PROXY_HMAC_KEY,
        group: Group::Origin,
        default: Default::Unset,
        default_doc: "none",
        secret: true,
        kind: Kind::Text,
        doc: "**secret** variable: the proxy signs `<unix time>.<certificate header value>` with HMAC-SHA256 and sends `t=<unix time>,v1=<hex>` in `proxy_signature_header` (for Envoy Lua/Wasm or Cloudflare Workers). The MAC covers the timestamp and the certificate header only: anyone who sees one signed request can replay its certificate header and signature, with any method, path, chain header or verdict header, until it is `proxy_signature_max_age_seconds` old ([choosing a proof](#choosing-a-proof-of-origin))",
    },
    Var {
        name: var::PROXY_SIGNATURE_HEADER,
        group: Group::Origin,
        default: Default::Value("X-Certgate-Signature"),
        default_doc: "",
        secret: false,
        kind: Kind::HeaderName,
        doc: "header carrying the signature",
    },
    Var {
        name: var::PROXY_SIGNATURE_MAX_AGE_SECONDS,
        group: Group::Origin,
        default: Default::Value("300"),
        default_doc: "",
        secret: false,
        kind: Kind::Number { min: 0, max: 86_400 },
        doc: "oldest signature accepted (future ones only within `clock_skew_seconds`)",
    },
    Var {
        name: var::TERMINATOR_VERIFY_HEADER,
        group: Group::Origin,
        default: Default::Unset,
        default_doc: "none",
        secret: false,
        kind: Kind::HeaderName,
        doc: "require the terminator's verdict header, e.g. `ssl-client-verify`, `X-Amzn-Mtls-Clientcert-Verified`-style headers, `cf-cert-verified`, GCP's `client_cert_chain_verified`",
    },
    Var {
        name: var::TERMINATOR_VERIFY_VALUES,
        group: Group::Origin,
        default: Default::Unset,
        default_doc: "`SUCCESS`",
        secret: false,
        kind: Kind::List,
        doc: "accepted values, comma-separated, case-insensitive",
    },
    Var {
        name: var::TERMINATOR_VERDICTS,
        group: Group::Origin,
        default: Default::Unset,
        default_doc: "none",
        secret: false,
        kind: Kind::List,
        doc: "several verdict headers, all required: entries separated by `;` or line breaks, each `<header>: <value>[|<value>…]`, e.g. `cf-cert-verified: true; cf-cert-revoked: false` (Cloudflare reports a revoked certificate as verified); at most 8, each header once (also across `terminator_verify_header`)",
    },
];

/// The table entry for `name`.
pub fn find(name: &str) -> Option<&'static Var> {
    VARS.iter().find(|v| v.name == name)
}

/// The reference table (`docs/configuration.md`), rendered from [`VARS`].
pub fn reference_table() -> String {
    let mut out = String::from("| variable | meaning | default |\n|---|---|---|\n");
    for v in VARS {
        let default = match v.default {
            Default::Value(value) if v.default_doc.is_empty() => format!("`{value}`"),
            _ => v.default_doc.to_string(),
        };
        out.push_str(&format!("| `{}` | {} | {} |\n", v.name, v.doc.replace('|', "\\|"), default));
    }
    out
}

/// The `[variables]` declarations and the component's `[component.<id>.variables]`
/// templates for the variables `names` (all when empty), as `spin.toml` writes them.
pub fn spin_declarations(names: &[&str]) -> (String, String) {
    let mut app = String::new();
    let mut component = String::new();
    for v in VARS.iter().filter(|v| names.is_empty() || names.contains(&v.name)) {
        let secret = if v.secret { ", secret = true" } else { "" };
        app.push_str(&format!("{} = {{ default = \"{}\"{secret} }}\n", v.name, v.default.declared()));
        component.push_str(&format!("{0} = \"{{{{ {0} }}}}\"\n", v.name));
    }
    (app, component)
}
