//! What certgate tells an upstream about an authenticated client: identity headers, for
//! shells that put certgate in front of another application (a forward-auth answer, a
//! gateway's forwarded request) and for library users who forward requests themselves.
//!
//! Every value is percent-encoded to a fixed set of visible ASCII ([`encode_value`]), so no
//! certificate field (a subject with a comma, a SAN with a CR LF, UTF-8 names) can add a
//! header, end one, or be split differently by two proxies; lists are comma-separated
//! encoded items. With a signing key, a signature header binds every identity header and
//! the time to that key ([`IdentityHeaders::signed_with`]), so an upstream can check that
//! the identity came from certgate and not from a client that reached it another way.
//!
//! A shell must also remove every header a client sent whose name starts with the prefix
//! ([`IdentityHeaders::is_identity_header`]), before it adds its own: otherwise a client
//! could send an identity that the upstream would take for certgate's.

use crate::certificate::rfc3339;
use crate::decision::Identity;
use crate::policy::TrustedBy;

/// The default prefix of identity header names.
pub const DEFAULT_PREFIX: &str = "X-Certgate-Client-";

/// The fields, in the order they are written and signed (after the prefix).
pub const FIELDS: [&str; 11] =
    ["Subject", "Issuer", "Sha256", "Serial", "Not-After", "Dns", "Uri", "Email", "Matched-Kind", "Matched", "Time"];

/// The signature header's name (after the prefix).
pub const SIGNATURE_FIELD: &str = "Signature";

/// What the signature covers, before the headers: a version, so a later form cannot be
/// taken for this one.
const SIGNED_PREAMBLE: &[u8] = b"certgate-identity-v1\n";

/// The shortest signing key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 16;

/// The longest prefix accepted.
pub const MAX_PREFIX: usize = 64;

/// Why identity headers cannot be built as asked.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentityHeaderError {
    /// The prefix is empty, too long, or not made of header-name characters (RFC 9110 `tchar`).
    BadPrefix,
    /// The signing key is shorter than [`MIN_KEY_BYTES`].
    ShortKey,
}

impl std::fmt::Display for IdentityHeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdentityHeaderError::BadPrefix => write!(
                f,
                "the identity header prefix must be 1 to {MAX_PREFIX} header-name characters (letters, digits, - and the like)"
            ),
            IdentityHeaderError::ShortKey => {
                write!(f, "the identity signing key must be at least {MIN_KEY_BYTES} bytes")
            }
        }
    }
}

impl std::error::Error for IdentityHeaderError {}

/// How identity headers are named and signed, settled once (like a [`Gate`](crate::Gate)).
///
/// ```
/// use certgate::upstream::IdentityHeaders;
///
/// let headers = IdentityHeaders::new("X-Client-")?.signed_with(b"a key of sixteen bytes or more")?;
/// assert!(headers.is_identity_header("x-client-subject"));
/// assert!(headers.is_identity_header("X_Client_Subject"));
/// assert!(!headers.is_identity_header("x-forwarded-for"));
/// # Ok::<(), certgate::upstream::IdentityHeaderError>(())
/// ```
#[derive(Clone)]
pub struct IdentityHeaders {
    prefix: String,
    key: Option<Vec<u8>>,
}

impl std::fmt::Debug for IdentityHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("IdentityHeaders").field("prefix", &self.prefix).field("signed", &self.key.is_some()).finish()
    }
}

impl Default for IdentityHeaders {
    fn default() -> Self {
        IdentityHeaders { prefix: DEFAULT_PREFIX.to_string(), key: None }
    }
}

/// RFC 9110 `tchar`: what a header name is made of.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl IdentityHeaders {
    /// Headers named `<prefix><Field>` (for example `X-Certgate-Client-Subject`), unsigned.
    pub fn new(prefix: &str) -> Result<Self, IdentityHeaderError> {
        if prefix.is_empty() || prefix.len() > MAX_PREFIX || !prefix.bytes().all(is_tchar) {
            return Err(IdentityHeaderError::BadPrefix);
        }
        Ok(IdentityHeaders { prefix: prefix.to_string(), key: None })
    }

    /// The same, with a `<prefix>Signature` header: `v1=` and the unpadded base64url of an
    /// HMAC-SHA256 with `key` over `certgate-identity-v1\n` and then, for every other
    /// identity header in [`FIELDS`] order, its lower-case name, `:`, its value and `\n`.
    /// The `Time` header (Unix seconds) is covered, so an upstream can refuse old ones.
    pub fn signed_with(mut self, key: &[u8]) -> Result<Self, IdentityHeaderError> {
        if key.len() < MIN_KEY_BYTES {
            return Err(IdentityHeaderError::ShortKey);
        }
        self.key = Some(key.to_vec());
        Ok(self)
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether `name` is one of these identity headers' names or could be taken for one
    /// (it starts with the prefix, in any case, with `_` for `-` as CGI-style servers read
    /// it): a shell removes every such header a client sent.
    pub fn is_identity_header(&self, name: &str) -> bool {
        let fold = |b: u8| if b == b'_' { b'-' } else { b.to_ascii_lowercase() };
        name.len() >= self.prefix.len() && name.bytes().zip(self.prefix.bytes()).all(|(a, b)| fold(a) == fold(b))
    }

    /// The identity headers for `identity` at `now` (Unix seconds), in [`FIELDS`] order and
    /// then the signature if signed. Lists that are empty are written empty, so an upstream
    /// never mistakes a missing header for a stripped one.
    pub fn for_identity(&self, identity: &Identity, now: i64) -> Vec<(String, String)> {
        let c = &identity.certificate;
        let (kind, matched) = match &identity.trusted_by {
            TrustedBy::Pin(pin) => (pin.kind(), pin.label.clone().unwrap_or_default()),
            TrustedBy::Anchor(subject) => ("trust_anchor", subject.clone()),
        };
        let values = [
            encode_value(&c.subject),
            encode_value(&c.issuer),
            c.sha256_hex(),
            c.serial_hex.clone(),
            rfc3339(c.not_after),
            encode_list(&c.dns_names),
            encode_list(&c.uris),
            encode_list(&c.emails),
            kind.to_string(),
            encode_value(&matched),
            now.to_string(),
        ];
        let mut headers: Vec<(String, String)> =
            FIELDS.iter().zip(values).map(|(field, value)| (format!("{}{field}", self.prefix), value)).collect();
        if let Some(key) = &self.key {
            let mac = sign(key, &headers);
            headers.push((format!("{}{SIGNATURE_FIELD}", self.prefix), format!("v1={mac}")));
        }
        headers
    }
}

/// The signature of `headers` (name, value pairs in order) under `key`, as
/// [`IdentityHeaders::signed_with`] describes: what an upstream recomputes to check one.
pub fn sign(key: &[u8], headers: &[(String, String)]) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    // An HMAC takes a key of any length; `new_from_slice` cannot fail for HMAC-SHA256.
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(key) else { return String::new() };
    mac.update(SIGNED_PREAMBLE);
    for (name, value) in headers {
        mac.update(name.to_ascii_lowercase().as_bytes());
        mac.update(b":");
        mac.update(value.as_bytes());
        mac.update(b"\n");
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Whether a byte is written as itself: RFC 3986's unreserved characters and `= / : @`
/// (which RFC 4514 names and URIs are full of). Everything else, `%` and `,` included, is
/// `%XX`, so a value holds no white space, no list separator and nothing but visible ASCII.
fn is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~=/:@".contains(&b)
}

/// `value` percent-encoded byte by byte (UTF-8), upper-case hex: decode with any standard
/// percent-decoder (not a form decoder: `+` is encoded, never a space).
pub fn encode_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if is_plain(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
        }
    }
    out
}

/// Each item encoded, joined by `,`.
fn encode_list(items: &[String]) -> String {
    items.iter().map(|i| encode_value(i)).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use certgate_testkit::{encode, Ca, LeafOptions};

    fn decode(value: &str) -> String {
        let bytes = value.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&value[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    fn identity(options: &LeafOptions) -> (Identity, String) {
        let ca = Ca::new("Upstream Root");
        let leaf = ca.issue(options);
        let gate = crate::Gate::from_source(&[("allowed_thumbprints", leaf.sha256_hex().as_str())]).unwrap();
        let value = encode::base64_der(&leaf.der);
        let headers = [("X-ARR-ClientCert", value.as_str())];
        let now = certgate_testkit::OffsetDateTime::now_utc().unix_timestamp();
        (gate.authenticate(&headers[..], now).unwrap(), leaf.sha256_hex())
    }

    #[test]
    fn values_are_visible_ascii_without_separators_and_decode_back() {
        for value in [
            "CN=alice,O=Example\\, Inc.",
            "CN=evil\r\nX-Certgate-Subject: CN=admin",
            "CN=\u{e9}l\u{e8}ve \u{1F600}",
            "100% +plus; semi \"quoted\" <tag>\t",
            "",
        ] {
            let encoded = encode_value(value);
            assert!(encoded.bytes().all(|b| b.is_ascii_graphic() && b != b',' && b != b';' && b != b'"'), "{encoded}");
            assert_eq!(decode(&encoded), value);
        }
        assert_eq!(encode_value("CN=a,O=b"), "CN=a%2CO=b");
        assert_eq!(encode_value("spiffe://prod/ns/a"), "spiffe://prod/ns/a");
        assert_eq!(encode_value("a+b c%"), "a%2Bb%20c%25");
    }

    #[test]
    fn an_identity_becomes_one_header_per_field_in_order() {
        let (id, sha) = identity(
            &LeafOptions::named("alice, the admin").dns("a.example").dns("b.example").uri("spiffe://prod/ns/x"),
        );
        let headers = IdentityHeaders::default().for_identity(&id, 1_800_000_000);
        let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
        let expected: Vec<String> = FIELDS.iter().map(|f| format!("X-Certgate-Client-{f}")).collect();
        assert_eq!(names, expected);
        let get =
            |f: &str| headers.iter().find(|(n, _)| n == &format!("X-Certgate-Client-{f}")).map(|(_, v)| v.as_str());
        assert_eq!(get("Sha256"), Some(sha.as_str()));
        assert_eq!(decode(get("Subject").unwrap()), id.certificate.subject);
        assert!(!get("Subject").unwrap().contains(','), "the subject's comma is encoded");
        assert_eq!(get("Dns"), Some("a.example,b.example"));
        assert_eq!(get("Uri"), Some("spiffe://prod/ns/x"));
        assert_eq!(get("Email"), Some(""));
        assert_eq!(get("Matched-Kind"), Some("thumbprint"));
        assert_eq!(get("Serial"), Some(id.certificate.serial_hex.as_str()));
        assert_eq!(get("Time"), Some("1800000000"));
        for (name, value) in &headers {
            assert!(name.bytes().all(is_tchar), "{name}");
            assert!(value.bytes().all(|b| b.is_ascii_graphic()), "{name}: {value}");
        }
    }

    #[test]
    fn the_signature_covers_every_header_and_the_time() {
        let (id, _) = identity(&LeafOptions::named("bob"));
        let key = b"sixteen byte key!";
        let signer = IdentityHeaders::default().signed_with(key).unwrap();
        let headers = signer.for_identity(&id, 1_800_000_000);
        let (last_name, last_value) = headers.last().unwrap();
        assert_eq!(last_name, "X-Certgate-Client-Signature");
        let body = &headers[..headers.len() - 1];
        assert_eq!(last_value, &format!("v1={}", sign(key, body)));
        // An upstream's independent check: HMAC-SHA256 over the documented bytes.
        {
            use base64::Engine;
            use hmac::{Hmac, Mac};
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
            let mut text = String::from("certgate-identity-v1\n");
            for (n, v) in body {
                text.push_str(&format!("{}:{v}\n", n.to_ascii_lowercase()));
            }
            mac.update(text.as_bytes());
            let want = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
            assert_eq!(last_value, &format!("v1={want}"));
        }
        // Any change to a value, a name or the time, or another key, gives another signature.
        for i in 0..body.len() {
            let mut changed = body.to_vec();
            changed[i].1.push('x');
            assert_ne!(sign(key, &changed), sign(key, body), "{}", body[i].0);
        }
        let mut renamed = body.to_vec();
        renamed[0].0 = "X-Certgate-Client-Issuer".into();
        assert_ne!(sign(key, &renamed), sign(key, body));
        assert_ne!(signer.for_identity(&id, 1_800_000_001).last(), headers.last());
        assert_ne!(sign(b"another sixteen bytes", body), sign(key, body));
        // Unsigned: no signature header.
        assert!(IdentityHeaders::default().for_identity(&id, 0).iter().all(|(n, _)| !n.ends_with("Signature")));
    }

    #[test]
    fn prefixes_and_keys_are_checked_and_client_headers_recognised() {
        assert_eq!(IdentityHeaders::new("").unwrap_err(), IdentityHeaderError::BadPrefix);
        assert_eq!(IdentityHeaders::new("X Client-").unwrap_err(), IdentityHeaderError::BadPrefix);
        assert_eq!(IdentityHeaders::new("X-Client:").unwrap_err(), IdentityHeaderError::BadPrefix);
        assert_eq!(IdentityHeaders::new(&"x".repeat(MAX_PREFIX + 1)).unwrap_err(), IdentityHeaderError::BadPrefix);
        assert!(IdentityHeaders::new(&"x".repeat(MAX_PREFIX)).is_ok());
        assert_eq!(IdentityHeaders::default().signed_with(b"short").unwrap_err(), IdentityHeaderError::ShortKey);
        let h = IdentityHeaders::new("X-Client-").unwrap();
        assert_eq!(h.prefix(), "X-Client-");
        for name in ["X-Client-Subject", "x-client-sha256", "X-CLIENT-Anything-Else", "x-client-"] {
            assert!(h.is_identity_header(name), "{name}");
        }
        for name in ["X-Client", "X-Clientsubject", "X-Forwarded-Client-Cert", ""] {
            assert!(!h.is_identity_header(name), "{name}");
        }
        let signed = IdentityHeaders::default().signed_with(b"secret key material!").unwrap();
        assert!(!format!("{signed:?}").contains("secret"), "the key is never printed");
        assert!(IdentityHeaderError::BadPrefix.to_string().contains("prefix"));
        assert!(IdentityHeaderError::ShortKey.to_string().contains("16 bytes"));
    }
}
