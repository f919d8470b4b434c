//! Certificate decoding, and chain validation of whatever decodes, against an anchor
//! that is the input itself (so signature, constraint and EKU code runs on hostile DER).
#![no_main]

use certgate::certificate::ClientCertificate;
use certgate::trust::{CaCertificate, EkuPolicy, TrustStore};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(cert) = ClientCertificate::from_der(data) else { return };
    assert!(cert.not_before <= i64::MAX);
    if let Ok(anchor) = CaCertificate::from_der(data.to_vec()) {
        let store = TrustStore { anchors: vec![anchor], intermediates: vec![], crls: vec![] };
        let _ = store.verify(data, &[data.to_vec()], cert.not_before, EkuPolicy::ClientAuth);
        let _ = store.verify(data, &[], cert.not_after, EkuPolicy::Any);
    }
});
