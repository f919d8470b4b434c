//! Test PKI for certgate: a CA, leaves of every key kind, expired and not-yet-valid
//! ones, large ones; and encoders that write a certificate the way each terminator does.
//! Everything is generated at run time; nothing opaque is committed.

mod chains;
pub mod encode;
pub mod reencode;

pub use chains::{chain_cases, ChainCase};

use std::sync::OnceLock;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, NameConstraints,
    RevokedCertParams, SanType, SerialNumber, SignatureAlgorithm,
};
use sha1::Sha1;
use sha2::{Digest, Sha256};
pub use time::{Duration, OffsetDateTime};

/// Key algorithms the tests cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Rsa2048,
    Rsa4096,
    EcdsaP256,
    EcdsaP384,
    Ed25519,
}

fn rsa_pkcs8(bits: usize) -> Vec<u8> {
    use rsa::pkcs8::EncodePrivateKey;
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), bits).expect("RSA key generation");
    key.to_pkcs8_der().expect("PKCS#8 encoding").as_bytes().to_vec()
}

/// RSA generation is slow; one key of each size per process is enough.
fn cached_rsa(bits: usize) -> &'static [u8] {
    static RSA2048: OnceLock<Vec<u8>> = OnceLock::new();
    static RSA4096: OnceLock<Vec<u8>> = OnceLock::new();
    let cell = if bits == 2048 { &RSA2048 } else { &RSA4096 };
    cell.get_or_init(|| rsa_pkcs8(bits))
}

impl KeyKind {
    pub fn algorithm(self) -> &'static SignatureAlgorithm {
        match self {
            KeyKind::Rsa2048 | KeyKind::Rsa4096 => &rcgen::PKCS_RSA_SHA256,
            KeyKind::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyKind::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyKind::Ed25519 => &rcgen::PKCS_ED25519,
        }
    }

    /// A key of this kind (RSA keys are reused within a process).
    pub fn key_pair(self) -> KeyPair {
        match self {
            KeyKind::Rsa2048 | KeyKind::Rsa4096 => {
                let bits = if self == KeyKind::Rsa4096 { 4096 } else { 2048 };
                let der = cached_rsa(bits);
                KeyPair::from_pkcs8_der_and_sign_algo(&der.to_vec().into(), self.algorithm()).expect("RSA key")
            }
            _ => KeyPair::generate_for(self.algorithm()).expect("key generation"),
        }
    }
}

/// An issued certificate and its private key.
#[derive(Clone, Debug)]
pub struct Issued {
    pub der: Vec<u8>,
    pub key_pem: String,
}

impl Issued {
    /// Write `<stem>.pem` (certificate) and `<stem>.key` (private key) into `dir`.
    pub fn write_pem_files(&self, dir: &std::path::Path, stem: &str) -> std::io::Result<()> {
        std::fs::write(dir.join(format!("{stem}.pem")), self.pem())?;
        std::fs::write(dir.join(format!("{stem}.key")), &self.key_pem)
    }
    pub fn pem(&self) -> String {
        encode::pem(&self.der)
    }
    pub fn sha1_hex(&self) -> String {
        hex::encode(Sha1::digest(&self.der))
    }
    pub fn sha256_hex(&self) -> String {
        hex::encode(Sha256::digest(&self.der))
    }
    /// SHA-256 of the SubjectPublicKeyInfo in base64, as key pins are written (read with
    /// x509-parser).
    pub fn key_sha256_b64(&self) -> String {
        use base64::Engine;
        let (_, cert) = x509_parser::parse_x509_certificate(&self.der).expect("certificate");
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(cert.public_key().raw))
    }
}

/// What a leaf certificate should look like.
#[derive(Clone, Debug)]
pub struct LeafOptions {
    pub common_name: String,
    pub organization: Option<String>,
    pub key: KeyKind,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub dns_names: Vec<String>,
    pub uris: Vec<String>,
    pub emails: Vec<String>,
    pub ip_addresses: Vec<std::net::IpAddr>,
    pub client_auth: bool,
    pub server_auth: bool,
    pub serial: Option<Vec<u8>>,
    /// Reuse this private key (PEM), as a renewal with the same key does.
    pub key_pem: Option<String>,
    /// Omit the extendedKeyUsage extension entirely.
    pub no_eku: bool,
    /// Extra extensions, as (OID arcs, DER of the value): for malformed-extension tests.
    pub extensions: Vec<(Vec<u64>, Vec<u8>)>,
}

impl Default for LeafOptions {
    fn default() -> Self {
        let now = OffsetDateTime::now_utc();
        LeafOptions {
            common_name: "client.example".into(),
            organization: None,
            key: KeyKind::EcdsaP256,
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(30),
            dns_names: vec![],
            uris: vec![],
            emails: vec![],
            ip_addresses: vec![],
            client_auth: true,
            server_auth: false,
            serial: None,
            key_pem: None,
            no_eku: false,
            extensions: vec![],
        }
    }
}

impl LeafOptions {
    pub fn named(cn: &str) -> Self {
        LeafOptions { common_name: cn.into(), ..Default::default() }
    }
    pub fn key(mut self, key: KeyKind) -> Self {
        self.key = key;
        self
    }
    pub fn expired(mut self) -> Self {
        let now = OffsetDateTime::now_utc();
        self.not_before = now - Duration::days(60);
        self.not_after = now - Duration::days(2);
        self
    }
    pub fn not_yet_valid(mut self) -> Self {
        let now = OffsetDateTime::now_utc();
        self.not_before = now + Duration::days(2);
        self.not_after = now + Duration::days(60);
        self
    }
    pub fn dns(mut self, name: &str) -> Self {
        self.dns_names.push(name.into());
        self
    }
    pub fn uri(mut self, uri: &str) -> Self {
        self.uris.push(uri.into());
        self
    }
    pub fn email(mut self, email: &str) -> Self {
        self.emails.push(email.into());
        self
    }
    /// A TLS server certificate for `localhost` and 127.0.0.1 (for test terminators).
    pub fn server(mut self) -> Self {
        self.client_auth = false;
        self.server_auth = true;
        self.dns_names.push("localhost".into());
        self.ip_addresses.push(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
        self
    }
    pub fn without_client_auth(mut self) -> Self {
        self.client_auth = false;
        self
    }
    /// serverAuth only: the wrong extended key usage for a client.
    pub fn server_only(mut self) -> Self {
        self.client_auth = false;
        self.server_auth = true;
        self
    }
    /// Renew: same key as `previous`.
    pub fn same_key_as(mut self, previous: &Issued) -> Self {
        self.key_pem = Some(previous.key_pem.clone());
        self
    }
    /// A realistic large certificate: RSA-4096 and a hundred DNS names (about 6 KB of DER).
    pub fn large(mut self) -> Self {
        self.key = KeyKind::Rsa4096;
        self.organization = Some("Example Large Fleet Operations, Incorporated".into());
        for i in 0..100 {
            self.dns_names.push(format!("service-{i:03}.eu-west-1.internal.fleet.example.com"));
        }
        self
    }
}

/// A certificate authority.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pub certificate: Issued,
}

impl Ca {
    /// A self-signed root.
    pub fn new(name: &str) -> Ca {
        Self::with_key(name, KeyKind::EcdsaP256)
    }

    pub fn with_key(name: &str, kind: KeyKind) -> Ca {
        let key = kind.key_pair();
        let params = ca_params(name);
        let cert = params.self_signed(&key).expect("self-signed CA");
        let key_pem = key.serialize_pem();
        Ca { issuer: Issuer::new(params, key), certificate: Issued { der: cert.der().to_vec(), key_pem } }
    }

    /// A CRL from this CA revoking `serials`, valid from `this_update` to `next_update`.
    pub fn crl(&self, serials: &[&[u8]], this_update: OffsetDateTime, next_update: OffsetDateTime) -> String {
        self.signed_crl(serials, this_update, next_update, 1, None)
    }

    fn signed_crl(
        &self,
        serials: &[&[u8]],
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
        number: u64,
        issuing_distribution_point: Option<rcgen::CrlIssuingDistributionPoint>,
    ) -> String {
        let params = CertificateRevocationListParams {
            this_update,
            next_update,
            crl_number: SerialNumber::from(number),
            issuing_distribution_point,
            revoked_certs: serials
                .iter()
                .map(|s| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(s),
                    revocation_time: this_update,
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params.signed_by(&self.issuer).expect("CRL").pem().expect("CRL PEM")
    }

    /// A CRL from this CA with an issuingDistributionPoint naming `uri`: a partition of
    /// the CA's revocation information (RFC 5280 5.2.5), for its CA certificates only when
    /// `ca_only` (an ARL).
    pub fn distribution_point_crl(
        &self,
        serials: &[&[u8]],
        uri: &str,
        ca_only: bool,
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> String {
        let point = rcgen::CrlIssuingDistributionPoint {
            distribution_point: rcgen::CrlDistributionPoint { uris: vec![uri.to_string()] },
            scope: ca_only.then_some(rcgen::CrlScope::CaCertsOnly),
        };
        self.signed_crl(serials, this_update, next_update, 2, Some(point))
    }

    /// An intermediate CA signed by this one, allowed to issue only for names under
    /// `permitted_dns` (a name-constrained CA).
    pub fn constrained_intermediate(&self, name: &str, permitted_dns: &str) -> Ca {
        let key = KeyKind::EcdsaP256.key_pair();
        let mut params = ca_params(name);
        params.name_constraints = Some(NameConstraints {
            permitted_subtrees: vec![GeneralSubtree::DnsName(permitted_dns.to_string())],
            excluded_subtrees: vec![],
        });
        let cert = params.signed_by(&key, &self.issuer).expect("intermediate");
        let key_pem = key.serialize_pem();
        Ca { issuer: Issuer::new(params, key), certificate: Issued { der: cert.der().to_vec(), key_pem } }
    }

    /// An intermediate CA signed by this one.
    pub fn intermediate(&self, name: &str) -> Ca {
        self.intermediate_with_key(name, KeyKind::EcdsaP256)
    }

    /// An intermediate CA signed by this one, with a key of this kind.
    pub fn intermediate_with_key(&self, name: &str, kind: KeyKind) -> Ca {
        let key = kind.key_pair();
        let params = ca_params(name);
        let cert = params.signed_by(&key, &self.issuer).expect("intermediate");
        let key_pem = key.serialize_pem();
        Ca { issuer: Issuer::new(params, key), certificate: Issued { der: cert.der().to_vec(), key_pem } }
    }

    /// An intermediate CA signed by this one, valid only from `not_before` to `not_after`
    /// (an issuing CA that expires before the certificates it issued, as real ones do when
    /// they are not rotated in time).
    pub fn intermediate_valid(&self, name: &str, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Ca {
        let key = KeyKind::EcdsaP256.key_pair();
        let mut params = ca_params(name);
        params.not_before = not_before;
        params.not_after = not_after;
        let cert = params.signed_by(&key, &self.issuer).expect("intermediate");
        let key_pem = key.serialize_pem();
        Ca { issuer: Issuer::new(params, key), certificate: Issued { der: cert.der().to_vec(), key_pem } }
    }

    /// Issue a leaf certificate.
    pub fn issue(&self, options: &LeafOptions) -> Issued {
        let key = match &options.key_pem {
            Some(pem) => KeyPair::from_pem(pem).expect("reused key"),
            None => options.key.key_pair(),
        };
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, options.common_name.as_str());
        if let Some(o) = &options.organization {
            dn.push(DnType::OrganizationName, o.as_str());
        }
        params.distinguished_name = dn;
        params.not_before = options.not_before;
        params.not_after = options.not_after;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if options.client_auth && !options.no_eku {
            params.extended_key_usages.push(ExtendedKeyUsagePurpose::ClientAuth);
        }
        if options.server_auth && !options.no_eku {
            params.extended_key_usages.push(ExtendedKeyUsagePurpose::ServerAuth);
        }
        for d in &options.dns_names {
            params.subject_alt_names.push(SanType::DnsName(d.clone().try_into().expect("DNS name")));
        }
        for u in &options.uris {
            params.subject_alt_names.push(SanType::URI(u.clone().try_into().expect("URI")));
        }
        for ip in &options.ip_addresses {
            params.subject_alt_names.push(SanType::IpAddress(*ip));
        }
        for e in &options.emails {
            params.subject_alt_names.push(SanType::Rfc822Name(e.clone().try_into().expect("email")));
        }
        params.serial_number = Some(match &options.serial {
            Some(s) => SerialNumber::from_slice(s),
            None => {
                // Real CAs draw serials at random: about half start with a byte of 0x80 or
                // more, which DER writes with a 0x00 sign byte in front.
                let mut bytes: [u8; 16] = rand::random();
                if bytes[0] == 0 {
                    bytes[0] = 1;
                }
                SerialNumber::from_slice(&bytes)
            }
        });
        for (oid, value) in &options.extensions {
            params.custom_extensions.push(rcgen::CustomExtension::from_oid_content(oid, value.clone()));
        }
        let cert = params.signed_by(&key, &self.issuer).expect("leaf");
        Issued { der: cert.der().to_vec(), key_pem: key.serialize_pem() }
    }
}

/// A forged "bridge": a CA certificate with subject `subject` and the public key of
/// `key_of` (any certificate: a real CA's, copied from its public certificate), issued and
/// signed by `signer` (whose private key the forger holds, as a client holds its own
/// leaf's). Its signature verifies under `signer`'s key, and certificates that `key_of`'s
/// owner signed verify under it.
pub fn forge_bridge(subject: &str, key_of: &Issued, signer: &Issued) -> Issued {
    let (_, cert) = x509_parser::parse_x509_certificate(&key_of.der).expect("certificate");
    let spki = rcgen::SubjectPublicKeyInfo::from_der(cert.public_key().raw).expect("SPKI");
    let signer_key = KeyPair::from_pem(&signer.key_pem).expect("signer key");
    let issuer = Issuer::from_ca_cert_der(&signer.der.clone().into(), signer_key).expect("signer as issuer");
    let params = ca_params(subject);
    let bridge = params.signed_by(&spki, &issuer).expect("bridge");
    Issued { der: bridge.der().to_vec(), key_pem: String::new() }
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(365);
    params.not_after = now + Duration::days(3650);
    params
}
