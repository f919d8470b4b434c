//! One key, one identity: the SubjectPublicKeyInfo a certificate carries can spell the same
//! key in more than one way (an EC point compressed or not, RSA's NULL parameters present or
//! absent, an RSA key under the RSASSA-PSS or the X.500 `id-ea-rsa` identifier, Ed25519
//! with parameters), and each
//! spelling has its own SHA-256. A revocation by key must deny every spelling, so it is
//! compared with the digest of the key's canonical SPKI too: what a CA writes by default
//! (an uncompressed point under its named curve; rsaEncryption with NULL; Ed25519 without
//! parameters), so a digest taken the usual way (`openssl pkey -pubout`) is the canonical
//! one. Pins stay on the bytes as signed: there a different spelling only refuses.

use p256::elliptic_curve::sec1::ToEncodedPoint;
use sha2::{Digest, Sha256};
use x509_cert::der::asn1::{AnyRef, BitString, ObjectIdentifier};
use x509_cert::der::{Decode, Encode};
use x509_cert::spki::{AlgorithmIdentifier, SubjectPublicKeyInfo, SubjectPublicKeyInfoRef};

const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// id-ea-rsa (X.509 1988), which OpenSSL reads as rsaEncryption.
const ID_EA_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.8.1.1");

/// Why a key cannot be given an identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyProblem {
    /// An EC key whose parameters are not a named curve (implicit or explicit curve
    /// parameters, which RFC 5480 2.1.1 forbids in certificates): the same key could be
    /// written with other parameters, and nothing could tell.
    CurveNotNamed,
    /// A key of a kind this knows, spelled in a way it cannot read as its one canonical
    /// form (what is wrong): an unused bit in its BIT STRING, an RSA key that is not
    /// strict DER, a point not on its curve, a compressed point on a curve this cannot
    /// decompress. Another reader (OpenSSL) may read the same key from it, so its digest
    /// as spelled would escape a revocation of the key.
    Unreadable(&'static str),
}

impl std::fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyProblem::CurveNotNamed => f.write_str("its EC key's parameters are not a named curve (RFC 5480)"),
            KeyProblem::Unreadable(what) => write!(f, "its public key cannot be read in one canonical form: {what}"),
        }
    }
}

/// SHA-256 of the canonical form of `spki` (a DER SubjectPublicKeyInfo as signed): the
/// digest of `spki` itself when it is canonical already or its algorithm is not one this
/// knows (EC, RSA, Ed25519), in which case only its own spelling is known. A key of a kind
/// it knows that it cannot read canonically is an error, never its own digest.
pub(crate) fn canonical_sha256(spki: &[u8]) -> Result<[u8; 32], KeyProblem> {
    Ok(match canonical(spki)? {
        Some(canonical) => Sha256::digest(canonical).into(),
        None => Sha256::digest(spki).into(),
    })
}

/// The SHA-256 a CA's key is matched by: its canonical digest, or, for a key this cannot
/// read in one canonical form, its digest as spelled. A CRL is bound to its issuer's key
/// so, and a path's issuer keys are compared with it so, whichever spelling of the key
/// each certificate carries.
pub(crate) fn issuer_key_sha256(spki: &[u8]) -> [u8; 32] {
    canonical_sha256(spki).unwrap_or_else(|_| Sha256::digest(spki).into())
}

/// The canonical DER of `spki`, or `None` to keep `spki` as it is (an algorithm not
/// known here).
fn canonical(spki: &[u8]) -> Result<Option<Vec<u8>>, KeyProblem> {
    use KeyProblem::Unreadable;
    let info = SubjectPublicKeyInfoRef::from_der(spki).map_err(|_| Unreadable("not a SubjectPublicKeyInfo"))?;
    let oid = info.algorithm.oid;
    if ![EC_PUBLIC_KEY, RSA_ENCRYPTION, RSASSA_PSS, ID_EA_RSA, ED25519].contains(&oid) {
        return Ok(None);
    }
    let bits = info.subject_public_key.as_bytes().ok_or(Unreadable("its BIT STRING declares unused bits"))?;
    let parameters = info.algorithm.parameters;
    let unencodable = Unreadable("its canonical form does not encode");
    if oid == EC_PUBLIC_KEY {
        let curve = parameters.and_then(|p| p.decode_as::<ObjectIdentifier>().ok()).ok_or(KeyProblem::CurveNotNamed)?;
        let point = uncompressed(curve, bits)?;
        let curve_der = curve.to_der().map_err(|_| unencodable)?;
        return encode(EC_PUBLIC_KEY, Some(&curve_der), &point).map(Some).ok_or(unencodable);
    }
    if oid == RSA_ENCRYPTION || oid == RSASSA_PSS || oid == ID_EA_RSA {
        // The key bits are an RSAPublicKey in strict DER (minimal integers, nothing after
        // it), so they are their own canonical form; anything else is refused.
        rsa::pkcs1::RsaPublicKey::from_der(bits).map_err(|_| Unreadable("its RSA key is not strict DER"))?;
        return encode(RSA_ENCRYPTION, Some(&[0x05, 0x00]), bits).map(Some).ok_or(unencodable);
    }
    if bits.len() != 32 {
        return Err(Unreadable("its Ed25519 key is not 32 bytes"));
    }
    encode(ED25519, None, bits).map(Some).ok_or(unencodable)
}

/// The SEC 1 uncompressed form (`04`, X, Y) of an EC point on `curve`: P-256 and P-384
/// points in any form (compressed, hybrid, uncompressed) and on the curve; on another
/// curve, which this cannot decompress, the uncompressed or hybrid form only.
fn uncompressed(curve: ObjectIdentifier, point: &[u8]) -> Result<Vec<u8>, KeyProblem> {
    use KeyProblem::Unreadable;
    // Hybrid (`06`/`07`, X, Y): the uncompressed point, its tag saying Y's parity.
    let point = match point.first() {
        Some(tag @ (0x06 | 0x07)) => {
            let odd = point.last().is_some_and(|y| y & 1 == 1);
            if point.len() % 2 == 0 || odd != (*tag == 0x07) {
                return Err(Unreadable("its hybrid EC point's tag contradicts its Y"));
            }
            [&[0x04][..], &point[1..]].concat()
        }
        _ => point.to_vec(),
    };
    let off_curve = Unreadable("its EC point is not a point of its curve");
    if curve == P256 {
        let key = p256::PublicKey::from_sec1_bytes(&point).map_err(|_| off_curve)?;
        return Ok(key.to_encoded_point(false).as_bytes().to_vec());
    }
    if curve == P384 {
        let key = p384::PublicKey::from_sec1_bytes(&point).map_err(|_| off_curve)?;
        return Ok(key.to_encoded_point(false).as_bytes().to_vec());
    }
    if point.first() == Some(&0x04) && point.len() % 2 == 1 {
        return Ok(point);
    }
    Err(Unreadable("a compressed EC point on a curve certgate cannot decompress"))
}

/// A SubjectPublicKeyInfo of `algorithm`, its parameters' DER, and the key bits.
fn encode(algorithm: ObjectIdentifier, parameters: Option<&[u8]>, key: &[u8]) -> Option<Vec<u8>> {
    let parameters = match parameters {
        Some(der) => Some(AnyRef::from_der(der).ok()?),
        None => None,
    };
    let info = SubjectPublicKeyInfo {
        algorithm: AlgorithmIdentifier { oid: algorithm, parameters },
        subject_public_key: BitString::from_bytes(key).ok()?,
    };
    info.to_der().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use certgate_testkit::{Ca, KeyKind, LeafOptions};

    fn spki(der: &[u8]) -> Vec<u8> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
        cert.public_key().raw.to_vec()
    }

    /// The canonical form of what CAs write by default is itself, for every key kind the
    /// test PKI makes: a digest taken the usual way is the canonical one.
    #[test]
    fn a_key_written_the_usual_way_is_its_own_canonical_form() {
        let ca = Ca::new("Keys");
        for kind in [KeyKind::EcdsaP256, KeyKind::EcdsaP384, KeyKind::Rsa2048, KeyKind::Ed25519] {
            let leaf = ca.issue(&LeafOptions::named("k").key(kind));
            let spki = spki(&leaf.der);
            assert_eq!(canonical(&spki), Ok(Some(spki.clone())), "{kind:?}");
            assert_eq!(canonical_sha256(&spki), Ok(<[u8; 32]>::from(Sha256::digest(&spki))));
        }
    }

    /// Other spellings of the same key: a compressed point, RSA without its NULL or under
    /// the RSASSA-PSS or the X.500 identifier, Ed25519 with parameters. Each has its own digest and the
    /// canonical one of the usual spelling. Curve parameters that are not a named curve are
    /// refused; an algorithm this does not know keeps its own digest.
    #[test]
    fn other_spellings_of_a_key_have_the_usual_spellings_canonical_digest() {
        use certgate_testkit::reencode::{parse, write, Node};
        let ca = Ca::new("Keys");
        let respell = |der: &[u8], f: &dyn Fn(Vec<Node>) -> Vec<Node>| {
            let Node::Constructed(tag, children) = parse(der) else { panic!("spki") };
            write(&Node::Constructed(tag, f(children)))
        };
        let algorithm = |oid: &[u8], params: Option<Node>| {
            let mut nodes = vec![Node::Primitive(0x06, oid.to_vec())];
            nodes.extend(params);
            Node::Constructed(0x30, nodes)
        };
        let p256 = spki(&ca.issue(&LeafOptions::named("p256").key(KeyKind::EcdsaP256)).der);
        let compressed = respell(&p256, &|mut c| {
            let Node::Primitive(0x03, bits) = &c[1] else { panic!("bits") };
            let mut point = vec![0, 2 + (bits[65] & 1)];
            point.extend_from_slice(&bits[2..34]);
            c[1] = Node::Primitive(0x03, point);
            c
        });
        let rsa = spki(&ca.issue(&LeafOptions::named("rsa").key(KeyKind::Rsa2048)).der);
        let rsa_oid = RSA_ENCRYPTION.as_bytes().to_vec();
        let pss_oid = RSASSA_PSS.as_bytes().to_vec();
        let rsa_without_null = respell(&rsa, &|mut c| {
            c[0] = algorithm(&rsa_oid, None);
            c
        });
        let rsa_as_pss = respell(&rsa, &|mut c| {
            c[0] = algorithm(&pss_oid, None);
            c
        });
        // id-ea-rsa (X.509 1988), with and without NULL: OpenSSL reads it as rsaEncryption
        // (`openssl pkey -pubin -pubout` writes the usual SPKI) and a TLS handshake with it
        // completes, so a CA that copies the CSR's key can issue it (found by a review).
        let x500_oid = ID_EA_RSA.as_bytes().to_vec();
        let rsa_as_x500 = respell(&rsa, &|mut c| {
            c[0] = algorithm(&x500_oid, Some(Node::Primitive(0x05, vec![])));
            c
        });
        let rsa_as_x500_without_null = respell(&rsa, &|mut c| {
            c[0] = algorithm(&x500_oid, None);
            c
        });
        let ed = spki(&ca.issue(&LeafOptions::named("ed").key(KeyKind::Ed25519)).der);
        let ed_oid = ED25519.as_bytes().to_vec();
        let ed_with_null = respell(&ed, &|mut c| {
            c[0] = algorithm(&ed_oid, Some(Node::Primitive(0x05, vec![])));
            c
        });
        for (name, usual, other) in [
            ("compressed point", &p256, &compressed),
            ("RSA without NULL", &rsa, &rsa_without_null),
            ("RSA as RSASSA-PSS", &rsa, &rsa_as_pss),
            ("RSA as id-ea-rsa", &rsa, &rsa_as_x500),
            ("RSA as id-ea-rsa without NULL", &rsa, &rsa_as_x500_without_null),
            ("Ed25519 with NULL", &ed, &ed_with_null),
        ] {
            assert_ne!(usual, other, "{name}");
            assert_eq!(canonical_sha256(other), canonical_sha256(usual), "{name}");
            assert_eq!(canonical_sha256(usual), Ok(<[u8; 32]>::from(Sha256::digest(usual))), "{name}");
        }
        // Explicit curve parameters (a SEQUENCE where the curve's OID belongs), and none.
        let ec_oid = EC_PUBLIC_KEY.as_bytes().to_vec();
        let explicit = respell(&p256, &|mut c| {
            c[0] = algorithm(&ec_oid, Some(Node::Constructed(0x30, vec![Node::Primitive(0x02, vec![1])])));
            c
        });
        let implicit = respell(&p256, &|mut c| {
            c[0] = algorithm(&ec_oid, Some(Node::Primitive(0x05, vec![])));
            c
        });
        assert_eq!(canonical_sha256(&explicit), Err(KeyProblem::CurveNotNamed));
        assert_eq!(canonical_sha256(&implicit), Err(KeyProblem::CurveNotNamed));
        // An algorithm not known here (Ed448): its own digest.
        let ed448 = respell(&ed, &|mut c| {
            c[0] = algorithm(&[0x2b, 0x65, 0x71], None);
            c
        });
        assert_eq!(canonical_sha256(&ed448), Ok(<[u8; 32]>::from(Sha256::digest(&ed448))));
    }
}
