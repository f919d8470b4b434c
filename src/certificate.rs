//! Certificate decoding: the identity fields certgate reports and checks, from DER.

use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::time::Duration;

use x509_cert::der::asn1::{Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::{DateTime, Decode, Encode, Tag, Tagged};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{KeyUsage, KeyUsages, SubjectAltName};
use x509_cert::name::Name;
use x509_cert::Certificate;

use crate::reason::Reason;

/// The commonName attribute.
const COMMON_NAME: x509_cert::der::oid::ObjectIdentifier = x509_cert::der::oid::ObjectIdentifier::new_unwrap("2.5.4.3");

/// Why a forwarded certificate could not be decoded. Every case is `certificate_malformed`;
/// none carries bytes of the certificate (the DER library's error says where and which
/// ASN.1 production failed, see [`DerError`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateError {
    /// The bytes are not one DER X.509 certificate (bad encoding, trailing bytes).
    NotDer(DerError),
    /// The unsigned outer signatureAlgorithm differs from the signed one (RFC 5280 4.1.1.2).
    SignatureAlgorithmMismatch,
    /// The subjectAltName extension does not decode.
    SubjectAltName(DerError),
    /// The keyUsage extension does not decode.
    KeyUsage(DerError),
    /// The SubjectPublicKeyInfo does not re-encode.
    PublicKey(DerError),
    /// notBefore is after notAfter: a validity period that ends before it begins.
    ValidityInverted,
    /// Its public key is spelled so that it cannot be read in one canonical form (an EC
    /// key whose parameters are not a named curve, which RFC 5480 2.1.1 forbids; an RSA
    /// key that is not strict DER; unused bits; a compressed point certgate cannot
    /// decompress): what is wrong. Another reader could take the same key from it, so a
    /// revocation by key could not be matched.
    KeySpelling(&'static str),
    /// A part holds more than certgate reads of it (see [`limits`]): which part, and the
    /// limit. Real CAs stay far below; a certificate built to the header limit out of
    /// names or extensions would cost many times a normal request to decode.
    Oversized {
        /// What is too large: `"its subject Name"`, `"its subjectAltName"`, ...
        part: &'static str,
        /// What it may hold, in the words of the limit: `"32 RDNs"`.
        limit: &'static str,
    },
}

/// What certgate reads of a client certificate (and of every certificate forwarded with
/// it): a certificate with more is `certificate_malformed` before it is decoded, so no
/// certificate within the header limit costs more than a few normal ones. Far above what
/// real CAs write: a Name of a dozen RDNs and a few hundred bytes, a handful of names in
/// subjectAltName, ten or so extensions.
pub mod limits {
    /// RDNs in the issuer or the subject Name.
    pub const NAME_RDNS: usize = 32;
    /// Bytes of the issuer or the subject Name (DER, tag and length included).
    pub const NAME_BYTES: usize = 4096;
    /// Extensions.
    pub const EXTENSIONS: usize = 64;
    /// Names in subjectAltName.
    pub const SUBJECT_ALT_NAMES: usize = 128;
    /// Bytes of the subjectAltName extension's value.
    pub const SUBJECT_ALT_NAME_BYTES: usize = 8192;
    /// Members of one SET anywhere in the Names and extensions (the attributes of one RDN).
    pub const SET_MEMBERS: usize = 4;
    /// Members of all those SETs together (every RDN attribute of every Name the
    /// certificate carries, subjectAltName's directoryNames included).
    pub const ALL_SET_MEMBERS: usize = 64;
    /// DER values in the issuer, the subject and the extension values together.
    pub const NODES: usize = 1024;
    /// How deep the count looks into nested values (deeper ones are read as opaque).
    pub const NESTING: usize = 16;
    /// RDN attributes (SET members) in all the certificates one request decodes together:
    /// the client certificate, its forwarded chain, and the earlier elements of an XFCC
    /// value (counted apart).
    pub const REQUEST_SET_MEMBERS: usize = 96;
    /// DER values in all their Names and extensions together.
    pub const REQUEST_NODES: usize = 2048;
}

impl CertificateError {
    /// The stable reason code: always [`Reason::CertificateMalformed`].
    pub fn reason(&self) -> Reason {
        Reason::CertificateMalformed
    }

    /// What the client is told: fixed text about the request, never about configuration.
    pub fn public_detail(&self) -> &'static str {
        match self {
            CertificateError::ValidityInverted => "the certificate's validity period ends before it begins",
            _ => self.reason().public_detail(),
        }
    }
}

impl std::fmt::Display for CertificateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertificateError::NotDer(e) => write!(f, "not a DER X.509 certificate: {e}"),
            CertificateError::SignatureAlgorithmMismatch => {
                f.write_str("the certificate's signatureAlgorithm differs from its signed one")
            }
            CertificateError::SubjectAltName(e) => write!(f, "invalid subjectAltName extension: {e}"),
            CertificateError::KeyUsage(e) => write!(f, "invalid keyUsage extension: {e}"),
            CertificateError::PublicKey(e) => write!(f, "invalid public key: {e}"),
            CertificateError::ValidityInverted => f.write_str("the certificate's notBefore is after its notAfter"),
            CertificateError::KeySpelling(what) => {
                write!(f, "the certificate's public key cannot be read in one canonical form: {what}")
            }
            CertificateError::Oversized { part, limit } => {
                write!(f, "{part} holds more than certgate reads ({limit})")
            }
        }
    }
}

impl std::error::Error for CertificateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CertificateError::NotDer(e)
            | CertificateError::SubjectAltName(e)
            | CertificateError::KeyUsage(e)
            | CertificateError::PublicKey(e) => Some(e),
            _ => None,
        }
    }
}

/// The DER decoder's error: which ASN.1 production failed and at which byte offset. It
/// names tags and lengths, not content; the one exception is an unknown tag octet, which
/// it prints in hex (`unknown/unsupported ASN.1 DER tag: 0x1f`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DerError(x509_cert::der::Error);

impl From<x509_cert::der::Error> for DerError {
    fn from(e: x509_cert::der::Error) -> Self {
        DerError(e)
    }
}

impl std::fmt::Display for DerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DerError {}

/// A decoded client certificate: what the policy looks at and what `whoami` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCertificate {
    /// SHA-1 of the certificate's DER (the thumbprint Windows and Azure show).
    pub sha1: [u8; 20],
    /// SHA-256 of the certificate's DER.
    pub sha256: [u8; 32],
    /// SHA-256 of the DER SubjectPublicKeyInfo as signed (what key pins match).
    pub spki_sha256: [u8; 32],
    /// SHA-256 of the key's canonical SubjectPublicKeyInfo (an uncompressed point, RSA's
    /// NULL parameters): the same as `spki_sha256` unless the certificate spells its key
    /// another way. A revocation by key matches either (see `key_identity`).
    pub key_sha256_canonical: [u8; 32],
    /// RFC 4514 string form.
    pub subject: String,
    /// The issuer's distinguished name, RFC 4514 string form.
    pub issuer: String,
    /// SHA-256 of the issuer Name's DER (the whole SEQUENCE, tag and length included): what
    /// a key-value store's revocations by issuer and serial are keyed by.
    pub issuer_sha256: [u8; 32],
    /// The subject's commonName values, decoded (`#`-hex for a string type not read).
    pub common_names: Vec<String>,
    /// The serial number as an unsigned big-endian integer, leading zero bytes stripped
    /// (`serial_magnitude`): what denylist entries and CRL entries are compared with.
    pub serial: Vec<u8>,
    /// Lowercase hex of the serial's DER content bytes, as the certificate carries it
    /// (with the 0x00 sign byte a serial of 0x80 or more has): what `whoami` reports.
    pub serial_hex: String,
    /// notBefore, Unix seconds.
    pub not_before: i64,
    /// notAfter, Unix seconds.
    pub not_after: i64,
    /// subjectAltName dNSName entries, in certificate order.
    pub dns_names: Vec<String>,
    /// subjectAltName uniformResourceIdentifier entries, in certificate order.
    pub uris: Vec<String>,
    /// subjectAltName rfc822Name (email) entries, in certificate order.
    pub emails: Vec<String>,
    /// `Some(allowed)` when a keyUsage extension is present: whether it allows
    /// digitalSignature (what a TLS client certificate signs with).
    pub digital_signature_allowed: Option<bool>,
}

pub(crate) fn unix_seconds(t: &x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

fn attribute_text(value: &x509_cert::der::Any) -> Option<String> {
    value
        .decode_as::<Utf8StringRef<'_>>()
        .map(|s| s.as_str().to_string())
        .or_else(|_| value.decode_as::<PrintableStringRef<'_>>().map(|s| s.as_str().to_string()))
        .or_else(|_| value.decode_as::<Ia5StringRef<'_>>().map(|s| s.as_str().to_string()))
        .ok()
}

/// Attribute types seen in certificate names, with the name x509-cert's `Display` prints for
/// them (the OID database's shortest name, upper-cased; a test checks each against the
/// database). The database itself is not linked: scanning it per attribute was a tenth of
/// the guest's work per request, and its ~190 KB of tables were copied back into every
/// instance's memory.
const ATTRIBUTE_NAMES: [(ObjectIdentifier, &str); 21] = [
    (ObjectIdentifier::new_unwrap("2.5.4.3"), "CN"),
    (ObjectIdentifier::new_unwrap("2.5.4.4"), "SN"),
    (ObjectIdentifier::new_unwrap("2.5.4.5"), "SERIALNUMBER"),
    (ObjectIdentifier::new_unwrap("2.5.4.6"), "C"),
    (ObjectIdentifier::new_unwrap("2.5.4.7"), "L"),
    (ObjectIdentifier::new_unwrap("2.5.4.8"), "ST"),
    (ObjectIdentifier::new_unwrap("2.5.4.9"), "STREET"),
    (ObjectIdentifier::new_unwrap("2.5.4.10"), "O"),
    (ObjectIdentifier::new_unwrap("2.5.4.11"), "OU"),
    (ObjectIdentifier::new_unwrap("2.5.4.12"), "TITLE"),
    (ObjectIdentifier::new_unwrap("2.5.4.15"), "BUSINESSCATEGORY"),
    (ObjectIdentifier::new_unwrap("2.5.4.17"), "POSTALCODE"),
    (ObjectIdentifier::new_unwrap("2.5.4.41"), "NAME"),
    (ObjectIdentifier::new_unwrap("2.5.4.42"), "GN"),
    (ObjectIdentifier::new_unwrap("2.5.4.43"), "INITIALS"),
    (ObjectIdentifier::new_unwrap("2.5.4.44"), "GENERATIONQUALIFIER"),
    (ObjectIdentifier::new_unwrap("2.5.4.46"), "DNQUALIFIER"),
    (ObjectIdentifier::new_unwrap("2.5.4.65"), "PSEUDONYM"),
    (ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.1"), "UID"),
    (ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.25"), "DC"),
    (ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1"), "EMAIL"),
];

fn attribute_name(oid: &ObjectIdentifier) -> Option<&'static str> {
    ATTRIBUTE_NAMES.iter().find(|(known, _)| known == oid).map(|(_, name)| *name)
}

/// A distinguished name as RFC 4514 text, most significant RDN last. For the attribute
/// types above this is the same text as x509-cert's `Display` (same names and escapes);
/// other types are written as RFC 4514 §2.4 says, dotted OID and `#` hex of the value.
pub(crate) fn name_text(name: &Name) -> String {
    let mut out = String::new();
    for (i, rdn) in name.0.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.0.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let value: Option<&str> = match atv.value.tag() {
                Tag::PrintableString => PrintableStringRef::try_from(&atv.value).ok().map(|s| s.as_str()),
                Tag::Utf8String => Utf8StringRef::try_from(&atv.value).ok().map(|s| s.as_str()),
                Tag::Ia5String => Ia5StringRef::try_from(&atv.value).ok().map(|s| s.as_str()),
                Tag::TeletexString => TeletexStringRef::try_from(&atv.value).ok().map(|s| s.as_str()),
                _ => None,
            };
            match (attribute_name(&atv.oid), value) {
                (Some(key), Some(value)) => {
                    out.push_str(key);
                    out.push('=');
                    let mut chars = value.char_indices().peekable();
                    while let Some((k, c)) = chars.next() {
                        match c {
                            '#' if k == 0 => out.push_str("\\#"),
                            ' ' if k == 0 || chars.peek().is_none() => out.push_str("\\ "),
                            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                                out.push('\\');
                                out.push(c);
                            }
                            '\x00'..='\x1f' | '\x7f' => {
                                let _ = write!(out, "\\{:02x}", c as u8);
                            }
                            _ => out.push(c),
                        }
                    }
                }
                _ => {
                    let _ = write!(out, "{}=#", atv.oid);
                    // An attribute value re-encodes: it was decoded from DER moments ago.
                    for b in atv.value.to_der().unwrap_or_default() {
                        let _ = write!(out, "{b:02x}");
                    }
                }
            }
        }
    }
    out
}

impl ClientCertificate {
    /// Decode and summarise a DER certificate. Trailing bytes, bad encodings and
    /// undecodable subjectAltName or keyUsage extensions are refused as malformed.
    pub fn from_der(der: &[u8]) -> Result<Self, CertificateError> {
        Self::from_der_within(der, &mut DecodeBudget::default())
    }

    /// [`from_der`](Self::from_der), counting what the certificate holds against what the
    /// request's certificates may hold together.
    pub fn from_der_within(der: &[u8], budget: &mut DecodeBudget) -> Result<Self, CertificateError> {
        check_sizes(der, budget)?;
        let cert = Certificate::from_der(der).map_err(|e| CertificateError::NotDer(e.into()))?;
        let tbs = &cert.tbs_certificate;
        let validity = &tbs.validity;
        // The outer signatureAlgorithm is not signed: one that differs from the signed one
        // (RFC 5280 4.1.1.2) would let anyone re-encode a certificate into another DER, with
        // other thumbprints, that still verifies where only one of the two is read.
        if cert.signature_algorithm != tbs.signature {
            return Err(CertificateError::SignatureAlgorithmMismatch);
        }

        let mut dns_names = Vec::new();
        let mut uris = Vec::new();
        let mut emails = Vec::new();
        let san = tbs.get::<SubjectAltName>().map_err(|e| CertificateError::SubjectAltName(e.into()))?;
        if let Some((_, SubjectAltName(names))) = san {
            for name in names {
                match name {
                    GeneralName::DnsName(s) => dns_names.push(s.to_string()),
                    GeneralName::UniformResourceIdentifier(s) => uris.push(s.to_string()),
                    GeneralName::Rfc822Name(s) => emails.push(s.to_string()),
                    _ => {}
                }
            }
        }
        let key_usage = tbs.get::<KeyUsage>().map_err(|e| CertificateError::KeyUsage(e.into()))?;
        let digital_signature_allowed =
            key_usage.map(|(_, KeyUsage(flags))| flags.contains(KeyUsages::DigitalSignature));
        // Every CN attribute, in order; one whose string type is not read is kept as `#`
        // and its DER hex, so it still counts (a `cn:` rule needs exactly one CN).
        let common_names = tbs
            .subject
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .filter(|atv| atv.oid == COMMON_NAME)
            .map(|atv| {
                attribute_text(&atv.value)
                    .unwrap_or_else(|| format!("#{}", hex::encode(atv.value.to_der().unwrap_or_default())))
            })
            .collect();
        let serial_der = tbs.serial_number.as_bytes();
        // The issuer and the key as signed, not re-encoded (see `signed_fields`).
        let signed = signed_fields(der).ok_or_else(|| {
            CertificateError::NotDer(DerError(x509_cert::der::Error::from(x509_cert::der::ErrorKind::Failed)))
        })?;
        let (spki, issuer_der) = (signed.spki, signed.issuer);
        let key_sha256_canonical = crate::key_identity::canonical_sha256(spki).map_err(|problem| match problem {
            crate::key_identity::KeyProblem::CurveNotNamed => {
                CertificateError::KeySpelling("its EC parameters are not a named curve (RFC 5480)")
            }
            crate::key_identity::KeyProblem::Unreadable(what) => CertificateError::KeySpelling(what),
        })?;
        let not_before = unix_seconds(&validity.not_before);
        let not_after = unix_seconds(&validity.not_after);
        if not_before > not_after {
            return Err(CertificateError::ValidityInverted);
        }

        Ok(ClientCertificate {
            sha1: Sha1::digest(der).into(),
            sha256: Sha256::digest(der).into(),
            spki_sha256: Sha256::digest(spki).into(),
            key_sha256_canonical,
            subject: name_text(&tbs.subject),
            issuer: name_text(&tbs.issuer),
            issuer_sha256: Sha256::digest(issuer_der).into(),
            common_names,
            serial_hex: hex::encode(serial_der),
            serial: serial_magnitude(serial_der),
            not_before,
            not_after,
            dns_names,
            uris,
            emails,
            digital_signature_allowed,
        })
    }

    /// [`sha1`](Self::sha1) as 40 lowercase hex digits.
    pub fn sha1_hex(&self) -> String {
        hex::encode(self.sha1)
    }

    /// The digests a revocation by key is compared with: the key as signed and, when the
    /// certificate spells it otherwise, its canonical form.
    pub fn key_digests(&self) -> impl Iterator<Item = &[u8; 32]> {
        let other = (self.key_sha256_canonical != self.spki_sha256).then_some(&self.key_sha256_canonical);
        std::iter::once(&self.spki_sha256).chain(other)
    }

    /// [`sha256`](Self::sha256) as 64 lowercase hex digits.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
}

/// The issuer Name's DER exactly as a CRL carries it: the third field of its signed part
/// (after an optional version). Taken from the bytes, never re-encoded: a decoder re-sorts
/// a SET OF written out of order, and the signed bytes are what every other part of
/// certgate compares (see [`signed_fields`] for a certificate's).
pub(crate) fn raw_crl_issuer(der: &[u8]) -> Option<&[u8]> {
    use x509_cert::der::Reader;
    let issuer = signed_part_fields(der, 0x02, |r| {
        // The signature algorithm, then the issuer.
        r.tlv_bytes()?;
        r.tlv_bytes()
    })?;
    (issuer.first() == Some(&0x30)).then_some(issuer)
}

/// Read the fields of a signed structure's signed part (a certificate's tbsCertificate, a
/// CRL's tbsCertList) with `fields`, after its optional first field (`first_optional`
/// tag: the version) and, for a certificate, its serial; what follows is not read. `None`
/// when the bytes are not shaped so.
fn signed_part_fields<'a, T>(
    der: &'a [u8],
    first_optional: u8,
    fields: impl FnOnce(&mut x509_cert::der::SliceReader<'a>) -> Result<T, x509_cert::der::Error>,
) -> Option<T> {
    use x509_cert::der::{Header, Reader, SliceReader};
    let mut signed = SliceReader::new(der).ok()?;
    let tbs = signed
        .sequence(|r| {
            let tbs = r.tlv_bytes()?;
            r.read_slice(r.remaining_len())?;
            Ok(tbs)
        })
        .ok()?;
    let mut outer = SliceReader::new(tbs).ok()?;
    let header = Header::decode(&mut outer).ok()?;
    if header.tag != Tag::Sequence {
        return None;
    }
    let mut r = SliceReader::new(outer.read_slice(header.length).ok()?).ok()?;
    if r.peek_byte() == Some(first_optional) {
        r.tlv_bytes().ok()?;
    }
    if first_optional == 0xa0 {
        // A certificate's serial number.
        r.tlv_bytes().ok()?;
    }
    fields(&mut r).ok()
}

/// The issuer Name, subject Name and SubjectPublicKeyInfo of a DER certificate, each a
/// whole TLV exactly as signed, never re-encoded (a decoder re-sorts a SET OF written out
/// of order): what names are compared by, as rustls-webpki compares them.
pub(crate) struct SignedFields<'a> {
    pub issuer: &'a [u8],
    pub subject: &'a [u8],
    pub spki: &'a [u8],
}

/// Whether the parts of a DER certificate are within [`limits`], read from the bytes
/// without decoding them (counting TLVs), so an oversized one costs a walk over its bytes.
/// Bytes not shaped as a certificate pass: the decoder says what is wrong with them.
fn check_sizes(der: &[u8], request: &mut DecodeBudget) -> Result<(), CertificateError> {
    let mut budget = Budget::default();
    check_certificate_sizes(der, &mut budget)?;
    request.nodes += budget.nodes;
    request.set_members += budget.set_members;
    let oversized = |limit| Err(CertificateError::Oversized { part: "the request's certificates together", limit });
    if request.set_members > limits::REQUEST_SET_MEMBERS {
        return oversized("96 RDN attributes");
    }
    if request.nodes > limits::REQUEST_NODES {
        return oversized("2048 DER values in their Names and extensions");
    }
    Ok(())
}

/// What the certificates one request decodes may hold together ([`limits`]'s `REQUEST_`
/// limits): each is bounded on its own, and a forwarded chain (or the earlier elements of
/// an XFCC value) may not add up to many times one certificate. One per request, passed
/// to [`ClientCertificate::from_der_within`] for every certificate it decodes.
#[derive(Debug, Default)]
pub struct DecodeBudget {
    nodes: usize,
    set_members: usize,
}

fn check_certificate_sizes(der: &[u8], budget: &mut Budget) -> Result<(), CertificateError> {
    use x509_cert::der::Reader;
    const SAN: &[u8] = &[0x06, 0x03, 0x55, 0x1d, 0x11];
    let parts = signed_part_fields(der, 0xa0, |r| {
        r.tlv_bytes()?;
        let issuer = r.tlv_bytes()?;
        r.tlv_bytes()?;
        let subject = r.tlv_bytes()?;
        r.tlv_bytes()?;
        Ok((issuer, subject, extensions_field(r)?))
    });
    let Some((issuer, subject, extensions)) = parts else { return Ok(()) };
    let oversized = |part, limit| Err(CertificateError::Oversized { part, limit });
    for (part, name) in [("its issuer Name", issuer), ("its subject Name", subject)] {
        if name.len() > limits::NAME_BYTES {
            return oversized(part, "4096 bytes");
        }
        if tlv_content(name)
            .and_then(|rdns| tlv_count_past(rdns, limits::NAME_RDNS))
            .is_some_and(|n| n > limits::NAME_RDNS)
        {
            return oversized(part, "32 RDNs");
        }
        budget.walk(name, 0).map_err(|limit| CertificateError::Oversized { part, limit })?;
    }
    // [3] { SEQUENCE OF Extension }
    let Some(list) = extensions.and_then(tlv_content).and_then(tlv_content) else { return Ok(()) };
    if tlv_count_past(list, limits::EXTENSIONS).is_some_and(|n| n > limits::EXTENSIONS) {
        return oversized("its extensions", "64 extensions");
    }
    let mut rest = list;
    while let Some((extension, after)) = split_tlv(rest) {
        rest = after;
        let Some(fields) = tlv_content(extension) else { break };
        // extnID, critical (optional), extnValue OCTET STRING { the extension's DER }
        let mut inner = fields;
        while let Some((field, after)) = split_tlv(inner) {
            inner = after;
            if field.first() != Some(&0x04) {
                continue;
            }
            let Some(value) = tlv_content(field) else { continue };
            if fields.starts_with(SAN) {
                if value.len() > limits::SUBJECT_ALT_NAME_BYTES {
                    return oversized("its subjectAltName", "8192 bytes");
                }
                if tlv_content(value)
                    .and_then(|names| tlv_count_past(names, limits::SUBJECT_ALT_NAMES))
                    .is_some_and(|n| n > limits::SUBJECT_ALT_NAMES)
                {
                    return oversized("its subjectAltName", "128 names");
                }
            }
            budget.walk(value, 0).map_err(|limit| CertificateError::Oversized { part: "its extensions", limit })?;
        }
    }
    Ok(())
}

/// What a certificate's Names and extension values may hold in all, counted over their
/// DER: the decoder sorts every SET OF it reads (an RDN's attributes) by insertion, so one
/// written in reverse order costs the square of its size; and each value it reads costs
/// an allocation or more.
#[derive(Default)]
struct Budget {
    /// TLVs seen.
    nodes: usize,
    /// Members of SETs seen (an RDN's attributes, wherever a Name is: the issuer, the
    /// subject, a directoryName in subjectAltName, a distribution point's name).
    set_members: usize,
}

impl Budget {
    /// Count the TLVs of `bytes` and, down to [`limits::NESTING`], of everything constructed
    /// in them; `Err` with the limit passed. Bytes that are not TLVs end the walk there
    /// (they are not DER the decoder would read as such).
    fn walk(&mut self, mut bytes: &[u8], depth: usize) -> Result<(), &'static str> {
        while let Some((tlv, rest)) = split_tlv(bytes) {
            bytes = rest;
            self.nodes += 1;
            if self.nodes > limits::NODES {
                return Err("1024 DER values in its Names and extensions");
            }
            let constructed = tlv[0] & 0x20 != 0;
            let Some(content) = tlv_content(tlv) else { return Ok(()) };
            if !constructed || depth == limits::NESTING {
                continue;
            }
            if tlv[0] == 0x31 {
                let members = tlv_count_past(content, limits::SET_MEMBERS).unwrap_or(0);
                if members > limits::SET_MEMBERS {
                    return Err("4 members in one SET (attributes in one RDN)");
                }
                self.set_members += members;
                if self.set_members > limits::ALL_SET_MEMBERS {
                    return Err("64 SET members (RDN attributes) in all");
                }
            }
            self.walk(content, depth + 1)?;
        }
        Ok(())
    }
}

/// The value (the content of extnValue) of the extension of a DER certificate whose extnID
/// TLV is `oid_tlv`, read from the bytes without decoding the certificate; `None` when it
/// has none, or is not shaped as a certificate.
pub(crate) fn extension_value<'a>(der: &'a [u8], oid_tlv: &[u8]) -> Option<&'a [u8]> {
    use x509_cert::der::Reader;
    let extensions = signed_part_fields(der, 0xa0, |r| {
        for _ in 0..5 {
            r.tlv_bytes()?;
        }
        extensions_field(r)
    })??;
    let mut rest = tlv_content(extensions).and_then(tlv_content)?;
    while let Some((extension, after)) = split_tlv(rest) {
        rest = after;
        let fields = tlv_content(extension)?;
        let Some(mut inner) = fields.strip_prefix(oid_tlv) else { continue };
        while let Some((field, after)) = split_tlv(inner) {
            inner = after;
            if field.first() == Some(&0x04) {
                return tlv_content(field);
            }
        }
        return None;
    }
    None
}

/// The rest of a tbsCertificate after its SubjectPublicKeyInfo: the `[3]` extensions field
/// when there is one (after the optional unique identifiers).
fn extensions_field<'a>(r: &mut x509_cert::der::SliceReader<'a>) -> Result<Option<&'a [u8]>, x509_cert::der::Error> {
    use x509_cert::der::Reader;
    let mut extensions = None;
    while !r.is_finished() {
        let field = r.tlv_bytes()?;
        if field.first() == Some(&0xa3) {
            extensions = Some(field);
        }
    }
    Ok(extensions)
}

/// The first DER TLV of `bytes` and what follows it; `None` when there is none.
fn split_tlv(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    use x509_cert::der::{Header, Reader, SliceReader};
    let mut reader = SliceReader::new(bytes).ok()?;
    let header = Header::decode(&mut reader).ok()?;
    let total = usize::try_from(reader.position()).ok()?.checked_add(usize::try_from(header.length).ok()?)?;
    (total <= bytes.len()).then(|| bytes.split_at(total))
}

/// The content of the single TLV `tlv`; `None` when it is not one.
fn tlv_content(tlv: &[u8]) -> Option<&[u8]> {
    use x509_cert::der::{Header, Reader, SliceReader};
    let mut reader = SliceReader::new(tlv).ok()?;
    let header = Header::decode(&mut reader).ok()?;
    let content = reader.read_slice(header.length).ok()?;
    reader.is_finished().then_some(content)
}

/// How many TLVs `bytes` holds one after another, counted up to one past `limit` (so a long
/// run costs no more than the limit); `None` when it does not hold whole ones.
fn tlv_count_past(mut bytes: &[u8], limit: usize) -> Option<usize> {
    let mut count = 0;
    while !bytes.is_empty() && count <= limit {
        bytes = split_tlv(bytes)?.1;
        count += 1;
    }
    Some(count)
}

/// [`SignedFields`] of a DER certificate; `None` when it is not shaped as one.
pub(crate) fn signed_fields(der: &[u8]) -> Option<SignedFields<'_>> {
    use x509_cert::der::Reader;
    let fields = signed_part_fields(der, 0xa0, |r| {
        // The signature algorithm, the issuer, the validity, the subject and its key.
        r.tlv_bytes()?;
        let issuer = r.tlv_bytes()?;
        r.tlv_bytes()?;
        let subject = r.tlv_bytes()?;
        let spki = r.tlv_bytes()?;
        Ok(SignedFields { issuer, subject, spki })
    })?;
    [fields.issuer, fields.subject, fields.spki].iter().all(|tlv| tlv.first() == Some(&0x30)).then_some(fields)
}

/// A serial number's DER content bytes (or any big-endian spelling of it) as an unsigned
/// integer with its leading zero bytes stripped, one byte at least. DER keeps a 0x00 sign
/// byte before a serial whose first byte is 0x80 or more and configuration spellings may
/// or may not carry it; comparing magnitudes makes them all the same number. A negative
/// serial (which RFC 5280 forbids but some CAs issued) compares by its bytes, so an entry
/// written as those bytes matches it.
pub(crate) fn serial_magnitude(bytes: &[u8]) -> Vec<u8> {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len().saturating_sub(1));
    bytes[first..].to_vec()
}

/// Parse an RFC 3339 UTC time (`2026-12-31T00:00:00Z`, fractional seconds and numeric
/// offsets accepted) into Unix seconds.
pub(crate) fn parse_rfc3339(text: &str) -> Option<i64> {
    let t = text.trim();
    let b = t.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(r)?;
        s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok()).flatten()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &t[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    // `[+-]HH:MM`, each field exactly two ASCII digits read by the same strict `num` as
    // the date (`str::parse` would take `+1` or `-5` as a field), within a day.
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.is_ascii() && &rest[3..4] == ":" => {
            let sign = match &rest[..1] {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let base = t.len() - 6;
            let (h, m) = (num(base + 1..base + 3)?, num(base + 4..base + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
        _ => return None,
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// RFC 3339 (UTC, seconds) for a Unix time; out-of-range values are clamped to the
/// range X.509 can express (0001-01-01 to 9999-12-31T23:59:59). The calendar is der's
/// `DateTime`, which starts at 1970: an earlier time is moved 2000 years on (five 400-year
/// Gregorian cycles, 146 097 days each, which repeat exactly) and its year moved back.
pub fn rfc3339(unix: i64) -> String {
    const TWO_THOUSAND_YEARS: i64 = 5 * 146_097 * 86_400;
    let secs = unix.clamp(-62_135_596_800, 253_402_300_799);
    let (secs, years_back) = if secs < 0 { (secs + TWO_THOUSAND_YEARS, 2000) } else { (secs, 0) };
    // In range by the clamp and the shift (1970 to 9999), so never the fallback.
    let t = DateTime::from_unix_duration(Duration::from_secs(secs.unsigned_abs())).unwrap_or(DateTime::INFINITY);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        i32::from(t.year()) - years_back,
        t.month(),
        t.day(),
        t.hour(),
        t.minutes(),
        t.seconds()
    )
}

#[cfg(test)]
impl ClientCertificate {
    /// A summary for policy tests that need no real DER: subject `CN=<cn>`, issuer `CN=ca`,
    /// serial 01, valid from 0 to 1, no SANs.
    pub(crate) fn for_tests(cn: &str) -> Self {
        ClientCertificate {
            sha1: [0; 20],
            sha256: [0; 32],
            spki_sha256: [0; 32],
            key_sha256_canonical: [0; 32],
            subject: format!("CN={cn}"),
            issuer: "CN=ca".into(),
            issuer_sha256: [0; 32],
            common_names: vec![cn.into()],
            serial: vec![1],
            serial_hex: "01".into(),
            not_before: 0,
            not_after: 1,
            dns_names: Vec::new(),
            uris: Vec::new(),
            emails: Vec::new(),
            digital_signature_allowed: None,
        }
    }
}

impl From<CertificateError> for crate::reason::Refusal {
    fn from(e: CertificateError) -> Self {
        crate::reason::Refusal { reason: e.reason(), detail: e.to_string(), public_detail: e.public_detail() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    /// A Name of `rdns` RDNs, each one CN of `value`.
    fn name_of(rdns: usize, value: &[u8]) -> certgate_testkit::reencode::Node {
        use certgate_testkit::reencode::Node;
        let cn = Node::Constructed(
            0x30,
            vec![Node::Primitive(0x06, vec![0x55, 0x04, 0x03]), Node::Primitive(0x0c, value.to_vec())],
        );
        Node::Constructed(0x30, vec![Node::Constructed(0x31, vec![cn]); rdns])
    }

    /// Every part [`limits`] bounds is read up to its limit and refused past it, before
    /// the certificate is decoded: the issuer and subject Names by RDNs and by bytes, the
    /// extensions and subjectAltName's names. A certificate built up to the header limit
    /// out of any of them cost 30 to 70 times a normal request to decode (found by a
    /// review; `cargo bench --bench decision -- large-certificate` measures what is left).
    #[test]
    fn certificates_past_the_limits_are_refused_before_they_are_decoded() {
        use certgate_testkit::reencode::with_names;
        use certgate_testkit::{Ca, LeafOptions};
        let ca = Ca::new("Limits CA");
        let key = &ca.certificate.key_pem;
        let leaf = ca.issue(&LeafOptions::named("device")).der;
        let oversized = |der: &[u8]| match ClientCertificate::from_der(der) {
            Err(CertificateError::Oversized { part, .. }) => Some(part),
            Err(other) => panic!("another error: {other}"),
            Ok(_) => None,
        };
        assert_eq!(oversized(&leaf), None);
        for (field, issuer, subject) in [("issuer", true, false), ("subject", false, true)] {
            let with = |name| {
                let name = Some(&name);
                with_names(&leaf, if issuer { name } else { None }, if subject { name } else { None }, key)
            };
            assert_eq!(oversized(&with(name_of(limits::NAME_RDNS, b"a"))), None, "{field}: 32 RDNs");
            let part = oversized(&with(name_of(limits::NAME_RDNS + 1, b"a"))).expect("33 RDNs");
            assert!(part.contains(field), "{part}");
            // One RDN just within the bytes (its DER 21 bytes more than its value), and one past them.
            let value = vec![b'a'; limits::NAME_BYTES - 21];
            assert_eq!(certgate_testkit::reencode::write(&name_of(1, &value)).len(), limits::NAME_BYTES);
            assert_eq!(oversized(&with(name_of(1, &value))), None, "{field}: 4096 bytes");
            assert!(oversized(&with(name_of(1, &[&value[..], b"a"].concat()))).is_some(), "{field}: 4097 bytes");
        }
        let extensions_of =
            |der: &[u8]| x509_cert::Certificate::from_der(der).unwrap().tbs_certificate.extensions.unwrap().len();
        let own = extensions_of(&leaf);
        let private = |i: usize| (vec![1, 3, 6, 1, 4, 1, 99999, 2, i as u64], vec![0x05, 0x00]);
        let mut options = LeafOptions::named("device");
        options.extensions = (0..limits::EXTENSIONS - own).map(private).collect();
        let at_limit = ca.issue(&options).der;
        assert_eq!(extensions_of(&at_limit), limits::EXTENSIONS);
        assert_eq!(oversized(&at_limit), None, "64 extensions");
        options.extensions.push(private(limits::EXTENSIONS));
        assert_eq!(oversized(&ca.issue(&options).der), Some("its extensions"));
        let mut options = LeafOptions::named("device");
        options.dns_names = (0..limits::SUBJECT_ALT_NAMES).map(|i| format!("h{i}.example")).collect();
        let names = ClientCertificate::from_der(&ca.issue(&options).der).expect("128 names").dns_names.len();
        assert_eq!(names, limits::SUBJECT_ALT_NAMES);
        options.dns_names.push("one-more.example".into());
        assert_eq!(oversized(&ca.issue(&options).der), Some("its subjectAltName"));
        let mut options = LeafOptions::named("device");
        options.dns_names = vec![format!("{}.example", "a".repeat(limits::SUBJECT_ALT_NAME_BYTES))];
        assert_eq!(oversized(&ca.issue(&options).der), Some("its subjectAltName"), "8 KiB of names");
    }

    /// `extension_value` reads from the bytes what x509-cert decodes: each extension's value
    /// by its extnID, critical or not, and nothing for one the certificate lacks.
    #[test]
    fn extension_values_read_from_the_bytes_are_the_decoders() {
        use certgate_testkit::{Ca, LeafOptions};
        let ca = Ca::new("Extensions CA");
        let mut options = LeafOptions::named("device").dns("device.example");
        options.extensions.push((vec![1, 3, 6, 1, 4, 1, 99999, 7], vec![0x04, 0x02, 0xab, 0xcd]));
        let der = ca.issue(&options).der;
        let decoded = Certificate::from_der(&der).unwrap();
        let extensions = decoded.tbs_certificate.extensions.unwrap();
        assert!(extensions.len() >= 3);
        for extension in &extensions {
            let oid = extension.extn_id.to_der().unwrap();
            assert_eq!(extension_value(&der, &oid), Some(extension.extn_value.as_bytes()), "{}", extension.extn_id);
        }
        let absent = ObjectIdentifier::new_unwrap("2.5.29.31").to_der().unwrap();
        assert_eq!(extension_value(&der, &absent), None);
        assert_eq!(extension_value(b"not a certificate", &absent), None);
    }

    /// The decoder sorts a SET OF (an RDN's attributes) by insertion, so one written in
    /// reverse order costs the square of its length: one RDN of 408 attributes within 4 KiB
    /// cost 820 times a normal request, and a directoryName in subjectAltName, which the
    /// Name limits did not reach, 12,900 times (found by a review). No SET may hold more
    /// than 4 members, nor all of them together more than 64, wherever a Name is.
    #[test]
    fn rdns_of_many_attributes_are_refused_wherever_a_name_is() {
        use certgate_testkit::reencode::{with_names, write, Node};
        use certgate_testkit::{Ca, LeafOptions};
        let ca = Ca::new("Limits CA");
        let key = &ca.certificate.key_pem;
        let leaf = ca.issue(&LeafOptions::named("device")).der;
        // One RDN of `n` attributes, in reverse order of their DER.
        let rdn = |n: usize| {
            let attributes = (0..n)
                .rev()
                .map(|i| {
                    Node::Constructed(
                        0x30,
                        vec![
                            Node::Primitive(0x06, vec![0x55, 0x04, 0x0b]),
                            Node::Primitive(0x0c, vec![b'a' + i as u8]),
                        ],
                    )
                })
                .collect();
            Node::Constructed(0x31, attributes)
        };
        let name = |rdns: Vec<Node>| Node::Constructed(0x30, rdns);
        let refused = |der: &[u8]| matches!(ClientCertificate::from_der(der), Err(CertificateError::Oversized { .. }));
        let most = name(vec![rdn(limits::SET_MEMBERS)]);
        let past = name(vec![rdn(limits::SET_MEMBERS + 1)]);
        assert!(!refused(&with_names(&leaf, Some(&most), None, key)), "4 attributes in one RDN");
        assert!(refused(&with_names(&leaf, Some(&past), None, key)), "5 in the issuer");
        assert!(refused(&with_names(&leaf, None, Some(&past), key)), "5 in the subject");
        // In subjectAltName: a directoryName ([4] Name) of such an RDN, and many small ones.
        let san = |names: Vec<Node>| {
            let mut options = LeafOptions::named("device");
            let general_names = names.into_iter().map(|n| Node::Constructed(0xa4, vec![n])).collect();
            options.extensions.push((vec![2, 5, 29, 17], write(&Node::Constructed(0x30, general_names))));
            ca.issue(&options).der
        };
        let one = san(vec![name(vec![rdn(2)])]);
        assert_eq!(ClientCertificate::from_der(&one).map(|_| ()), Ok(()), "a directoryName of two attributes");
        assert!(refused(&san(vec![past.clone()])), "5 attributes in a directoryName's RDN");
        let small = |n: usize| (0..n).map(|_| name(vec![rdn(2)])).collect::<Vec<_>>();
        let issued = ClientCertificate::from_der(&ca.issue(&LeafOptions::named("device")).der).unwrap();
        let own = issued.subject.matches('=').count() + issued.issuer.matches('=').count();
        assert!(!refused(&san(small((limits::ALL_SET_MEMBERS - own) / 2))), "64 attributes in all");
        assert!(refused(&san(small((limits::ALL_SET_MEMBERS - own) / 2 + 1))), "65 attributes in all");
    }

    #[test]
    fn attribute_names_are_the_databases_shortest() {
        let mut wrong = Vec::new();
        // The one name the linked database (const-oid 0.9) lacks: it knows givenName only.
        // certgate has written GN since its first release, as OpenSSL and const-oid 0.10 do.
        for (oid, name) in ATTRIBUTE_NAMES.into_iter().filter(|(oid, _)| *oid != GIVEN_NAME) {
            let mut best: Option<&str> = None;
            for n in x509_cert::der::oid::db::DB.find_names_for_oid(oid) {
                if best.is_none_or(|b| n.len() < b.len()) {
                    best = Some(n);
                }
            }
            if best.map(str::to_ascii_uppercase).as_deref() != Some(name) {
                wrong.push(format!("{oid}: table {name}, database {best:?}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    const GIVEN_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.42");

    /// x509-cert's `Display`, with the one name certgate spells otherwise (see above).
    fn x509_cert_display(name: &Name) -> String {
        name.to_string().replace("GIVENNAME=", "GN=")
    }

    #[test]
    fn name_text_is_what_x509_cert_displays() {
        let names = [
            "CN=alice",
            "CN=alice,OU=payments,O=Example Corp,L=Zürich,ST=ZH,C=CH",
            "CN=a\\,b\\+c\\;d\\<e\\>f\\\"g\\\\h,O=x",
            "CN=\\#hash,O=\\ leading and trailing\\ ",
            "CN=multi+UID=u1,DC=example,DC=com",
            "SERIALNUMBER=42,TITLE=boss,STREET=Main St 1",
            "EMAIL=a@example.com,CN=mail",
            "1.2.3.4=#04024142,CN=unknown type",
            "2.5.4.4=Surname,2.5.4.42=Given,2.5.4.97=VATDE-123",
        ];
        assert_eq!(name_text(&Name::default()), "");
        // A type outside the table: dotted OID and the value's DER in hex (RFC 4514 §2.4),
        // where x509-cert would look the name up in the database.
        let rare = Name::from_str("2.5.4.13=described,CN=x").unwrap();
        assert_eq!(name_text(&rare), "2.5.4.13=#0c09646573637269626564,CN=x");
        for text in names {
            let name = Name::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(name_text(&name), x509_cert_display(&name), "{text}");
        }
        assert_eq!(name_text(&Name::from_str("2.5.4.42=Given").unwrap()), "GN=Given");
        let name = common_name(Tag::Utf8String, b"a\tb\x7f\n");
        assert_eq!(name_text(&name), "CN=a\\09b\\7f\\0a");
        assert_eq!(name_text(&name), name.to_string());
    }

    /// `CN=<value>` with the value encoded as the given string type.
    fn common_name(tag: Tag, value: &[u8]) -> Name {
        let name = Name::from_str("CN=x").unwrap();
        let mut rdns = name.0.clone();
        let mut atvs: Vec<_> = rdns[0].0.iter().cloned().collect();
        atvs[0].value = x509_cert::der::Any::new(tag, value).unwrap();
        rdns[0] = x509_cert::name::RelativeDistinguishedName::try_from(atvs).unwrap();
        Name::from_der(&x509_cert::name::RdnSequence::from(rdns).to_der().unwrap()).unwrap()
    }

    #[test]
    fn name_text_reads_every_string_type_and_escapes_only_where_rfc4514_says() {
        for tag in [Tag::Utf8String, Tag::PrintableString, Tag::Ia5String, Tag::TeletexString] {
            let name = common_name(tag, b"Bob Smith");
            assert_eq!(name_text(&name), "CN=Bob Smith", "{tag:?}");
            assert_eq!(name_text(&name), name.to_string(), "{tag:?}");
        }
        // A string type certgate does not read (BMPString) is written as hex, never guessed at.
        assert_eq!(name_text(&common_name(Tag::BmpString, b"\0B")), "2.5.4.3=#1e020042");
        // `#` is escaped only first, a space only first or last.
        for (value, text) in [
            (&b"a#b"[..], "CN=a#b"),
            (b"#a", "CN=\\#a"),
            (b"a b", "CN=a b"),
            (b" a", "CN=\\ a"),
            (b"a ", "CN=a\\ "),
            (b" ", "CN=\\ "),
        ] {
            let name = common_name(Tag::Utf8String, value);
            assert_eq!(name_text(&name), text);
            assert_eq!(name_text(&name), name.to_string());
        }
    }

    #[test]
    fn rfc3339_known_points() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_651_199), "2026-11-25T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(i64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(-86_400), "1969-12-31T00:00:00Z");
    }

    /// Walk the calendar a day at a time, from 1970 back to 1599 and on to 2401 (three
    /// 400-year era boundaries, and the non-leap centuries between them), with month
    /// lengths counted independently: every day formats to its date and parses back.
    #[test]
    fn every_day_from_1599_to_2401_formats_and_parses() {
        fn month_length(year: i64, month: i64) -> i64 {
            let leap = year % 400 == 0 || (year % 4 == 0 && year % 100 != 0);
            [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month as usize - 1]
        }
        let check = |day: i64, (y, m, d): (i64, i64, i64)| {
            let text = format!("{y:04}-{m:02}-{d:02}T00:00:00Z");
            assert_eq!(rfc3339(day * 86_400), text, "day {day}");
            assert_eq!(parse_rfc3339(&text), Some(day * 86_400), "{text}");
        };
        let (mut day, mut date) = (0, (1970, 1, 1));
        while date.0 < 2402 {
            check(day, date);
            let (y, m, d) = date;
            date = if d < month_length(y, m) {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
            day += 1;
        }
        let (mut day, mut date) = (0, (1970, 1, 1));
        while date.0 >= 1599 {
            check(day, date);
            let (y, m, d) = date;
            date = if d > 1 {
                (y, m, d - 1)
            } else if m > 1 {
                (y, m - 1, month_length(y, m - 1))
            } else {
                (y - 1, 12, 31)
            };
            day -= 1;
        }
        assert_eq!(rfc3339(-62_135_596_800), "0001-01-01T00:00:00Z");
        assert_eq!(rfc3339(i64::MIN), "0001-01-01T00:00:00Z");
        assert_eq!(rfc3339(86_399), "1970-01-01T23:59:59Z");
        assert_eq!(rfc3339(45_296), "1970-01-01T12:34:56Z");
    }

    #[test]
    fn rfc3339_round_trip_and_refusals() {
        for t in [0, 951_782_400, 1_795_651_199, 253_402_300_799, -86_400] {
            assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        }
        assert_eq!(parse_rfc3339("2026-11-25T23:59:59.123Z"), Some(1_795_651_199));
        assert_eq!(parse_rfc3339("2026-11-26T01:59:59+02:00"), Some(1_795_651_199));
        assert_eq!(parse_rfc3339("2026-11-25T21:29:59-02:30"), Some(1_795_651_199));
        assert_eq!(parse_rfc3339(" 2026-11-25t23:59:59z "), Some(1_795_651_199));
        assert_eq!(parse_rfc3339("2026-11-25 23:59:59Z"), Some(1_795_651_199));
        // A leap second is read as the second before it.
        assert_eq!(parse_rfc3339("2026-11-25T23:59:60Z"), Some(1_795_651_199));
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some(951_782_400));
        for bad in [
            "",
            "2026-11-25",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-11-25T24:00:00Z",
            "2026-00-25T00:00:00Z",
            "2026-11-00T00:00:00Z",
            "2026-11-31T00:00:00Z",
            "2026-11-25T23:60:00Z",
            "2026-11-25T23:59:61Z",
            "2026/11-25T23:59:59Z",
            "2026-11/25T23:59:59Z",
            "2026-11-25_23:59:59Z",
            "2026-11-25T23-59:59Z",
            "2026-11-25T23:59-59Z",
            "2026-11-25T23:59:59+0200Z",
            "2026-11-25T23:59:59+02-00",
            "2026-11-25T23:59:59*02:00",
            "2026-11-25T23:59:59+0x:00",
            "2026-11-25T23:59:59+02:0x",
            "2026-11-25T23:59:59+02:00:00",
            "2026-11-25T23:59:59+02:0",
            "2026-11-25T23:59:59+0\u{e9}00",
            "2026-11-25T23:59:59x02:00",
            // The hostile review's offsets: signs inside fields, out-of-range fields.
            "2026-11-25T23:59:59+-1:00",
            "2026-11-25T23:59:59++1:00",
            "2026-11-25T23:59:59+99:99",
            "2026-11-25T23:59:59-00:-5",
            "2026-11-25T23:59:59+24:00",
            "2026-11-25T23:59:59+00:60",
            "2026-11-25T23:59:59+ 1:00",
            "2026-11-25T23:59:59+1 :00",
            "2026-11-25T23:59:59-1:000",
            "2026-11-25T23:59:59",
            "2026-11-25T23:59:59.Z",
            "２０２６-11-25T23:59:59Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn rfc3339_agrees_with_ders_date_time() {
        // parse_rfc3339's own calendar against der's DateTime (1970 to 9999), which
        // rfc3339 formats with: every field combination that one accepts, the other gives
        // the same second for, and it formats back to the same text.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let pick = |n: u64, shift: u32| (seed >> shift) % n;
            let (y, mo, d) = (1970 + pick(8030, 0) as u16, 1 + pick(12, 13) as u8, 1 + pick(31, 17) as u8);
            let (h, mi, se) = (pick(24, 22) as u8, pick(60, 27) as u8, pick(60, 33) as u8);
            let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}Z");
            let theirs = DateTime::new(y, mo, d, h, mi, se).ok().map(|t| t.unix_duration().as_secs() as i64);
            assert_eq!(parse_rfc3339(&text), theirs, "{text}");
            if let Some(secs) = theirs {
                assert_eq!(rfc3339(secs), text);
            }
        }
    }

    #[test]
    fn garbage_is_malformed() {
        for der in [&b""[..], b"\x30\x03\x02\x01\x01", b"\x30\x82\xff\xff", &[0x30; 64]] {
            let e = ClientCertificate::from_der(der).unwrap_err();
            assert!(matches!(e, CertificateError::NotDer(_)), "{der:?}: {e:?}");
            assert_eq!(e.reason(), crate::Reason::CertificateMalformed);
        }
        let e = ClientCertificate::from_der(b"\x30\x82\xff\xff").unwrap_err();
        assert_eq!(
            e.to_string(),
            "not a DER X.509 certificate: ASN.1 DER message is incomplete: expected 65539, actual 4 at DER byte 4"
        );
    }

    use certgate_testkit::reencode::{parse, write, Node};

    /// A real certificate with its DER tree edited: `edit` gets the certificate's children
    /// (tbsCertificate, signatureAlgorithm, signature).
    fn edited(edit: impl FnOnce(&mut Vec<Node>)) -> Vec<u8> {
        let ca = certgate_testkit::Ca::new("Root");
        let leaf = ca.issue(&certgate_testkit::LeafOptions::named("a").dns("a.example"));
        let Node::Constructed(tag, mut children) = parse(&leaf.der) else { panic!("not a SEQUENCE") };
        assert!(ClientCertificate::from_der(&leaf.der).is_ok());
        edit(&mut children);
        write(&Node::Constructed(tag, children))
    }

    fn tbs(children: &mut [Node]) -> &mut Vec<Node> {
        match &mut children[0] {
            Node::Constructed(_, tbs) => tbs,
            Node::Primitive(..) => panic!("tbsCertificate is constructed"),
        }
    }

    #[test]
    fn refusals_of_well_formed_der() {
        // The unsigned signatureAlgorithm names another algorithm than the signed one.
        let other_algorithm = edited(|c| {
            c[1] = Node::Constructed(0x30, vec![Node::Primitive(0x06, vec![0x2a, 0x86, 0x48, 0xce, 0x3d, 4, 3, 4])])
        });
        let e = ClientCertificate::from_der(&other_algorithm).unwrap_err();
        assert_eq!(e, CertificateError::SignatureAlgorithmMismatch);
        // notBefore and notAfter swapped.
        let inverted = edited(|c| {
            let validity = tbs(c).iter_mut().find(|n| {
                matches!(n, Node::Constructed(0x30, v) if v.len() == 2
                && v.iter().all(|t| matches!(t, Node::Primitive(0x17 | 0x18, _))))
            });
            let Some(Node::Constructed(_, times)) = validity else { panic!("no validity") };
            times.swap(0, 1);
        });
        let e = ClientCertificate::from_der(&inverted).unwrap_err();
        assert_eq!(e, CertificateError::ValidityInverted);
        assert_eq!(e.public_detail(), "the certificate's validity period ends before it begins");
        // A subjectAltName whose value is a SEQUENCE of an INTEGER, not GeneralNames.
        let bad_san = edited(|c| {
            let Some(Node::Constructed(0xa3, extensions)) = tbs(c).last_mut() else { panic!("no extensions") };
            let Node::Constructed(_, list) = &mut extensions[0] else { panic!("extensions are a SEQUENCE") };
            let san = list.iter_mut().find(
                |e| matches!(e, Node::Constructed(_, f) if f[0] == Node::Primitive(0x06, vec![0x55, 0x1d, 0x11])),
            );
            let Some(Node::Constructed(_, fields)) = san else { panic!("no subjectAltName") };
            *fields.last_mut().unwrap() = Node::Primitive(0x04, vec![0x30, 0x03, 0x02, 0x01, 0x01]);
        });
        let e = ClientCertificate::from_der(&bad_san).unwrap_err();
        assert!(matches!(e, CertificateError::SubjectAltName(_)), "{e:?}");
        assert!(e.to_string().starts_with("invalid subjectAltName extension: "), "{e}");
    }

    /// The log text of every variant, as the free-text refusals wrote it.
    #[test]
    fn display_is_the_log_text() {
        use x509_cert::der::{ErrorKind, Length};
        let der = DerError::from(ErrorKind::Overlength.at(Length::new(3)));
        for (e, text, public) in [
            (
                CertificateError::NotDer(der),
                "not a DER X.509 certificate: ASN.1 DER message is too long at DER byte 3",
                "the forwarded client certificate could not be decoded",
            ),
            (
                CertificateError::SignatureAlgorithmMismatch,
                "the certificate's signatureAlgorithm differs from its signed one",
                "the forwarded client certificate could not be decoded",
            ),
            (
                CertificateError::SubjectAltName(der),
                "invalid subjectAltName extension: ASN.1 DER message is too long at DER byte 3",
                "the forwarded client certificate could not be decoded",
            ),
            (
                CertificateError::KeyUsage(der),
                "invalid keyUsage extension: ASN.1 DER message is too long at DER byte 3",
                "the forwarded client certificate could not be decoded",
            ),
            (
                CertificateError::PublicKey(der),
                "invalid public key: ASN.1 DER message is too long at DER byte 3",
                "the forwarded client certificate could not be decoded",
            ),
            (
                CertificateError::ValidityInverted,
                "the certificate's notBefore is after its notAfter",
                "the certificate's validity period ends before it begins",
            ),
        ] {
            assert_eq!((e.to_string().as_str(), e.public_detail()), (text, public));
            let refusal = crate::Refusal::from(e);
            assert_eq!(
                (refusal.reason, refusal.detail.as_str(), refusal.public_detail),
                (crate::Reason::CertificateMalformed, text, public)
            );
        }
    }
}
