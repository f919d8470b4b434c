//! Structure-aware: X.509 certificates built from fuzzer-chosen fields (validity, serial,
//! names from a small shared alphabet, SANs, keyUsage / EKU / basicConstraints, who signs
//! whom), forwarded in a fuzzer-chosen header format, and run through the whole decision
//! under every trust configuration: thumbprint pins, key pins, trust anchors with and
//! without intermediates, the denylist, CRLs, name rules, `require_client_auth_eku=false`.
//!
//! Input: an [`Input`] decoded by `arbitrary`. An all-zero input is a valid
//! three-certificate chain (leaf, intermediate, self-signed root), so the target needs no
//! seeds: libFuzzer gets there from an empty corpus at once.
//!
//! DER is written here by hand (so serials, times and extensions can be anything) and
//! signed with fixed keys derived from constant seeds (three Ed25519, one P-256): an
//! execution does no key generation. Because the target built every certificate, it
//! knows who signed what, and checks oracles that hold whatever the implementation:
//! see [`check_allowed`] and [`check_contract`].
#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use certgate::ClientCertificate;
use certgate::internals::Config;
use certgate::vars::var;
use certgate::internals::authenticate;
use certgate::{Denial, Identity, TrustedBy};
use certgate::service::handle;
use der::asn1::ObjectIdentifier;
use der::Encode;
use libfuzzer_sys::fuzz_target;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The fixed clock: 2027-01-15T08:00:00Z.
const NOW: i64 = 1_800_000_000;
const MAX_CERTS: usize = 6;
const MAX_CHAIN: usize = 8;
const DAY: i64 = 86_400;
/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: what X.509 times can say.
const MIN_TIME: i64 = -62_135_596_800;
const MAX_TIME: i64 = 253_402_300_799;

// ---------------------------------------------------------------------------------------
// The input.

#[derive(Arbitrary, Debug)]
struct Input {
    /// The certificates' specifications; missing ones take the defaults (all-zero input).
    /// First in the input, and validity first in each: the fields with most meaning sit
    /// in the first bytes, which libFuzzer's early length limit leaves it.
    specs: Vec<CertSpec>,
    /// How many certificates: 1 + (`extra` + 2) mod 6, so three by default.
    extra: u8,
    /// Index (mod the number of certificates) of the certificate sent as the client's.
    leaf: u8,
    /// Certificates forwarded after the leaf, in this order (duplicates and wrong order
    /// welcome).
    chain: Vec<u8>,
    /// Configured `trust_anchors`; empty means the last certificate.
    roots: Vec<u8>,
    /// Configured `intermediates`; empty means every certificate that is neither the leaf
    /// nor a root.
    intermediates: Vec<u8>,
    /// The certificate pinned (by thumbprint and by key) in the "pinned, but another
    /// certificate" configurations: this many places after the leaf, plus one.
    other: u8,
    /// Whose serial the denylist names.
    revoke_serial_of: u8,
    revoke_sha1: bool,
    sha1_pin: bool,
    crl: CrlSpec,
    names: Vec<RuleSpec>,
    encoding: Encoding,
    explicit_format: bool,
    skew: Skew,
    request: Request,
    /// The configuration (mod their number) whose request also goes through
    /// `service::handle`, checked against the decision: the full contract costs a second
    /// configuration load and decision, so one configuration per execution.
    contract: u8,
}

#[derive(Arbitrary, Debug, Clone)]
struct CertSpec {
    not_before: TimeSpec,
    not_after: TimeSpec,
    subject: NameSpec,
    issuer: IssuerSpec,
    /// Key (mod 4) = this plus the certificate's index: distinct keys by default.
    key: u8,
    serial: SerialSpec,
    /// GeneralizedTime even where RFC 5280 says UTCTime (1950 to 2049).
    not_before_generalized: bool,
    not_after_generalized: bool,
    /// v1: no version field and no extensions.
    version1: bool,
    basic_constraints: BcSpec,
    key_usage: KuSpec,
    eku: EkuSpec,
    san: Vec<SanSpec>,
    corrupt_signature: bool,
    /// The TBS `signature` field names the other algorithm than the outer one.
    tbs_algorithm_mismatch: bool,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum IssuerSpec {
    /// Issued by the next certificate; the last one is self-signed.
    Next,
    SelfSigned,
    /// Issued (name and key) by this certificate.
    By(u8),
    /// The issuer name of one certificate, the key of (perhaps) another.
    NameWithKey {
        name_of: u8,
        key: u8,
    },
}

#[derive(Arbitrary, Debug, Clone)]
struct NameSpec {
    cn: TextSpec,
    o: Option<TextSpec>,
    printable: bool,
    /// CN first (least significant first), against the usual O then CN.
    cn_first: bool,
    /// CN and O in one multi-valued RDN.
    multi_valued: bool,
}

#[derive(Arbitrary, Debug, Clone)]
enum TextSpec {
    /// The role's default name (see [`DEFAULT_CN`]).
    Default,
    Pick(u8),
    Custom(String),
    Absent,
}

#[derive(Arbitrary, Debug, Clone)]
enum SerialSpec {
    /// The certificate's index plus one.
    Default,
    /// A magnitude, written as a canonical positive INTEGER (sign byte added, leading
    /// zeros stripped).
    Canonical(Vec<u8>),
    /// The INTEGER's content bytes as given: empty, negative, leading zeros.
    Raw(Vec<u8>),
    /// A small magnitude with the high bit set (needs a sign byte): 0x80..=0xff.
    HighBit(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum TimeSpec {
    /// One day before now for notBefore, a year after for notAfter.
    Default,
    NearNow(i8),
    Minutes(i16),
    Days(i16),
    Absolute(i64),
    Edge(EdgeTime, i8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum EdgeTime {
    /// 2049-12-31T23:59:59Z, the last UTCTime second RFC 5280 allows.
    LastUtcTime,
    /// 2050-01-01T00:00:00Z, the first GeneralizedTime one.
    FirstGeneralized,
    /// 9999-12-31T23:59:59Z ("no well-defined expiration").
    NoExpiry,
    Epoch,
    /// 1950-01-01T00:00:00Z.
    FirstUtcTime,
    /// 2038-01-19T03:14:07Z.
    I32Max,
    Y2000,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum BcSpec {
    /// cA=TRUE (critical) on every certificate but the leaf; none on the leaf.
    Auto,
    Absent,
    Present {
        ca: bool,
        path_len: Option<u8>,
        critical: bool,
    },
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum KuSpec {
    /// digitalSignature on the leaf, keyCertSign and cRLSign on the others.
    Auto,
    Absent,
    Bits {
        bits: u16,
        critical: bool,
    },
}

#[derive(Arbitrary, Debug, Clone)]
enum EkuSpec {
    /// clientAuth on the leaf, none on the others.
    Auto,
    Absent,
    List(Vec<Purpose>),
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    ClientAuth,
    ServerAuth,
    CodeSigning,
    EmailProtection,
    Any,
}

#[derive(Arbitrary, Debug, Clone)]
enum SanSpec {
    Dns(TextSpec),
    Uri(TextSpec),
    Email(TextSpec),
}

#[derive(Arbitrary, Debug)]
struct CrlSpec {
    /// Which certificate issues (names and signs) the CRL; default the one after the leaf
    /// (its issuer, by default).
    issuer: Option<u8>,
    /// Serials listed: these certificates'; empty means the leaf's.
    revoke: Vec<u8>,
    next_update: TimeSpec,
    corrupt_signature: bool,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum RuleSpec {
    Cn(u8),
    Dns(u8),
    DnsWildcard(u8),
    Email(u8),
    Uri(u8),
    UriPrefix(u8),
    Spiffe(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// One base64 DER value; with a chain, Traefik's comma-joined list.
    Base64Der,
    /// A PEM bundle with line breaks.
    Pem,
    /// Apache: line breaks turned into spaces.
    PemApache,
    /// nginx `$ssl_client_escaped_cert`.
    UrlPemNginx,
    /// AWS ALB: `+ = /` left literal.
    UrlPemAlb,
    /// Envoy XFCC `By=…;Hash=…;Cert="…";Chain="…";Subject="…";URI=…;DNS=…`.
    Xfcc(XfccStyle),
    /// RFC 9440 `Client-Cert` plus a `Client-Cert-Chain` list.
    Rfc9440,
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum XfccStyle {
    /// As Envoy writes it: `Chain` starts with the leaf, `URI` (the first URI SAN) and
    /// `DNS` (one per DNS SAN) unquoted, so a SAN value with `,` or `;` splits the element.
    Envoy,
    /// `URI` and `DNS` quoted, with `\"` escapes.
    Quoted,
    /// `Chain` without the leaf; no `URI` or `DNS`.
    ChainWithoutLeaf,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Skew {
    Default,
    Zero,
    Hour,
    Day,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Request {
    GetValues,
    GetWhoami,
    HeadValues,
    PostValues,
    GetOther,
    Healthz,
}

// Small alphabets, shared by every certificate so that names collide often; values with
// the characters RFC 4514, XFCC and the rule lists give meaning to.
const DEFAULT_CN: [&str; MAX_CERTS] = ["alice", "Intermediate CA", "Root CA", "bob", "Root CA", "Intermediate CA"];
const CN_ATOMS: [&str; 12] = [
    "alice",
    "bob",
    "Root CA",
    "Intermediate CA",
    "Alice",
    "alice,O=Evil",
    "a;b",
    "\"quoted\"",
    "x=y",
    "*",
    "",
    " alice ",
];
const O_ATOMS: [&str; 4] = ["Example", "Evil", "Example,CN=alice", "Example\"; DNS=evil"];
const DNS_ATOMS: [&str; 9] = [
    "alice.example",
    "api.example.com",
    "ALICE.EXAMPLE.",
    "*.example.com",
    "a,b.example",
    "x;y.example",
    "q\"uote.example",
    "k=v.example",
    "evil.example.com",
];
const URI_ATOMS: [&str; 7] = [
    "spiffe://prod.example/ns/payments/sa/api",
    "spiffe://prod.example/ns/pay",
    "spiffe://prod.example/ns/payments",
    "https://id.example/u/1",
    "https://id.example/u/1,URI=spiffe://prod.example/ns/payments/sa/api",
    "urn:x;y=\"z\"",
    "spiffe://staging.example/ns/payments/sa/api",
];
const EMAIL_ATOMS: [&str; 5] =
    ["alice@example.com", "Alice@Example.COM", "a,b@example.com", "x;y=\"z\"@example.com", "bob@example.com"];
// Rule values: none holds a list separator (`,` `;` line break), so the configured rule
// is the one modelled.
const CN_RULES: [&str; 6] = ["alice", "bob", "Root CA", "Alice", "x=y", "\"quoted\""];
const DNS_RULES: [&str; 4] = ["alice.example", "api.example.com", "k=v.example", "ALICE.example"];
const WILDCARD_RULES: [&str; 2] = ["example.com", "example"];
const EMAIL_RULES: [&str; 3] = ["alice@example.com", "bob@example.com", "ALICE@example.com"];
const URI_RULES: [&str; 2] = ["https://id.example/u/1", "urn:x"];
const URI_PREFIX_RULES: [&str; 2] = ["https://id.example/u/", "spiffe://prod.example/"];
const SPIFFE_RULES: [&str; 4] = [
    "spiffe://prod.example/ns/payments/*",
    "spiffe://prod.example/*",
    "spiffe://prod.example/ns/payments/sa/api",
    "spiffe://staging.example/*",
];

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[usize::from(i) % list.len()]
}

// ---------------------------------------------------------------------------------------
// Keys: fixed seeds, derived once.

enum Signer {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

struct Key {
    signer: Signer,
    spki: Vec<u8>,
}

fn keys() -> &'static [Key] {
    static KEYS: OnceLock<Vec<Key>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut out = Vec::new();
        for seed in [1u8, 2, 3] {
            let k = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
            let mut bits = vec![0];
            bits.extend_from_slice(k.verifying_key().as_bytes());
            let spki = seq(&[&seq(&[&oid("1.3.101.112")]), &tlv(0x03, &bits)]);
            out.push(Key { signer: Signer::Ed25519(k), spki });
        }
        let k = p256::ecdsa::SigningKey::from_bytes(&[4u8; 32].into()).expect("constant P-256 key");
        let mut bits = vec![0];
        bits.extend_from_slice(k.verifying_key().to_encoded_point(false).as_bytes());
        let alg = seq(&[&oid("1.2.840.10045.2.1"), &oid("1.2.840.10045.3.1.7")]);
        out.push(Key { signer: Signer::P256(k), spki: seq(&[&alg, &tlv(0x03, &bits)]) });
        out
    })
}

impl Key {
    fn is_ed25519(&self) -> bool {
        matches!(self.signer, Signer::Ed25519(_))
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.signer {
            Signer::Ed25519(k) => ed25519_dalek::Signer::sign(k, message).to_bytes().to_vec(),
            Signer::P256(k) => {
                let sig: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(k, message);
                sig.to_der().as_bytes().to_vec()
            }
        }
    }
}

fn algorithm(ed25519: bool) -> Vec<u8> {
    if ed25519 {
        seq(&[&oid("1.3.101.112")])
    } else {
        seq(&[&oid("1.2.840.10045.4.3.2")])
    }
}

// ---------------------------------------------------------------------------------------
// DER, by hand.

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn oid(dotted: &str) -> Vec<u8> {
    ObjectIdentifier::new_unwrap(dotted).to_der().expect("an OID encodes")
}

/// A canonical positive INTEGER's content for this magnitude.
fn positive_integer(magnitude: &[u8]) -> Vec<u8> {
    let stripped: Vec<u8> = magnitude.iter().copied().skip_while(|b| *b == 0).collect();
    match stripped.first() {
        None => vec![0],
        Some(b) if *b >= 0x80 => [&[0u8][..], &stripped].concat(),
        Some(_) => stripped,
    }
}

/// (year, month, day, hour, minute, second) of a Unix time, read from certgate's RFC 3339
/// text (the decoder the oracles check is x509-cert's, not this).
fn civil(t: i64) -> (i64, i64, i64, i64, i64, i64) {
    let text = certgate::internals::rfc3339(t);
    let field = |r: std::ops::Range<usize>| text[r].parse::<i64>().unwrap_or(0);
    (field(0..4), field(5..7), field(8..10), field(11..13), field(14..16), field(17..19))
}

/// UTCTime for 1950 to 2049 unless `generalized`, else GeneralizedTime. `t` is already
/// within [`MIN_TIME`, `MAX_TIME`], so the encoding says exactly `t`.
fn encode_time(t: i64, generalized: bool) -> Vec<u8> {
    let (y, mo, d, h, mi, s) = civil(t);
    if !generalized && (1950..=2049).contains(&y) {
        tlv(0x17, format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100).as_bytes())
    } else {
        tlv(0x18, format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z").as_bytes())
    }
}

fn resolve_time(spec: TimeSpec, default: i64) -> i64 {
    let t = match spec {
        TimeSpec::Default => default,
        TimeSpec::NearNow(s) => NOW + i64::from(s),
        TimeSpec::Minutes(m) => NOW + 60 * i64::from(m),
        TimeSpec::Days(d) => NOW + DAY * i64::from(d),
        TimeSpec::Absolute(t) => t,
        TimeSpec::Edge(edge, delta) => {
            let base = match edge {
                EdgeTime::LastUtcTime => 2_524_607_999,
                EdgeTime::FirstGeneralized => 2_524_608_000,
                EdgeTime::NoExpiry => MAX_TIME,
                EdgeTime::Epoch => 0,
                EdgeTime::FirstUtcTime => -631_152_000,
                EdgeTime::I32Max => i64::from(i32::MAX),
                EdgeTime::Y2000 => 946_684_800,
            };
            base.saturating_add(i64::from(delta))
        }
    };
    t.clamp(MIN_TIME, MAX_TIME)
}

fn is_printable(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b))
}

fn text(spec: &TextSpec, atoms: &[&str], default: &str) -> Option<String> {
    match spec {
        TextSpec::Default => Some(default.to_string()),
        TextSpec::Pick(i) => Some(pick(atoms, *i).to_string()),
        TextSpec::Custom(s) => Some(s.chars().take(32).collect()),
        TextSpec::Absent => None,
    }
}

/// A Name, and the commonName it carries.
fn build_name(spec: &NameSpec, index: usize) -> (Vec<u8>, Option<String>) {
    let cn = text(&spec.cn, &CN_ATOMS, DEFAULT_CN[index]);
    let o = spec.o.as_ref().and_then(|o| text(o, &O_ATOMS, "Example"));
    let atv = |oid_text: &str, value: &str| {
        let tag = if spec.printable && is_printable(value) { 0x13 } else { 0x0c };
        seq(&[&oid(oid_text), &tlv(tag, value.as_bytes())])
    };
    let mut atvs = Vec::new();
    if let Some(o) = &o {
        atvs.push(atv("2.5.4.10", o));
    }
    if let Some(cn) = &cn {
        atvs.push(atv("2.5.4.3", cn));
    }
    if spec.cn_first {
        atvs.reverse();
    }
    let rdns: Vec<u8> = if spec.multi_valued && atvs.len() > 1 {
        // DER SET OF: elements in ascending order of their encodings.
        let mut sorted = atvs.clone();
        sorted.sort();
        tlv(0x31, &sorted.concat())
    } else {
        atvs.iter().flat_map(|a| tlv(0x31, a)).collect()
    };
    (tlv(0x30, &rdns), cn)
}

fn extension(oid_text: &str, critical: bool, value: &[u8]) -> Vec<u8> {
    let flag: &[u8] = if critical { &[0x01, 0x01, 0xff] } else { &[] };
    seq(&[&oid(oid_text), flag, &tlv(0x04, value)])
}

fn key_usage_bits(bits: u16) -> Vec<u8> {
    let bits = bits & 0x1ff;
    if bits == 0 {
        return tlv(0x03, &[0]);
    }
    let mut bytes = [0u8; 2];
    let mut last = 0;
    for k in 0..9 {
        if bits >> k & 1 == 1 {
            bytes[k / 8] |= 0x80 >> (k % 8);
            last = k;
        }
    }
    let n = last / 8 + 1;
    let unused = 7 - (last % 8) as u8;
    let content = [&[unused][..], &bytes[..n]].concat();
    tlv(0x03, &content)
}

fn purpose_oid(p: Purpose) -> &'static str {
    match p {
        Purpose::ClientAuth => "1.3.6.1.5.5.7.3.2",
        Purpose::ServerAuth => "1.3.6.1.5.5.7.3.1",
        Purpose::CodeSigning => "1.3.6.1.5.5.7.3.3",
        Purpose::EmailProtection => "1.3.6.1.5.5.7.3.4",
        Purpose::Any => "2.5.29.37.0",
    }
}

// ---------------------------------------------------------------------------------------
// Building the certificates.

/// A built certificate and what the target knows about it.
struct Built {
    der: Vec<u8>,
    subject: Vec<u8>,
    issuer: Vec<u8>,
    key: usize,
    signer: usize,
    /// The signature is the signer's, over this TBS (not corrupted).
    signature_ok: bool,
    not_before: i64,
    not_after: i64,
    v3: bool,
    /// basicConstraints with cA=TRUE.
    ca: bool,
    /// The serialNumber INTEGER's content bytes.
    serial: Vec<u8>,
    cn: Option<String>,
    dns: Vec<String>,
    uris: Vec<String>,
    emails: Vec<String>,
    eku: Option<Vec<Purpose>>,
    digital_signature: Option<bool>,
}

impl Built {
    fn sha256(&self) -> [u8; 32] {
        Sha256::digest(&self.der).into()
    }

    /// Whether `issuer` validly signed this certificate: names match, the issuer's key
    /// made the signature, and the signature is intact.
    fn signed_by(&self, issuer: &Built) -> bool {
        self.signature_ok && self.issuer == issuer.subject && self.signer == issuer.key
    }

    /// The serial as a non-negative number's magnitude, if it is a canonical positive
    /// INTEGER.
    fn serial_magnitude(&self) -> Option<Vec<u8>> {
        let s = &self.serial;
        let canonical = !s.is_empty() && s[0] < 0x80 && !(s.len() > 1 && s[0] == 0 && s[1] < 0x80);
        canonical.then(|| positive_integer(s).into_iter().skip_while(|b| *b == 0).collect())
    }

    fn valid_within(&self, skew: i64) -> bool {
        self.not_before <= self.not_after && NOW + skew >= self.not_before && NOW - skew <= self.not_after
    }
}

fn key_of(specs: &[CertSpec], i: usize) -> usize {
    (usize::from(specs[i].key) + i) % keys().len()
}

fn build_all(specs: &[CertSpec], leaf: usize) -> Vec<Built> {
    let n = specs.len();
    let keys = keys();
    let names: Vec<(Vec<u8>, Option<String>)> =
        specs.iter().enumerate().map(|(i, s)| build_name(&s.subject, i)).collect();
    let mut out = Vec::with_capacity(n);
    for (i, spec) in specs.iter().enumerate() {
        let key = key_of(specs, i);
        let issuer_spec = match spec.issuer {
            IssuerSpec::Next if i + 1 < n => IssuerSpec::By((i + 1) as u8),
            IssuerSpec::Next => IssuerSpec::SelfSigned,
            other => other,
        };
        let (issuer, signer) = match issuer_spec {
            IssuerSpec::SelfSigned | IssuerSpec::Next => (names[i].0.clone(), key),
            IssuerSpec::By(j) => {
                let j = usize::from(j) % n;
                (names[j].0.clone(), key_of(specs, j))
            }
            IssuerSpec::NameWithKey { name_of, key } => {
                (names[usize::from(name_of) % n].0.clone(), usize::from(key) % keys.len())
            }
        };
        let is_leaf = i == leaf;
        let serial = match &spec.serial {
            SerialSpec::Default => vec![i as u8 + 1],
            SerialSpec::Canonical(m) => positive_integer(&m[..m.len().min(21)]),
            SerialSpec::Raw(r) => r[..r.len().min(22)].to_vec(),
            SerialSpec::HighBit(b) => vec![0, b | 0x80],
        };
        let not_before = resolve_time(spec.not_before, NOW - DAY);
        let not_after = resolve_time(spec.not_after, NOW + 365 * DAY);

        let mut dns = Vec::new();
        let mut uris = Vec::new();
        let mut emails = Vec::new();
        let mut san = Vec::new();
        for entry in spec.san.iter().take(4) {
            let (tag, value, list) = match entry {
                SanSpec::Dns(t) => (0x82, text(t, &DNS_ATOMS, "alice.example"), &mut dns),
                SanSpec::Uri(t) => (0x86, text(t, &URI_ATOMS, URI_ATOMS[0]), &mut uris),
                SanSpec::Email(t) => (0x81, text(t, &EMAIL_ATOMS, "alice@example.com"), &mut emails),
            };
            if let Some(value) = value {
                san.extend(tlv(tag, value.as_bytes()));
                list.push(value);
            }
        }

        let v3 = !spec.version1;
        let mut ca = false;
        let mut eku = None;
        let mut digital_signature = None;
        let mut extensions = Vec::new();
        if v3 {
            let bc = match spec.basic_constraints {
                BcSpec::Auto if is_leaf => None,
                BcSpec::Auto => Some((true, None, true)),
                BcSpec::Absent => None,
                BcSpec::Present { ca, path_len, critical } => Some((ca, path_len, critical)),
            };
            if let Some((is_ca, path_len, critical)) = bc {
                ca = is_ca;
                let flag: &[u8] = if is_ca { &[0x01, 0x01, 0xff] } else { &[] };
                let len = path_len.map(|p| tlv(0x02, &positive_integer(&[p]))).unwrap_or_default();
                extensions.push(extension("2.5.29.19", critical, &seq(&[flag, &len])));
            }
            let ku = match spec.key_usage {
                KuSpec::Auto if is_leaf => Some((0x001, true)),
                KuSpec::Auto => Some((0x060, true)),
                KuSpec::Absent => None,
                KuSpec::Bits { bits, critical } => Some((bits & 0x1ff, critical)),
            };
            if let Some((bits, critical)) = ku {
                digital_signature = Some(bits & 1 == 1);
                extensions.push(extension("2.5.29.15", critical, &key_usage_bits(bits)));
            }
            let purposes = match &spec.eku {
                EkuSpec::Auto if is_leaf => Some(vec![Purpose::ClientAuth]),
                EkuSpec::Auto | EkuSpec::Absent => None,
                EkuSpec::List(list) => Some(list.iter().take(4).copied().collect()),
            };
            if let Some(purposes) = &purposes {
                let oids: Vec<u8> = purposes.iter().flat_map(|p| oid(purpose_oid(*p))).collect();
                extensions.push(extension("2.5.29.37", false, &tlv(0x30, &oids)));
            }
            eku = purposes;
            if !san.is_empty() {
                extensions.push(extension("2.5.29.17", false, &tlv(0x30, &san)));
            }
        } else {
            dns.clear();
            uris.clear();
            emails.clear();
        }

        let signer_key = &keys[signer];
        let outer = algorithm(signer_key.is_ed25519());
        let inner = if spec.tbs_algorithm_mismatch { algorithm(!signer_key.is_ed25519()) } else { outer.clone() };
        let version = if v3 { tlv(0xa0, &[0x02, 0x01, 0x02]) } else { Vec::new() };
        let validity = seq(&[
            &encode_time(not_before, spec.not_before_generalized),
            &encode_time(not_after, spec.not_after_generalized),
        ]);
        let exts = if extensions.is_empty() { Vec::new() } else { tlv(0xa3, &tlv(0x30, &extensions.concat())) };
        let tbs =
            seq(&[&version, &tlv(0x02, &serial), &inner, &issuer, &validity, &names[i].0, &keys[key].spki, &exts]);
        let mut signature = signer_key.sign(&tbs);
        if spec.corrupt_signature {
            if let Some(last) = signature.last_mut() {
                *last ^= 0x01;
            }
        }
        let bits = [&[0u8][..], &signature].concat();
        let der = seq(&[&tbs, &outer, &tlv(0x03, &bits)]);
        out.push(Built {
            der,
            subject: names[i].0.clone(),
            issuer,
            key,
            signer,
            signature_ok: !spec.corrupt_signature,
            not_before,
            not_after,
            v3,
            ca,
            serial,
            cn: names[i].1.clone(),
            dns,
            uris,
            emails,
            eku,
            digital_signature,
        });
    }
    out
}

/// A CRL issued in the name and with the key of `issuer`, listing `serials`.
fn build_crl(issuer: &Built, serials: &[&[u8]], next_update: i64, corrupt: bool) -> Vec<u8> {
    let key = &keys()[issuer.key];
    let alg = algorithm(key.is_ed25519());
    let revoked: Vec<u8> =
        serials.iter().flat_map(|s| seq(&[&tlv(0x02, s), &encode_time(NOW - 7200, false)])).collect();
    let revoked = if revoked.is_empty() { Vec::new() } else { tlv(0x30, &revoked) };
    let crl_number = extension("2.5.29.20", false, &tlv(0x02, &[1]));
    let tbs = seq(&[
        &[0x02, 0x01, 0x01],
        &alg,
        &issuer.subject,
        &encode_time(NOW - 3600, false),
        &encode_time(next_update, false),
        &revoked,
        &tlv(0xa0, &seq(&[&crl_number])),
    ]);
    let mut signature = key.sign(&tbs);
    if corrupt {
        if let Some(last) = signature.last_mut() {
            *last ^= 0x01;
        }
    }
    let bits = [&[0u8][..], &signature].concat();
    seq(&[&tbs, &alg, &tlv(0x03, &bits)])
}

// ---------------------------------------------------------------------------------------
// Header encodings, as each terminator writes them.

fn pem(der: &[u8], label: &str) -> String {
    let b64 = B64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn percent_encode(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(text.len() * 3 / 2);
    for b in text.bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn url_pem_envoy(der: &[u8]) -> String {
    percent_encode(&pem(der, "CERTIFICATE"), |b| !b"\n +/=".contains(&b))
}

const CERT_HEADER: &str = "x-client-cert";
const CHAIN_HEADER: &str = "x-client-cert-chain";

/// The header lines and the extraction variables for this encoding.
fn encode_headers(
    encoding: Encoding,
    explicit: bool,
    leaf: &Built,
    chain: &[&Built],
) -> (Vec<(String, Vec<u8>)>, Vec<(&'static str, String)>) {
    let all: Vec<&[u8]> = std::iter::once(leaf.der.as_slice()).chain(chain.iter().map(|c| c.der.as_slice())).collect();
    let bundle: String = all.iter().map(|d| pem(d, "CERTIFICATE")).collect();
    let (value, format) = match encoding {
        Encoding::Base64Der => (all.iter().map(|d| B64.encode(d)).collect::<Vec<_>>().join(","), "base64-der"),
        Encoding::Pem => (bundle, "pem"),
        Encoding::PemApache => (bundle.replace('\n', " ").trim_end().to_string(), "pem"),
        Encoding::UrlPemNginx => {
            (percent_encode(&bundle, |b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)), "url-pem")
        }
        Encoding::UrlPemAlb => {
            (percent_encode(&bundle, |b| b.is_ascii_alphanumeric() || b"-._~+=/".contains(&b)), "url-pem")
        }
        Encoding::Xfcc(style) => {
            // Envoy writes the subject as RFC 4514 text (taken here from the decoded
            // certificate when it decodes); control characters are not sent.
            let subject = ClientCertificate::from_der(&leaf.der)
                .map(|c| c.subject)
                .unwrap_or_else(|_| format!("CN={}", leaf.cn.as_deref().unwrap_or("")));
            let subject: String = subject.chars().filter(|c| !c.is_control()).collect();
            let quote = |v: &str| format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""));
            let mut v = format!(
                "By=spiffe://cluster.local/ns/default/sa/certgate;Hash={};Cert=\"{}\";Subject={}",
                hex::encode(leaf.sha256()),
                url_pem_envoy(&leaf.der),
                quote(&subject)
            );
            if !chain.is_empty() {
                let mut c = if style == XfccStyle::ChainWithoutLeaf { String::new() } else { url_pem_envoy(&leaf.der) };
                for cert in chain {
                    c.push_str(&url_pem_envoy(&cert.der));
                }
                v.push_str(&format!(";Chain=\"{c}\""));
            }
            let sans = leaf.uris.iter().take(1).map(|u| ("URI", u)).chain(leaf.dns.iter().map(|d| ("DNS", d)));
            for (key, value) in sans {
                match style {
                    XfccStyle::Envoy => v.push_str(&format!(";{key}={value}")),
                    XfccStyle::Quoted => v.push_str(&format!(";{key}={}", quote(value))),
                    XfccStyle::ChainWithoutLeaf => {}
                }
            }
            (v, "xfcc")
        }
        Encoding::Rfc9440 => (format!(":{}:", B64.encode(&leaf.der)), "rfc9440"),
    };
    let mut headers = vec![(CERT_HEADER.to_string(), value.into_bytes())];
    let mut vars = vec![(var::CERTIFICATE_HEADER, CERT_HEADER.to_string())];
    if encoding == Encoding::Rfc9440 {
        vars.push((var::CERTIFICATE_CHAIN_HEADER, CHAIN_HEADER.to_string()));
        if !chain.is_empty() {
            let list: Vec<String> = chain.iter().map(|c| format!(":{}:", B64.encode(&c.der))).collect();
            headers.push((CHAIN_HEADER.to_string(), list.join(", ").into_bytes()));
        }
    }
    if explicit {
        vars.push((var::CERTIFICATE_FORMAT, format.to_string()));
    }
    (headers, vars)
}

// ---------------------------------------------------------------------------------------
// Configurations and oracles.

/// What a configuration trusts, for the oracles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `trust_anchors` only (plus the listed extras); nothing pinned.
    Anchors { intermediates: bool, eku_required: bool },
    /// `allowed_thumbprints` = the leaf's.
    PinLeaf,
    /// `allowed_thumbprints` = the leaf's, `revoked` = the leaf's thumbprint.
    PinLeafRevoked,
    /// `allowed_key_pins` = the leaf's key.
    KeyPinLeaf,
    /// `allowed_thumbprints` = another certificate's.
    PinOther,
    /// `allowed_key_pins` = another certificate's key, and `trust_anchors` with
    /// `intermediates`.
    KeyPinOtherAndAnchors,
}

struct Scenario {
    label: &'static str,
    kind: Kind,
    vars: Vec<(&'static str, String)>,
    /// The denylist names this serial (magnitude).
    revoked_serial: Option<Vec<u8>>,
    crl: bool,
    names: bool,
    /// A pinned leaf that decodes, is inside its window and travels alone in a faithful
    /// header must be allowed.
    must_allow_valid: bool,
}

struct World<'a> {
    certs: &'a [Built],
    leaf: &'a Built,
    /// The certificates forwarded after the leaf.
    forwarded: Vec<usize>,
    /// The configured `intermediates`.
    intermediates: Vec<usize>,
    roots: Vec<usize>,
    other: usize,
    /// The CRL's issuer, the serials it lists, its nextUpdate.
    crl: (usize, Vec<Vec<u8>>, i64),
    rules: Vec<RuleSpec>,
    /// Whether the header carries the leaf alone, as a terminator would write it, with XFCC
    /// values that do not split the element. Then a pinned, valid, decodable leaf must pass.
    faithful: bool,
}

impl World<'_> {
    /// Whether some path leads from the leaf to a configured root, each certificate
    /// signed by the next, through CA certificates valid (within the skew) now.
    fn path_to_root(&self, with_intermediates: bool, skew: i64) -> bool {
        let mut usable: Vec<usize> = self.forwarded.clone();
        if with_intermediates {
            usable.extend(&self.intermediates);
        }
        let mut seen = vec![false; self.certs.len()];
        let mut frontier = vec![self.leaf];
        while let Some(current) = frontier.pop() {
            if self.roots.iter().any(|&r| current.signed_by(&self.certs[r])) {
                return true;
            }
            for &m in &usable {
                let c = &self.certs[m];
                if !seen[m] && c.v3 && c.ca && c.valid_within(skew) && current.signed_by(c) {
                    seen[m] = true;
                    frontier.push(c);
                }
            }
        }
        false
    }

    /// Whether some configured rule could match the leaf: its literal text appears, in
    /// any letter case, in a name of the rule's kind.
    fn a_rule_could_match(&self) -> bool {
        let leaf = self.leaf;
        let contains = |names: &[String], needle: &str| {
            let needle = needle.trim_end_matches('.').to_ascii_lowercase();
            names.iter().any(|n| n.to_ascii_lowercase().contains(&needle))
        };
        let cns: Vec<String> = leaf.cn.iter().cloned().collect();
        self.rules.iter().any(|rule| match *rule {
            RuleSpec::Cn(i) => cns.iter().any(|c| c == pick(&CN_RULES, i)),
            RuleSpec::Dns(i) => contains(&leaf.dns, pick(&DNS_RULES, i)),
            RuleSpec::DnsWildcard(i) => contains(&leaf.dns, pick(&WILDCARD_RULES, i)),
            RuleSpec::Email(i) => contains(&leaf.emails, pick(&EMAIL_RULES, i)),
            RuleSpec::Uri(i) => contains(&leaf.uris, pick(&URI_RULES, i)),
            RuleSpec::UriPrefix(i) => contains(&leaf.uris, pick(&URI_PREFIX_RULES, i)),
            RuleSpec::Spiffe(i) => contains(&leaf.uris, pick(&SPIFFE_RULES, i).trim_end_matches("/*")),
        })
    }
}

/// A SAN value that XFCC carries unchanged: non-empty, no control characters, and
/// unquoted, none of `,` `;` `"` nor white space at either end.
fn clean_xfcc_value(v: &str, quoted: bool) -> bool {
    !v.is_empty()
        && !v.chars().any(char::is_control)
        && (quoted || (!v.contains([',', ';', '"']) && v.trim_matches([' ', '\t']) == v))
}

fn rules_text(rules: &[RuleSpec]) -> String {
    rules
        .iter()
        .map(|r| match *r {
            RuleSpec::Cn(i) => format!("cn:{}", pick(&CN_RULES, i)),
            RuleSpec::Dns(i) => format!("dns:{}", pick(&DNS_RULES, i)),
            RuleSpec::DnsWildcard(i) => format!("dns:*.{}", pick(&WILDCARD_RULES, i)),
            RuleSpec::Email(i) => format!("email:{}", pick(&EMAIL_RULES, i)),
            RuleSpec::Uri(i) => format!("uri:{}", pick(&URI_RULES, i)),
            RuleSpec::UriPrefix(i) => format!("uri:{}*", pick(&URI_PREFIX_RULES, i)),
            RuleSpec::Spiffe(i) => pick(&SPIFFE_RULES, i).to_string(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `serial:0A:1B:…`, as `openssl x509 -serial` prints it (the magnitude, no sign byte).
fn serial_entry(magnitude: &[u8]) -> String {
    let m: &[u8] = if magnitude.is_empty() { &[0] } else { magnitude };
    format!("serial:{}", m.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":"))
}

fn pem_bundle(certs: &[Built], indices: &[usize]) -> String {
    indices.iter().map(|&i| pem(&certs[i].der, "CERTIFICATE")).collect()
}

/// Oracles on an allowed request.
fn check_allowed(scenario: &Scenario, world: &World<'_>, config: &Config, id: &Identity) {
    let label = scenario.label;
    let leaf = world.leaf;
    let skew = i64::try_from(config.clock_skew_seconds).unwrap_or(i64::MAX);
    // The identity is the certificate sent as the client's, never another from the list.
    assert_eq!(id.certificate.sha256, leaf.sha256(), "{label}: allowed identity is not the leaf");
    // Validity: an inverted window is valid at no time, skew or not; otherwise now is
    // within the window widened by the skew.
    assert!(
        leaf.not_before <= leaf.not_after,
        "{label}: allowed a certificate whose notBefore {} is after its notAfter {}",
        leaf.not_before,
        leaf.not_after
    );
    assert!(NOW + skew >= leaf.not_before && NOW - skew <= leaf.not_after, "{label}: allowed outside its validity");
    if let Some(revoked) = &scenario.revoked_serial {
        assert_ne!(leaf.serial_magnitude().as_ref(), Some(revoked), "{label}: allowed a serial on the denylist");
    }
    if scenario.crl {
        let (issuer, listed, next_update) = &world.crl;
        // The leaf's own issuer (its name and the key that signed the leaf) published this
        // CRL; a same-named CA with another key need not be believed.
        let crl_issuer = &world.certs[*issuer];
        if crl_issuer.subject == leaf.issuer && crl_issuer.key == leaf.signer {
            assert!(!listed.contains(&leaf.serial), "{label}: allowed a serial its issuer's CRL revokes");
            assert!(*next_update >= NOW, "{label}: allowed with its issuer's CRL stale (crl_when_stale = deny)");
        }
    }
    if scenario.names {
        assert!(world.a_rule_could_match(), "{label}: allowed with no name rule that could match: {:?}", world.rules);
    }
    let anchored = |with_intermediates: bool, eku_required: bool| {
        assert!(
            world.path_to_root(with_intermediates, skew),
            "{label}: trusted by an anchor with no validly signed path from the leaf to a configured root"
        );
        assert!(!leaf.ca, "{label}: a CA certificate accepted as the client's");
        assert_ne!(leaf.digital_signature, Some(false), "{label}: keyUsage without digitalSignature accepted");
        if eku_required {
            if let Some(eku) = &leaf.eku {
                assert!(
                    eku.contains(&Purpose::ClientAuth) || eku.contains(&Purpose::Any),
                    "{label}: EKU {eku:?} without clientAuth accepted"
                );
            }
        }
    };
    match (scenario.kind, &id.trusted_by) {
        (Kind::Anchors { intermediates, eku_required }, TrustedBy::Anchor(_)) => anchored(intermediates, eku_required),
        (Kind::PinLeaf | Kind::KeyPinLeaf, TrustedBy::Pin(_)) => {}
        (Kind::PinLeafRevoked, _) => panic!("{label}: allowed a pinned certificate whose thumbprint is revoked"),
        (Kind::PinOther, TrustedBy::Pin(_)) => {
            assert_eq!(leaf.der, world.certs[world.other].der, "{label}: allowed by another certificate's pin")
        }
        (Kind::KeyPinOtherAndAnchors, TrustedBy::Pin(_)) => {
            assert_eq!(leaf.key, world.certs[world.other].key, "{label}: allowed by another key's pin")
        }
        (Kind::KeyPinOtherAndAnchors, TrustedBy::Anchor(_)) => anchored(true, true),
        (kind, by) => panic!("{label}: {kind:?} configuration, but trusted by {by:?}"),
    }
}

/// The HTTP contract, and its agreement with the decision.
fn check_contract(
    scenario: &Scenario,
    request: Request,
    vars: &HashMap<String, String>,
    headers: &Vec<(String, Vec<u8>)>,
    decision: &Result<Result<Identity, Denial>, ()>,
) {
    let label = scenario.label;
    let (method, path) = match request {
        Request::GetValues => ("GET", "/api/values"),
        Request::GetWhoami => ("GET", "/api/whoami"),
        Request::HeadValues => ("HEAD", "/api/values"),
        Request::PostValues => ("POST", "/api/values"),
        Request::GetOther => ("GET", "/other?x=1"),
        Request::Healthz => ("GET", "/healthz"),
    };
    let outcome = handle(method, path, headers, vars, NOW);
    let status = outcome.response.status;
    assert!(matches!(status, 200 | 403 | 404 | 405 | 500 | 503), "{label}: status {status}");
    let body: Option<serde_json::Value> = (method != "HEAD").then(|| {
        serde_json::from_slice(&outcome.response.body).unwrap_or_else(|e| panic!("{label}: body is not JSON ({e})"))
    });
    if let Some(body) = &body {
        if status != 200 {
            assert!(body["reason"].is_string(), "{label}: {status} without a reason: {body}");
        }
    }
    let expected = match (request, decision) {
        (Request::Healthz, Ok(_)) => 200,
        (Request::Healthz, Err(())) => 503,
        (_, Err(())) => 500,
        (_, Ok(Err(denial))) => {
            if let Some(body) = &body {
                assert_eq!(body["reason"], denial.denied.reason().code(), "{label}: service and decision disagree");
            }
            denial.denied.reason().status()
        }
        (Request::GetValues | Request::GetWhoami | Request::HeadValues, Ok(Ok(id))) => {
            if let (Request::GetWhoami, Some(body)) = (request, &body) {
                assert_eq!(body["thumbprint_sha256"], id.certificate.sha256_hex(), "{label}: whoami");
            }
            200
        }
        (Request::PostValues, Ok(Ok(_))) => 405,
        (Request::GetOther, Ok(Ok(_))) => 404,
    };
    assert_eq!(status, expected, "{label}: service status {status}, decision says {expected}");
}

fn run_scenario(
    scenario: &Scenario,
    world: &World<'_>,
    base: &[(&'static str, String)],
    input: &Input,
    headers: &Vec<(String, Vec<u8>)>,
    with_contract: bool,
) {
    let vars: HashMap<String, String> =
        base.iter().chain(&scenario.vars).map(|(k, v)| (k.to_string(), v.clone())).collect();
    let config = Config::load(&vars);
    let decision = match &config {
        Ok(config) => Ok(authenticate(config, headers, NOW, &certgate::store::NoKeyValue)),
        Err(_) => Err(()),
    };
    if let (Ok(config), Ok(Ok(id))) = (&config, &decision) {
        check_allowed(scenario, world, config, id);
    }
    // A pinned leaf that decodes, is inside its window and travels in a header with no
    // inline chain to judge is allowed.
    if let (true, Ok(config)) = (scenario.must_allow_valid, &config) {
        let skew = i64::try_from(config.clock_skew_seconds).unwrap_or(i64::MAX);
        let decodes = |c: &Built| ClientCertificate::from_der(&c.der).is_ok();
        let chain_decodes = world.forwarded.iter().all(|&i| decodes(&world.certs[i]));
        if world.faithful && chain_decodes && decodes(world.leaf) && world.leaf.valid_within(skew) {
            if let Ok(Err(denial)) = &decision {
                panic!("{}: a pinned, valid leaf was refused: {:?}", scenario.label, denial.denied);
            }
        }
    }
    if with_contract {
        check_contract(scenario, input.request, &vars, headers, &decision);
    }
}

/// Whatever decodes says what was encoded.
fn check_decoding(c: &Built) {
    let Ok(d) = ClientCertificate::from_der(&c.der) else { return };
    assert_eq!(d.sha256, c.sha256());
    assert_eq!(d.spki_sha256, <[u8; 32]>::from(Sha256::digest(&keys()[c.key].spki)));
    assert_eq!((d.not_before, d.not_after), (c.not_before, c.not_after), "validity decoded differently");
    assert_eq!(d.dns_names, c.dns);
    assert_eq!(d.uris, c.uris);
    assert_eq!(d.emails, c.emails);
    assert_eq!(d.common_names, c.cn.iter().cloned().collect::<Vec<_>>());
    assert_eq!(d.digital_signature_allowed, c.digital_signature);
}

fn run(input: &Input) {
    let n = 1 + (usize::from(input.extra) + 2) % MAX_CERTS;
    let specs: Vec<CertSpec> = (0..n)
        .map(|i| {
            let given = input.specs.get(i);
            given.cloned().unwrap_or_else(|| {
                CertSpec::arbitrary(&mut arbitrary::Unstructured::new(&[])).expect("defaults from no bytes")
            })
        })
        .collect();
    let at = |i: u8| usize::from(i) % n;
    let leaf_index = at(input.leaf);
    let certs = build_all(&specs, leaf_index);
    for c in &certs {
        check_decoding(c);
    }
    let leaf = &certs[leaf_index];
    let forwarded: Vec<usize> = input.chain.iter().take(MAX_CHAIN).map(|&i| at(i)).collect();
    let mut roots: Vec<usize> = input.roots.iter().take(4).map(|&i| at(i)).collect();
    if roots.is_empty() {
        roots.push(n - 1);
    }
    let mut intermediates: Vec<usize> = input.intermediates.iter().take(4).map(|&i| at(i)).collect();
    if intermediates.is_empty() {
        intermediates = (0..n).filter(|i| *i != leaf_index && !roots.contains(i)).collect();
    }
    let other = (leaf_index + 1 + usize::from(input.other)) % n;
    let revoked_of = &certs[at(input.revoke_serial_of)];

    let crl_issuer = input.crl.issuer.map_or((leaf_index + 1) % n, at);
    let mut crl_listed: Vec<usize> = input.crl.revoke.iter().take(4).map(|&i| at(i)).collect();
    if crl_listed.is_empty() {
        crl_listed.push(leaf_index);
    }
    let crl_serials: Vec<&[u8]> = crl_listed.iter().map(|&i| certs[i].serial.as_slice()).collect();
    let next_update = resolve_time(input.crl.next_update, NOW + 7 * DAY);
    let crl = build_crl(&certs[crl_issuer], &crl_serials, next_update, input.crl.corrupt_signature);

    let chain: Vec<&Built> = forwarded.iter().map(|&i| &certs[i]).collect();
    let (headers, mut base) = encode_headers(input.encoding, input.explicit_format, leaf, &chain);
    match input.skew {
        Skew::Default => {}
        Skew::Zero => base.push((var::CLOCK_SKEW_SECONDS, "0".into())),
        Skew::Hour => base.push((var::CLOCK_SKEW_SECONDS, "3600".into())),
        Skew::Day => base.push((var::CLOCK_SKEW_SECONDS, "86400".into())),
    }
    let mut rules: Vec<RuleSpec> = input.names.iter().take(3).copied().collect();
    if rules.is_empty() {
        rules.push(RuleSpec::Cn(0));
    }
    let world = World {
        certs: &certs,
        leaf,
        forwarded,
        intermediates: intermediates.clone(),
        roots: roots.clone(),
        other,
        crl: (crl_issuer, crl_listed.iter().map(|&i| certs[i].serial.clone()).collect(), next_update),
        rules: rules.clone(),
        // Chains are left out: how strictly a forwarded chain is judged (order, repeated
        // subjects) is policy, not something this oracle can know.
        faithful: chain.is_empty()
            && match input.encoding {
                // Unquoted SAN values survive only without `,` `;` `"` and outer white space.
                Encoding::Xfcc(XfccStyle::Envoy) => {
                    leaf.uris.iter().take(1).chain(&leaf.dns).all(|v| clean_xfcc_value(v, false))
                }
                Encoding::Xfcc(XfccStyle::Quoted) => {
                    leaf.uris.iter().take(1).chain(&leaf.dns).all(|v| clean_xfcc_value(v, true))
                }
                _ => true,
            },
    };

    let anchors = pem_bundle(&certs, &roots);
    let inters = pem_bundle(&certs, &intermediates);
    let sha = |c: &Built| if input.sha1_pin { hex::encode(Sha1::digest(&c.der)) } else { hex::encode(c.sha256()) };
    let key_pin = |c: &Built| B64.encode(Sha256::digest(&keys()[c.key].spki));
    let revoked_thumbprint = if input.revoke_sha1 {
        hex::encode(Sha1::digest(&leaf.der))
    } else {
        format!("sha256:{}", hex::encode(leaf.sha256()))
    };
    let revoked_serial = revoked_of.serial_magnitude();
    let serial_var = revoked_serial.as_deref().map(serial_entry).unwrap_or_else(|| "serial:00".into());
    let empty = || (var::ALLOWED_THUMBPRINTS, String::new());
    let anchors_only = Kind::Anchors { intermediates: false, eku_required: true };
    let with_intermediates = Kind::Anchors { intermediates: true, eku_required: true };
    let scenario = |label, kind, vars| Scenario {
        label,
        kind,
        vars,
        revoked_serial: None,
        crl: false,
        names: false,
        must_allow_valid: false,
    };
    // Anchor configurations first: the chain code's panics show before any pin oracle.
    let scenarios = vec![
        scenario("anchors", anchors_only, vec![empty(), (var::TRUST_ANCHORS, anchors.clone())]),
        scenario(
            "anchors+intermediates",
            with_intermediates,
            vec![empty(), (var::TRUST_ANCHORS, anchors.clone()), (var::INTERMEDIATES, inters.clone())],
        ),
        scenario(
            "anchors+intermediates, any EKU",
            Kind::Anchors { intermediates: true, eku_required: false },
            vec![
                empty(),
                (var::TRUST_ANCHORS, anchors.clone()),
                (var::INTERMEDIATES, inters.clone()),
                (var::REQUIRE_CLIENT_AUTH_EKU, "false".into()),
            ],
        ),
        Scenario {
            revoked_serial: revoked_serial.clone(),
            ..scenario(
                "anchors+intermediates, serial revoked",
                with_intermediates,
                vec![
                    empty(),
                    (var::TRUST_ANCHORS, anchors.clone()),
                    (var::INTERMEDIATES, inters.clone()),
                    (var::REVOKED, serial_var.clone()),
                ],
            )
        },
        Scenario {
            crl: true,
            ..scenario(
                "anchors+intermediates+crls",
                with_intermediates,
                vec![
                    empty(),
                    (var::TRUST_ANCHORS, anchors.clone()),
                    (var::INTERMEDIATES, inters.clone()),
                    (var::CRLS, pem(&crl, "X509 CRL")),
                ],
            )
        },
        Scenario {
            names: true,
            ..scenario(
                "anchors+intermediates, allowed_names",
                with_intermediates,
                vec![
                    empty(),
                    (var::TRUST_ANCHORS, anchors.clone()),
                    (var::INTERMEDIATES, inters.clone()),
                    (var::ALLOWED_NAMES, rules_text(&rules)),
                ],
            )
        },
        scenario(
            "key pin of another certificate, and anchors+intermediates",
            Kind::KeyPinOtherAndAnchors,
            vec![
                (var::ALLOWED_KEY_PINS, key_pin(&certs[other])),
                (var::TRUST_ANCHORS, anchors.clone()),
                (var::INTERMEDIATES, inters.clone()),
            ],
        ),
        Scenario {
            must_allow_valid: true,
            ..scenario("thumbprint pin", Kind::PinLeaf, vec![(var::ALLOWED_THUMBPRINTS, sha(leaf))])
        },
        scenario(
            "thumbprint pin, thumbprint revoked",
            Kind::PinLeafRevoked,
            vec![(var::ALLOWED_THUMBPRINTS, sha(leaf)), (var::REVOKED, revoked_thumbprint)],
        ),
        Scenario {
            revoked_serial: revoked_serial.clone(),
            ..scenario(
                "thumbprint pin, serial revoked",
                Kind::PinLeaf,
                vec![(var::ALLOWED_THUMBPRINTS, sha(leaf)), (var::REVOKED, serial_var)],
            )
        },
        Scenario {
            names: true,
            ..scenario(
                "thumbprint pin, allowed_names",
                Kind::PinLeaf,
                vec![(var::ALLOWED_THUMBPRINTS, sha(leaf)), (var::ALLOWED_NAMES, rules_text(&rules))],
            )
        },
        scenario("key pin", Kind::KeyPinLeaf, vec![empty(), (var::ALLOWED_KEY_PINS, key_pin(leaf))]),
        scenario(
            "thumbprint pin of another certificate",
            Kind::PinOther,
            vec![(var::ALLOWED_THUMBPRINTS, sha(&certs[other]))],
        ),
    ];
    let contract = usize::from(input.contract) % scenarios.len();
    for (i, s) in scenarios.iter().enumerate() {
        run_scenario(s, &world, &base, input, &headers, i == contract);
    }
}

fuzz_target!(|input: Input| {
    run(&input);
});
