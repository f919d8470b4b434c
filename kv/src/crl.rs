//! Reading the revocations a CRL lists, for `revoke-crl`: the issuer (as the store keys
//! it, the SHA-256 of the issuer Name's DER) and every revoked serial.
//!
//! The CRL's signature is verified only when `--ca` names its issuer's certificates
//! (`certgate::check_crl_issuer`, the check the `crls` variable makes); otherwise the
//! operator vouches for the file, as for a thumbprint list. What would make the store say something the CRL does not is refused:
//! a delta CRL (its entries only make sense on top of a base CRL, and `removeFromCRL`
//! entries un-revoke), an entry of another issuer (an indirect CRL's `certificateIssuer`,
//! which keying by the CRL's own issuer would misfile), and an entry whose reason is
//! `removeFromCRL`.

use x509_cert::crl::CertificateList;
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::Decode;

use crate::input::{pem_blocks, Input, InputError};

/// `id-ce-deltaCRLIndicator` (RFC 5280 5.2.4).
const DELTA_CRL_INDICATOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
/// `id-ce-certificateIssuer` (RFC 5280 5.3.3), an indirect CRL's entry of another issuer.
const CERTIFICATE_ISSUER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.29");
/// `id-ce-cRLReasons` (RFC 5280 5.3.1).
const REASON_CODE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
/// The DER of the reason `removeFromCRL` (ENUMERATED 8).
const REMOVE_FROM_CRL: [u8; 3] = [0x0a, 0x01, 0x08];

/// What one CRL revokes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrlRevocations {
    /// SHA-256 of the CRL issuer Name's DER: what certgate hashes a certificate's issuer to.
    pub issuer_sha256: [u8; 32],
    /// The issuer in RFC 4514 form, for messages.
    pub issuer: String,
    /// The revoked serials, as the CRL encodes them (the store normalises them).
    pub serials: Vec<Vec<u8>>,
    /// nextUpdate, Unix seconds, when the CRL has one.
    pub next_update: Option<i64>,
    /// Where it came from: the input and, for PEM, the BEGIN line.
    pub origin: String,
    /// The CRL's DER, to check its issuer with (`--ca`).
    pub der: Vec<u8>,
}

/// The CRLs of an input: PEM `X509 CRL` blocks (any number) or one DER CRL.
pub fn read_crls(input: &Input) -> Result<Vec<CrlRevocations>, InputError> {
    let error = |line: Option<usize>, message: String| InputError { source: input.name.clone(), line, message };
    let ders: Vec<(Option<usize>, Vec<u8>)> = match input.text() {
        Some(text) if text.contains("-----BEGIN ") => {
            let mut ders = Vec::new();
            for block in pem_blocks(input, text)? {
                if block.label != "X509 CRL" {
                    return Err(error(
                        Some(block.line),
                        format!("a PEM block of type {}: give X509 CRL blocks", block.label),
                    ));
                }
                ders.push((Some(block.line), block.der));
            }
            if ders.is_empty() {
                return Err(error(None, "holds no X509 CRL block".into()));
            }
            ders
        }
        _ => vec![(None, input.bytes.clone())],
    };
    ders.into_iter()
        .map(|(line, der)| {
            let origin = match line {
                Some(l) => format!("{} line {l}", input.name),
                None => input.name.clone(),
            };
            revocations(&der, origin).map_err(|m| error(line, m))
        })
        .collect()
}

fn revocations(der: &[u8], origin: String) -> Result<CrlRevocations, String> {
    let crl = CertificateList::from_der(der).map_err(|e| format!("not a DER X.509 CRL ({e})"))?;
    let tbs = &crl.tbs_cert_list;
    let issuer = tbs.issuer.to_string();
    if tbs.crl_extensions.iter().flatten().any(|e| e.extn_id == DELTA_CRL_INDICATOR) {
        return Err(format!("a delta CRL (from {issuer}): give the full CRL"));
    }
    let mut serials = Vec::new();
    for entry in tbs.revoked_certificates.iter().flatten() {
        for ext in entry.crl_entry_extensions.iter().flatten() {
            if ext.extn_id == CERTIFICATE_ISSUER {
                return Err(format!(
                    "an indirect CRL (from {issuer}): an entry names another certificate issuer, which a \
                     revocation keyed by the CRL's issuer would misfile"
                ));
            }
            if ext.extn_id == REASON_CODE && ext.extn_value.as_bytes() == REMOVE_FROM_CRL {
                return Err(format!(
                    "an entry with reason removeFromCRL (from {issuer}): that un-revokes, it is not a revocation"
                ));
            }
        }
        serials.push(entry.serial_number.as_bytes().to_vec());
    }
    let next_update = tbs.next_update.map(|t| i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX));
    // The issuer as the CRL carries it (certgate's own reading): re-encoding would re-sort an
    // RDN written out of order and miss every certificate that CA signed.
    let issuer_sha256 =
        certgate::store::crl_issuer_sha256(der).ok_or_else(|| "the CRL's issuer cannot be read".to_string())?;
    Ok(CrlRevocations { issuer_sha256, issuer, serials, next_update, origin, der: der.to_vec() })
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use base64::Engine;
    use certgate_testkit::{Ca, Duration, OffsetDateTime};
    use x509_cert::crl::{RevokedCert, TbsCertList};
    use x509_cert::der::asn1::{BitString, GeneralizedTime, OctetString};
    use x509_cert::ext::Extension;
    use x509_cert::name::Name;
    use x509_cert::serial_number::SerialNumber;
    use x509_cert::spki::AlgorithmIdentifierOwned;
    use x509_cert::time::Time;
    use x509_cert::Version;

    use super::*;
    use sha2::{Digest, Sha256};
    use x509_cert::der::Encode;

    fn time(unix: u64) -> Time {
        Time::GeneralTime(GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(unix)).unwrap())
    }

    fn extension(oid: ObjectIdentifier, value: &[u8]) -> Extension {
        Extension { extn_id: oid, critical: false, extn_value: OctetString::new(value.to_vec()).unwrap() }
    }

    /// A CRL built field by field (its signature is junk: certgate-kv does not verify it).
    fn crl(entry_extensions: Vec<Extension>, crl_extensions: Option<Vec<Extension>>) -> Vec<u8> {
        let algorithm =
            AlgorithmIdentifierOwned { oid: ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"), parameters: None };
        let tbs = TbsCertList {
            version: Version::V2,
            signature: algorithm.clone(),
            issuer: Name::from_str("CN=Hand Made CA,O=Fleet").unwrap(),
            this_update: time(1_700_000_000),
            next_update: Some(time(1_800_000_000)),
            revoked_certificates: Some(vec![
                RevokedCert {
                    serial_number: SerialNumber::new(&[0x00, 0x8f, 0x01]).unwrap(),
                    revocation_date: time(1_700_000_000),
                    crl_entry_extensions: (!entry_extensions.is_empty()).then_some(entry_extensions),
                },
                RevokedCert {
                    serial_number: SerialNumber::new(&[0x02]).unwrap(),
                    revocation_date: time(1_700_000_000),
                    crl_entry_extensions: None,
                },
            ]),
            crl_extensions,
        };
        let list = CertificateList {
            tbs_cert_list: tbs,
            signature_algorithm: algorithm,
            signature: BitString::from_bytes(&[0]).unwrap(),
        };
        list.to_der().unwrap()
    }

    fn pem(der: &[u8]) -> String {
        format!(
            "-----BEGIN X509 CRL-----\n{}\n-----END X509 CRL-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        )
    }

    #[test]
    fn a_crl_names_its_issuer_as_certgate_hashes_it_and_every_serial() {
        let der = crl(vec![], None);
        let expected_issuer: [u8; 32] =
            Sha256::digest(Name::from_str("CN=Hand Made CA,O=Fleet").unwrap().to_der().unwrap()).into();
        for input in
            [Input::from_bytes("a.der", der.clone()), Input::from_bytes("a.pem", format!("{}{}", pem(&der), pem(&der)))]
        {
            let crls = read_crls(&input).unwrap();
            assert_eq!(crls.len(), if input.name.ends_with("pem") { 2 } else { 1 });
            assert_eq!(crls[0].issuer_sha256, expected_issuer);
            assert_eq!(crls[0].serials, vec![vec![0x00, 0x8f, 0x01], vec![0x02]]);
            assert_eq!(crls[0].next_update, Some(1_800_000_000));
        }
        // An unrelated reason code is a revocation like any other.
        let key_compromise = crl(vec![extension(REASON_CODE, &[0x0a, 0x01, 0x01])], None);
        assert_eq!(read_crls(&Input::from_bytes("k.der", key_compromise)).unwrap()[0].serials.len(), 2);
    }

    #[test]
    fn what_a_revocation_by_the_crls_issuer_would_misstate_is_refused() {
        let cases = [
            (crl(vec![], Some(vec![extension(DELTA_CRL_INDICATOR, &[0x02, 0x01, 0x05])])), "a delta CRL"),
            (crl(vec![extension(CERTIFICATE_ISSUER, &[0x30, 0x00])], None), "an indirect CRL"),
            (crl(vec![extension(REASON_CODE, &REMOVE_FROM_CRL)], None), "removeFromCRL"),
        ];
        for (der, message) in cases {
            let error = read_crls(&Input::from_bytes("x.pem", pem(&der))).unwrap_err();
            assert_eq!(error.line, Some(1));
            assert!(error.message.contains(message), "{}", error.message);
        }
        let junk = read_crls(&Input::from_bytes("junk.der", vec![0x30, 0x03, 0x02, 0x01, 0x01])).unwrap_err();
        assert!(junk.message.contains("not a DER X.509 CRL"), "{}", junk.message);
    }

    #[test]
    fn the_testkits_crl_reads_with_its_serials() {
        let ca = Ca::new("Fleet CA");
        let now = OffsetDateTime::now_utc();
        let crl = ca.crl(&[&[0x01], &[0x00, 0x80]], now - Duration::hours(1), now + Duration::days(1));
        let crls = read_crls(&Input::from_bytes("ca.crl", crl)).unwrap();
        assert_eq!(crls[0].issuer, "CN=Fleet CA");
        assert_eq!(crls[0].serials.len(), 2);
    }
}
