//! Certificate decoding, and chain validation of whatever decodes, against an anchor
//! that is the input itself (so signature, constraint and EKU code runs on hostile DER).
#![no_main]

use certgate::ClientCertificate;
use certgate::internals::{CaCertificate, EkuPolicy, SignatureBudget, SignedCertificate, TrustStore};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(cert) = ClientCertificate::from_der(data) else { return };
    assert!(cert.not_before <= i64::MAX);
    if let Ok(anchor) = CaCertificate::from_der(data.to_vec()) {
        let store = TrustStore::new(vec![anchor], vec![]);
        let budget = SignatureBudget::default();
        let _ = store.verify(data, &[data.to_vec()], cert.not_before, EkuPolicy::ClientAuth, &budget);
        let _ = store.verify(data, &[], cert.not_after, EkuPolicy::Any, &SignatureBudget::default());
        if let Ok(signed) = SignedCertificate::from_der(data) {
            let _ = store.issuer_of(&signed, &budget);
        }
    }
    // Every twin of a certificate is another encoding of the same signed bytes.
    for twin in certgate::internals::ecdsa_twins(data) {
        let a = certgate::internals::signed_parts(data).map(|p| p.0.to_vec());
        let b = certgate::internals::signed_parts(&twin).map(|p| p.0.to_vec());
        assert_eq!(a, b);
    }
});
