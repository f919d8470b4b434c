//! Certificates that real CAs (or attackers) write differently from the canonical DER a
//! library produces: a tiny DER tree to edit them, the other valid form of an ECDSA
//! signature, and a certificate with an explicit DEFAULT (`critical FALSE`) signed over
//! exactly those bytes. Written here, independently of certgate's own DER handling.

use p256::ecdsa::signature::Signer;
use p256::pkcs8::DecodePrivateKey;

use crate::{Ca, Issued, LeafOptions};

/// One DER node: a primitive value or a constructed list of nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Primitive(u8, Vec<u8>),
    Constructed(u8, Vec<Node>),
}

fn read_header(der: &[u8]) -> (u8, usize, usize) {
    let tag = der[0];
    let first = der[1] as usize;
    if first < 0x80 {
        return (tag, 2, first);
    }
    let n = first & 0x7f;
    let len = der[2..2 + n].iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
    (tag, 2 + n, len)
}

/// Parse one DER TLV (its whole length) into a tree.
pub fn parse(der: &[u8]) -> Node {
    let (tag, header, len) = read_header(der);
    let content = &der[header..header + len];
    if tag & 0x20 == 0 {
        return Node::Primitive(tag, content.to_vec());
    }
    let mut children = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (_, h, l) = read_header(rest);
        children.push(parse(&rest[..h + l]));
        rest = &rest[h + l..];
    }
    Node::Constructed(tag, children)
}

fn length_bytes(n: usize) -> Vec<u8> {
    if n < 0x80 {
        return vec![n as u8];
    }
    let bytes: Vec<u8> = n.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
    let mut out = vec![0x80 | bytes.len() as u8];
    out.extend(bytes);
    out
}

/// Serialize a tree with minimal lengths.
pub fn write(node: &Node) -> Vec<u8> {
    let (tag, content) = match node {
        Node::Primitive(tag, content) => (*tag, content.clone()),
        Node::Constructed(tag, children) => (*tag, children.iter().flat_map(write).collect()),
    };
    let mut out = vec![tag];
    out.extend(length_bytes(content.len()));
    out.extend(content);
    out
}

fn children(node: &Node) -> &[Node] {
    match node {
        Node::Constructed(_, c) => c,
        Node::Primitive(..) => &[],
    }
}

/// DER INTEGER content for an unsigned big-endian number.
fn integer(bytes: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut out = if trimmed.first().is_some_and(|b| b & 0x80 != 0) { vec![0] } else { Vec::new() };
    out.extend(if trimmed.is_empty() { vec![0] } else { trimmed });
    out
}

/// The P-256 group order n.
const P256_ORDER: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

/// The same certificate with its ECDSA P-256 signature (r, s) rewritten as (r, n - s): the
/// signed bytes are untouched and the signature still verifies, but the DER (and so every
/// thumbprint) differs. Needs no private key.
pub fn ecdsa_p256_twin(der: &[u8]) -> Vec<u8> {
    let cert = parse(der);
    let parts = children(&cert);
    let Node::Primitive(0x03, bits) = &parts[2] else { panic!("no signature BIT STRING") };
    let signature = parse(&bits[1..]);
    let rs = children(&signature);
    let (Node::Primitive(_, r), Node::Primitive(_, s)) = (&rs[0], &rs[1]) else { panic!("not an ECDSA signature") };
    let n = rsa::BigUint::parse_bytes(P256_ORDER.as_bytes(), 16).expect("order");
    let flipped = n - rsa::BigUint::from_bytes_be(s);
    let twin_sig = Node::Constructed(
        0x30,
        vec![Node::Primitive(0x02, r.clone()), Node::Primitive(0x02, integer(&flipped.to_bytes_be()))],
    );
    let mut new_bits = vec![0];
    new_bits.extend(write(&twin_sig));
    let twin = Node::Constructed(0x30, vec![parts[0].clone(), parts[1].clone(), Node::Primitive(0x03, new_bits)]);
    let out = write(&twin);
    assert_ne!(out, der, "the twin differs");
    out
}

/// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (RFC 4055 section 3.1, the
/// hash AlgorithmIdentifiers with NULL): the AlgorithmIdentifier rustls-webpki knows as
/// `RSA_PSS_SHA256`.
pub const RSA_PSS_SHA256: [u8; 67] = [
    0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34, 0xa0, 0x0f, 0x30, 0x0d,
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09,
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
    0x04, 0x02, 0x01, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20,
];

/// `der` signed again by an RSA CA (its PKCS#8 PEM key) with RSASSA-PSS-SHA256 (both
/// signature fields rewritten), and the same certificate with its signature `s` replaced
/// by `s + n`: the same length whenever `s + n < 2^(8k)` (PSS is randomised, so it signs
/// again until that holds), the same representative mod n, so a verifier that does not
/// refuse `s >= n` (RFC 8017, RSAVP1) takes it, and a thumbprint that differs.
pub fn rsa_pss_signed_and_plus_modulus(der: &[u8], rsa_key_pem: &str) -> (Vec<u8>, Vec<u8>) {
    use rsa::signature::{RandomizedSigner, SignatureEncoding};
    use rsa::traits::PublicKeyParts;
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(rsa_key_pem).expect("an RSA CA key");
    let (n, k) = (key.n().clone(), key.size());
    let cert = parse(der);
    let Node::Constructed(tbs_tag, mut tbs) = children(&cert)[0].clone() else { panic!("tbs") };
    let algorithm = parse(&RSA_PSS_SHA256);
    tbs[2] = algorithm.clone();
    let tbs = Node::Constructed(tbs_tag, tbs);
    let signed = write(&tbs);
    let signer = rsa::pss::SigningKey::<sha2::Sha256>::new(key);
    let certificate = |signature: &[u8]| {
        let bits = [&[0u8][..], signature].concat();
        write(&Node::Constructed(0x30, vec![tbs.clone(), algorithm.clone(), Node::Primitive(0x03, bits)]))
    };
    // About (2^(8k) - n) / n of the signatures fit: a quarter for a typical modulus, and
    // this runs out only for one within about 2^-12 of 2^(8k), which is vanishingly rare.
    for _ in 0..20_000 {
        let signature = signer.sign_with_rng(&mut rand::thread_rng(), &signed).to_vec();
        let plus_n = (rsa::BigUint::from_bytes_be(&signature) + &n).to_bytes_be();
        if signature.len() == k && plus_n.len() == k {
            return (certificate(&signature), certificate(&plus_n));
        }
    }
    panic!("no PSS signature left room for the modulus");
}

/// The subject Name of a DER certificate, as a node.
pub fn subject_of(der: &[u8]) -> Node {
    let Node::Constructed(_, parts) = parse(der) else { panic!("certificate") };
    let Node::Constructed(_, tbs) = parts[0].clone() else { panic!("tbs") };
    tbs[5].clone()
}

/// `name` with the value of its first RDN's first attribute (a CN, as the testkit writes
/// names) replaced by `value` of string type `tag`.
pub fn with_first_value(name: &Node, tag: u8, value: Vec<u8>) -> Node {
    let Node::Constructed(0x30, mut rdns) = name.clone() else { panic!("name") };
    let Node::Constructed(0x31, mut atvs) = rdns[0].clone() else { panic!("rdn") };
    let Node::Constructed(0x30, mut atv) = atvs[0].clone() else { panic!("atv") };
    atv[1] = Node::Primitive(tag, value);
    atvs[0] = Node::Constructed(0x30, atv);
    rdns[0] = Node::Constructed(0x31, atvs);
    Node::Constructed(0x30, rdns)
}

/// `name` with its first RDN's first value written as the other of UTF8String and
/// PrintableString: the same name to X.520 and OpenSSL, other bytes.
pub fn with_other_string_type(name: &Node) -> Node {
    let Node::Constructed(0x30, rdns) = name else { panic!("name") };
    let Node::Constructed(0x31, atvs) = &rdns[0] else { panic!("rdn") };
    let Node::Constructed(0x30, atv) = &atvs[0] else { panic!("atv") };
    let Node::Primitive(tag, value) = &atv[1] else { panic!("value") };
    with_first_value(name, if *tag == 0x0c { 0x13 } else { 0x0c }, value.clone())
}

/// A self-signed CA certificate (a fresh P-256 key) whose issuer and subject are each
/// `rdns` RDNs of one CN attribute, all distinct (derived from `tag`, so certificates of
/// different tags share no name): the widest names a certificate may carry, for the
/// decode-cost limits.
pub fn ca_with_wide_names(tag: usize, rdns: usize) -> Vec<u8> {
    let name = |base: usize| {
        let rdn = |r: usize| {
            let value = format!("{base:04}{r:04}").into_bytes();
            let cn =
                Node::Constructed(0x30, vec![Node::Primitive(0x06, vec![0x55, 4, 3]), Node::Primitive(0x0c, value)]);
            Node::Constructed(0x31, vec![cn])
        };
        Node::Constructed(0x30, (0..rdns).map(rdn).collect())
    };
    let ca = Ca::new(&format!("wide {tag}"));
    with_names(&ca.certificate.der, Some(&name(tag + 5000)), Some(&name(tag)), &ca.certificate.key_pem)
}

/// The OID of the private extension `with_explicit_false` marks: 1.3.6.1.4.1.99999.1.
const MARK_OID: [u64; 8] = [1, 3, 6, 1, 4, 1, 99999, 1];

/// A leaf from `ca` (a P-256 CA) carrying a private non-critical extension written with an
/// explicit `critical BOOLEAN FALSE` (DER omits a DEFAULT; some CAs wrote it anyway),
/// signed by the CA over exactly those bytes.
pub fn with_explicit_false(ca: &Ca, options: &LeafOptions) -> Issued {
    let mut options = options.clone();
    options.extensions.push((MARK_OID.to_vec(), vec![0x05, 0x00]));
    let issued = ca.issue(&options);
    let cert = parse(&issued.der);
    let parts = children(&cert).to_vec();
    let Node::Constructed(tbs_tag, mut tbs) = parts[0].clone() else { panic!("tbs") };
    let oid = write(&parse(&oid_der(&MARK_OID)));
    let mut found = false;
    for field in tbs.iter_mut() {
        let Node::Constructed(0xa3, wrapper) = field else { continue };
        let Node::Constructed(0x30, extensions) = &mut wrapper[0] else { continue };
        for extension in extensions.iter_mut() {
            let Node::Constructed(0x30, items) = extension else { continue };
            if write(&items[0]) == oid && items.len() == 2 {
                items.insert(1, Node::Primitive(0x01, vec![0x00]));
                found = true;
            }
        }
    }
    assert!(found, "the marked extension");
    let der = signed_p256(&Node::Constructed(tbs_tag, tbs), &parts[1], &ca.certificate.key_pem);
    Issued { der, key_pem: issued.key_pem }
}

/// A certificate of `tbs`, signed over exactly its bytes with a P-256 key (PEM) and
/// `algorithm` as its signatureAlgorithm.
fn signed_p256(tbs: &Node, algorithm: &Node, key_pem: &str) -> Vec<u8> {
    let tbs = write(tbs);
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(key_pem).expect("a P-256 CA key");
    let signature: p256::ecdsa::Signature = key.sign(&tbs);
    let mut bits = vec![0];
    bits.extend_from_slice(signature.to_der().as_bytes());
    let mut body = tbs;
    body.extend(write(algorithm));
    body.extend(write(&Node::Primitive(0x03, bits)));
    let mut der = vec![0x30];
    der.extend(length_bytes(body.len()));
    der.extend(body);
    der
}

fn oid_der(arcs: &[u64]) -> Vec<u8> {
    let mut content = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for arc in &arcs[2..] {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        content.extend(groups.iter().rev());
    }
    let mut out = vec![0x06, content.len() as u8];
    out.extend(content);
    out
}

/// A Name of one RDN holding CN and O, written CN first: DER orders a SET OF by encoding,
/// which puts O (2.5.4.10) first, so a decoder that re-encodes gets other bytes. Some CAs
/// write names this way.
pub fn unsorted_name(cn: &str, o: &str) -> Node {
    let atv = |last: u8, v: &str| {
        Node::Constructed(
            0x30,
            vec![Node::Primitive(0x06, vec![0x55, 0x04, last]), Node::Primitive(0x0c, v.as_bytes().to_vec())],
        )
    };
    Node::Constructed(0x30, vec![Node::Constructed(0x31, vec![atv(0x03, cn), atv(0x0a, o)])])
}

/// `der` (a certificate) with its issuer and/or subject Name replaced, signed again by
/// `signer` (a P-256 CA's key, PEM).
pub fn with_names(der: &[u8], issuer: Option<&Node>, subject: Option<&Node>, signer_key_pem: &str) -> Vec<u8> {
    let cert = parse(der);
    let parts = children(&cert).to_vec();
    let Node::Constructed(tbs_tag, mut tbs) = parts[0].clone() else { panic!("tbs") };
    // version [0], serial, signature algorithm, issuer, validity, subject.
    if let Some(name) = issuer {
        tbs[3] = name.clone();
    }
    if let Some(name) = subject {
        tbs[5] = name.clone();
    }
    signed_p256(&Node::Constructed(tbs_tag, tbs), &parts[1], signer_key_pem)
}

/// `der` (a CRL) with its issuer Name replaced, signed again by `signer` (a P-256 CA's key,
/// PEM): the CRL a CA whose name is written that way issues.
pub fn crl_with_issuer(der: &[u8], issuer: &Node, signer_key_pem: &str) -> Vec<u8> {
    let crl = parse(der);
    let parts = children(&crl).to_vec();
    let Node::Constructed(tbs_tag, mut tbs) = parts[0].clone() else { panic!("tbsCertList") };
    // version (an INTEGER, optional), signature algorithm, issuer.
    let at = if matches!(tbs[0], Node::Primitive(0x02, _)) { 2 } else { 1 };
    tbs[at] = issuer.clone();
    signed_p256(&Node::Constructed(tbs_tag, tbs), &parts[1], signer_key_pem)
}

/// `der` (a certificate with a P-256 key) with its SubjectPublicKeyInfo's point written in
/// compressed form (SEC 1 2.3.3, `02`/`03` and X), the same key, signed again by `signer`
/// (a P-256 CA's key, PEM): what a CA that copies the CSR's key as written issues.
pub fn with_compressed_point(der: &[u8], signer_key_pem: &str) -> Vec<u8> {
    let cert = parse(der);
    let parts = children(&cert).to_vec();
    let Node::Constructed(tbs_tag, mut tbs) = parts[0].clone() else { panic!("tbs") };
    let Node::Constructed(0x30, spki) = tbs[6].clone() else { panic!("spki") };
    let Node::Primitive(0x03, bits) = &spki[1] else { panic!("spki bit string") };
    assert_eq!((bits[0], bits[1], bits.len()), (0, 4, 66), "an uncompressed P-256 point");
    let (x, y) = (&bits[2..34], &bits[34..66]);
    let mut compressed = vec![0, if y[31] & 1 == 1 { 3 } else { 2 }];
    compressed.extend_from_slice(x);
    tbs[6] = Node::Constructed(0x30, vec![spki[0].clone(), Node::Primitive(0x03, compressed)]);
    signed_p256(&Node::Constructed(tbs_tag, tbs), &parts[1], signer_key_pem)
}

/// `der` with its SubjectPublicKeyInfo replaced by `spki` (a whole DER TLV), signed
/// again by `signer` (a P-256 CA's key, PEM): what a CA that copies the CSR's key as written
/// issues for a key spelled that way.
pub fn with_spki(der: &[u8], spki: &[u8], signer_key_pem: &str) -> Vec<u8> {
    let cert = parse(der);
    let parts = children(&cert).to_vec();
    let Node::Constructed(tbs_tag, mut tbs) = parts[0].clone() else { panic!("tbs") };
    tbs[6] = parse(spki);
    signed_p256(&Node::Constructed(tbs_tag, tbs), &parts[1], signer_key_pem)
}

/// `der` (a certificate with an uncompressed P-256 key) with its point written in
/// SEC 1's hybrid form (`06`/`07`, X and Y), which OpenSSL reads, signed again by `signer`.
pub fn with_hybrid_point(der: &[u8], signer_key_pem: &str) -> Vec<u8> {
    let cert = parse(der);
    let parts = children(&cert).to_vec();
    let Node::Constructed(_, tbs) = parts[0].clone() else { panic!("tbs") };
    let Node::Constructed(0x30, spki) = tbs[6].clone() else { panic!("spki") };
    let Node::Primitive(0x03, mut bits) = spki[1].clone() else { panic!("bits") };
    assert_eq!((bits[0], bits[1], bits.len()), (0, 4, 66), "an uncompressed P-256 point");
    bits[1] = if bits[65] & 1 == 1 { 7 } else { 6 };
    let spki = write(&Node::Constructed(0x30, vec![spki[0].clone(), Node::Primitive(0x03, bits)]));
    with_spki(der, &spki, signer_key_pem)
}
