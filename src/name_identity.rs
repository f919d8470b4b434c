//! One name, one identity: a distinguished name can be written in more than one way that
//! OpenSSL's `X509_NAME_cmp` (and X.520's matching rules) read as the same name: a value
//! as a PrintableString, UTF8String, TeletexString, BMPString, UniversalString, IA5String
//! or VisibleString; in another case; with white space doubled or at its ends; the
//! attributes of a multi-valued RDN in another order; an empty RDN. (RFC 4518's Unicode
//! preparation, NFKC and the characters it maps to nothing, is not applied: OpenSSL does
//! not apply it either.) Chain building compares names byte
//! for byte (rustls-webpki, as RFC 5280 asks of conforming CAs), but a revocation must not
//! miss a certificate because its CA wrote its own name two ways, so a CRL's issuer is
//! compared with a certificate's issuer by [`name_key`].
//!
//! The key is only ever used to find *more* lists for a certificate (its CA's key must
//! match too, or the status is only "unknown"): a looser match denies more, never less.

use sha2::{Digest, Sha256};

/// The identity of a Name, from its content (the RDNs, without the outer SEQUENCE's tag
/// and length): SHA-256 over each RDN in order, its attributes sorted, each attribute's
/// type as written and its value, when a string type that X.520 compares as a
/// DirectoryString, decoded to Unicode with white space trimmed and runs of it collapsed
/// to one space, and lowercased; any other value as written. Content that is not a
/// sequence of RDNs is hashed as it is, apart from every real name.
pub(crate) fn name_key(content: &[u8]) -> [u8; 32] {
    // A real CA's name is a few hundred bytes; a longer one (a client can write its own
    // certificate's issuer) is hashed as written, so its cost is the hash's.
    if content.len() <= MAX_NAME_BYTES {
        if let Some(key) = readable_key(content) {
            return key;
        }
    }
    let mut digest = Sha256::new();
    digest.update(b"certgate unreadable name\0");
    digest.update(content);
    digest.finalize().into()
}

/// Names longer than this, or with an RDN of more attributes than this, are keyed by their
/// bytes as written: a CA's name is a few hundred bytes, its RDNs of one to three
/// attributes, and this bounds the work a name a client writes can cost.
const MAX_NAME_BYTES: usize = 2048;
const MAX_RDN_ATTRIBUTES: usize = 8;

/// The key of a sequence of SETs of (OID, value) SEQUENCEs: each RDN's attributes in
/// canonical form, sorted (an empty RDN is left out, as OpenSSL leaves it out); `None`
/// for anything else.
fn readable_key(mut content: &[u8]) -> Option<[u8; 32]> {
    let mut digest = Sha256::new();
    digest.update(b"certgate name v1\0");
    let mut attributes: Vec<Vec<u8>> = Vec::new();
    while !content.is_empty() {
        let (tag, mut set, rest) = tlv(content)?;
        content = rest;
        if tag != 0x31 {
            return None;
        }
        // Most RDNs hold one attribute: the buffers are reused, and sorted only when more.
        let mut count = 0;
        while !set.is_empty() {
            let (tag, attribute, rest) = tlv(set)?;
            set = rest;
            if tag != 0x30 || count == MAX_RDN_ATTRIBUTES {
                return None;
            }
            if attributes.len() == count {
                attributes.push(Vec::new());
            }
            let canonical = &mut attributes[count];
            canonical.clear();
            canonical_attribute(attribute, canonical)?;
            count += 1;
        }
        if count == 0 {
            continue;
        }
        let rdn = &mut attributes[..count];
        rdn.sort_unstable();
        digest.update((count as u64).to_be_bytes());
        for attribute in rdn.iter() {
            digest.update((attribute.len() as u64).to_be_bytes());
            digest.update(attribute);
        }
    }
    Some(digest.finalize().into())
}

/// One AttributeTypeAndValue's content in canonical form, appended to `out`: its type as
/// written, then its value folded ([`fold_into`]) when a string type OpenSSL reads as text,
/// or as written.
fn canonical_attribute(attribute: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let (oid_tag, oid, value_tlv) = tlv(attribute)?;
    let (value_tag, value, after) = tlv(value_tlv)?;
    if oid_tag != 0x06 || !after.is_empty() {
        return None;
    }
    out.extend_from_slice(&(oid.len() as u32).to_be_bytes());
    out.extend_from_slice(oid);
    let start = out.len();
    out.push(0);
    if !fold_into(value_tag, value, out) {
        out.truncate(start);
        out.push(1);
        out.extend_from_slice(value_tlv);
    }
    Some(())
}

/// The text of a value of one of the string types X.520 matches as a DirectoryString (and
/// IA5String and VisibleString, which OpenSSL canonicalises too), read as OpenSSL's
/// `ASN1_STRING_to_UTF8` reads it, folded and appended to `out` as UTF-8: white space
/// trimmed, each run of it one space, lowercase. `false` (and `out` partly written) for any
/// other type, or bytes that are not valid for their type.
fn fold_into(tag: u8, value: &[u8], out: &mut Vec<u8>) -> bool {
    match tag {
        // UTF8String
        0x0c => match std::str::from_utf8(value) {
            Ok(text) => fold_chars(text.chars().map(Some), out),
            Err(_) => false,
        },
        // PrintableString, TeletexString (T.61), IA5String, VisibleString: one byte a
        // character, Latin-1 (ASCII for a well-formed one).
        0x13 | 0x14 | 0x16 | 0x1a => fold_chars(value.iter().map(|&b| Some(char::from(b))), out),
        // UniversalString: UTF-32BE.
        0x1c if value.len() % 4 == 0 => {
            fold_chars(value.chunks_exact(4).map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))), out)
        }
        // BMPString: UTF-16BE.
        0x1e if value.len() % 2 == 0 => fold_chars(
            char::decode_utf16(value.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]))).map(Result::ok),
            out,
        ),
        _ => false,
    }
}

/// Appends the folded text of `chars` (`None` is a character its type cannot hold: then
/// `false`).
fn fold_chars(chars: impl Iterator<Item = Option<char>>, out: &mut Vec<u8>) -> bool {
    let mut space = false;
    let mut started = false;
    let mut buffer = [0u8; 4];
    for c in chars {
        let Some(c) = c else { return false };
        if c.is_whitespace() {
            space = started;
            continue;
        }
        if space {
            out.push(b' ');
            space = false;
        }
        started = true;
        for lower in c.to_lowercase() {
            out.extend_from_slice(lower.encode_utf8(&mut buffer).as_bytes());
        }
    }
    true
}

/// One DER TLV at the start of `bytes`: its tag (one byte; high tag numbers are refused),
/// its content, and what follows. Lengths in short form or long form up to four bytes.
fn tlv(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count].iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
        (length, &rest[count..])
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An attribute (OID content, value tag, value bytes) as DER.
    fn attribute(oid: &[u8], tag: u8, value: &[u8]) -> Vec<u8> {
        let mut inner = vec![0x06, oid.len() as u8];
        inner.extend_from_slice(oid);
        inner.extend([tag, value.len() as u8]);
        inner.extend_from_slice(value);
        let mut out = vec![0x30, inner.len() as u8];
        out.extend(inner);
        out
    }

    fn rdn(attributes: &[Vec<u8>]) -> Vec<u8> {
        let inner: Vec<u8> = attributes.concat();
        let mut out = vec![0x31, inner.len() as u8];
        out.extend(inner);
        out
    }

    const CN: &[u8] = &[0x55, 0x04, 0x03];
    const O: &[u8] = &[0x55, 0x04, 0x0a];

    fn utf16(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    fn utf32(text: &str) -> Vec<u8> {
        text.chars().flat_map(|c| (c as u32).to_be_bytes()).collect()
    }

    /// Every spelling X.520 and OpenSSL read as `CN=Fleet Issuing CA` is one key; other
    /// names, attribute types, orders of RDNs and values of other types are others.
    #[test]
    fn every_spelling_of_a_name_has_one_key_and_other_names_others() {
        let name =
            |tag: u8, value: &[u8]| [rdn(&[attribute(O, 0x0c, b"Fleet")]), rdn(&[attribute(CN, tag, value)])].concat();
        let usual = name_key(&name(0x0c, b"Fleet Issuing CA"));
        for (spelling, content) in [
            ("PrintableString", name(0x13, b"Fleet Issuing CA")),
            ("IA5String", name(0x16, b"Fleet Issuing CA")),
            ("VisibleString", name(0x1a, b"Fleet Issuing CA")),
            ("TeletexString", name(0x14, b"Fleet Issuing CA")),
            ("BMPString", name(0x1e, &utf16("Fleet Issuing CA"))),
            ("UniversalString", name(0x1c, &utf32("Fleet Issuing CA"))),
            ("upper case", name(0x0c, b"FLEET ISSUING CA")),
            ("doubled space", name(0x0c, b"Fleet  Issuing CA")),
            ("spaces at the ends", name(0x13, b" Fleet Issuing CA ")),
        ] {
            assert_eq!(name_key(&content), usual, "{spelling}");
        }
        // Non-ASCII letters fold as Unicode does; Latin-1 in a TeletexString reads as such.
        let zurich = |tag: u8, value: &[u8]| rdn(&[attribute(CN, tag, value)]);
        assert_eq!(
            name_key(&zurich(0x0c, "ZÜRICH".as_bytes())),
            name_key(&zurich(0x14, &[b'z', 0xfc, b'r', b'i', b'c', b'h']))
        );
        // PrintableString, IA5String and VisibleString holding Latin-1 read as OpenSSL reads
        // them, and an empty RDN is no RDN (found by a review).
        for tag in [0x13, 0x16, 0x1a] {
            assert_eq!(name_key(&zurich(tag, b"Z\xfcrich")), name_key(&zurich(0x0c, "zürich".as_bytes())), "{tag:#x}");
        }
        assert_eq!(name_key(&[rdn(&[]), zurich(0x0c, b"a")].concat()), name_key(&zurich(0x0c, b"a")));
        // A name longer than a CA's ever is: keyed as written, apart from its readable form.
        let long = (0..200).map(|_| zurich(0x0c, b"abcdefgh")).collect::<Vec<_>>().concat();
        let long_upper = (0..200).map(|_| zurich(0x0c, b"ABCDEFGH")).collect::<Vec<_>>().concat();
        assert!(long.len() > MAX_NAME_BYTES);
        assert_ne!(name_key(&long), name_key(&long_upper));
        let (short, short_upper) = (&long[..long.len() / 2], &long_upper[..long.len() / 2]);
        assert!(short.len() <= MAX_NAME_BYTES);
        assert_eq!(name_key(short), name_key(short_upper));
        // So is an RDN of more attributes than a CA's ever has.
        let wide = |text: &[u8]| rdn(&vec![attribute(CN, 0x0c, text); MAX_RDN_ATTRIBUTES + 1]);
        assert_ne!(name_key(&wide(b"a")), name_key(&wide(b"A")));
        let most = |text: &[u8]| rdn(&vec![attribute(CN, 0x0c, text); MAX_RDN_ATTRIBUTES]);
        assert_eq!(name_key(&most(b"a")), name_key(&most(b"A")));
        // A multi-valued RDN in either order.
        let (a, b) = (attribute(CN, 0x0c, b"a"), attribute(O, 0x0c, b"b"));
        assert_eq!(name_key(&rdn(&[a.clone(), b.clone()])), name_key(&rdn(&[b.clone(), a.clone()])));
        for (other, content) in [
            ("another value", name(0x0c, b"Fleet Issuing CA 2")),
            (
                "the RDNs in another order",
                [rdn(&[attribute(CN, 0x0c, b"Fleet Issuing CA")]), rdn(&[attribute(O, 0x0c, b"Fleet")])].concat(),
            ),
            ("one RDN of both", rdn(&[attribute(O, 0x0c, b"Fleet"), attribute(CN, 0x0c, b"Fleet Issuing CA")])),
            (
                "another attribute type",
                [rdn(&[attribute(O, 0x0c, b"Fleet")]), rdn(&[attribute(O, 0x0c, b"Fleet Issuing CA")])].concat(),
            ),
            ("an OCTET STRING", name(0x04, b"Fleet Issuing CA")),
            ("a PrintableString with other Latin-1", name(0x13, b"Fleet Issuing C\xc4")),
        ] {
            assert_ne!(name_key(&content), usual, "{other}");
        }
        // Content that is not a Name: hashed apart, never equal to a name's key.
        assert_ne!(name_key(&[0x30, 0x00]), name_key(&[]));
        assert_ne!(name_key(&[0x31, 0x05]), usual);
        assert_eq!(name_key(&[0x31, 0x05]), name_key(&[0x31, 0x05]));
        // BMPString of odd length, UniversalString not a multiple of four: as written.
        assert_ne!(name_key(&name(0x1e, b"abc")), name_key(&name(0x0c, b"abc")));
        assert_ne!(name_key(&name(0x1c, b"abcdef")), name_key(&name(0x0c, b"abcdef")));
    }
}
