//! Signature verification for chain building, in pure Rust (RustCrypto), so it builds for
//! `wasm32-wasip2`: rustls-webpki takes these through its `SignatureVerificationAlgorithm`
//! trait instead of ring or aws-lc-rs (both C).

use pki_types::alg_id;
use pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// The version of what certgate's own checks accept, for the chain cache's trust digest:
/// raised whenever a change makes a path that verified before fail (2: an RSA signature
/// must be below the modulus and exactly its length), so an entry cached by an earlier
/// build is never served by a later one even where the dependency set is the same.
pub(crate) const VERIFICATION_RULES: u32 = 2;

/// Every algorithm certgate verifies: ECDSA P-256/P-384 with SHA-256/384, Ed25519, RSA
/// PKCS#1 v1.5 and RSA-PSS with SHA-256/384/512 (2048 to 4096-bit keys, exponent at most 65537).
pub(crate) static ALL: &[&dyn SignatureVerificationAlgorithm] = &[
    &Ecdsa { curve: Curve::P256, hash: Hash::Sha256 },
    &Ecdsa { curve: Curve::P256, hash: Hash::Sha384 },
    &Ecdsa { curve: Curve::P384, hash: Hash::Sha256 },
    &Ecdsa { curve: Curve::P384, hash: Hash::Sha384 },
    &Ed25519,
    &Rsa { padding: Padding::Pkcs1, hash: Hash::Sha256 },
    &Rsa { padding: Padding::Pkcs1, hash: Hash::Sha384 },
    &Rsa { padding: Padding::Pkcs1, hash: Hash::Sha512 },
    &Rsa { padding: Padding::Pss, hash: Hash::Sha256 },
    &Rsa { padding: Padding::Pss, hash: Hash::Sha384 },
    &Rsa { padding: Padding::Pss, hash: Hash::Sha512 },
];

#[derive(Clone, Copy, Debug)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha384 => Sha384::digest(message).to_vec(),
            Hash::Sha512 => Sha512::digest(message).to_vec(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Curve {
    P256,
    P384,
}

#[derive(Debug)]
struct Ecdsa {
    curve: Curve,
    hash: Hash,
}

impl SignatureVerificationAlgorithm for Ecdsa {
    fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), InvalidSignature> {
        use ecdsa::signature::hazmat::PrehashVerifier;
        let prehash = self.hash.digest(message);
        match self.curve {
            Curve::P256 => {
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
                let sig = p256::ecdsa::DerSignature::from_bytes(signature).map_err(|_| InvalidSignature)?;
                let sig = p256::ecdsa::Signature::try_from(sig).map_err(|_| InvalidSignature)?;
                key.verify_prehash(&prehash, &sig).map_err(|_| InvalidSignature)
            }
            Curve::P384 => {
                let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
                let sig = p384::ecdsa::DerSignature::from_bytes(signature).map_err(|_| InvalidSignature)?;
                let sig = p384::ecdsa::Signature::try_from(sig).map_err(|_| InvalidSignature)?;
                key.verify_prehash(&prehash, &sig).map_err(|_| InvalidSignature)
            }
        }
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        match self.curve {
            Curve::P256 => alg_id::ECDSA_P256,
            Curve::P384 => alg_id::ECDSA_P384,
        }
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        match self.hash {
            Hash::Sha256 => alg_id::ECDSA_SHA256,
            Hash::Sha384 => alg_id::ECDSA_SHA384,
            Hash::Sha512 => alg_id::ECDSA_SHA512,
        }
    }
}

#[derive(Debug)]
struct Ed25519;

impl SignatureVerificationAlgorithm for Ed25519 {
    fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), InvalidSignature> {
        let key: &[u8; 32] = public_key.try_into().map_err(|_| InvalidSignature)?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(key).map_err(|_| InvalidSignature)?;
        let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| InvalidSignature)?;
        key.verify_strict(message, &sig).map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED25519
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED25519
    }
}

#[derive(Clone, Copy, Debug)]
enum Padding {
    Pkcs1,
    Pss,
}

#[derive(Debug)]
struct Rsa {
    padding: Padding,
    hash: Hash,
}

/// RSA keys outside 2048..=4096 bits are refused (the rsa crate reads no larger key).
const RSA_MIN_BITS: usize = 2048;
const RSA_MAX_BITS: usize = 4096;
/// Largest RSA public exponent accepted: 65537 (F4), what CAs use.
const RSA_MAX_EXPONENT: u64 = 65_537;

impl SignatureVerificationAlgorithm for Rsa {
    fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), InvalidSignature> {
        use rsa::pkcs1::DecodeRsaPublicKey;
        use rsa::traits::PublicKeyParts;
        let key = rsa::RsaPublicKey::from_pkcs1_der(public_key).map_err(|_| InvalidSignature)?;
        let bits = key.n().bits();
        if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
            return Err(InvalidSignature);
        }
        // The verification costs one squaring per exponent bit: a forwarded CA may not make
        // it cost 2^33 (what the rsa crate allows) instead of 65537.
        if key.e() > &rsa::BigUint::from(RSA_MAX_EXPONENT) {
            return Err(InvalidSignature);
        }
        // One signature, one encoding: RSAVP1 (RFC 8017, 5.2.2) refuses a representative of
        // n or more, and the signature is exactly as long as the modulus (8.1.2, 8.2.2). The
        // rsa crate checks both for PKCS#1 v1.5 but only the length for PSS, where `s + n`
        // (as long as `s`, for about a third of signatures) would verify too: another DER of
        // the same certificate, with another thumbprint that a revocation would not name.
        if signature.len() != key.size() || rsa::BigUint::from_bytes_be(signature) >= *key.n() {
            return Err(InvalidSignature);
        }
        let hashed = self.hash.digest(message);
        let result = match (self.padding, self.hash) {
            (Padding::Pkcs1, Hash::Sha256) => key.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &hashed, signature),
            (Padding::Pkcs1, Hash::Sha384) => key.verify(rsa::Pkcs1v15Sign::new::<Sha384>(), &hashed, signature),
            (Padding::Pkcs1, Hash::Sha512) => key.verify(rsa::Pkcs1v15Sign::new::<Sha512>(), &hashed, signature),
            // RFC 4055 / RFC 8017: salt length equal to the hash length, MGF1 with the same hash.
            (Padding::Pss, Hash::Sha256) => key.verify(rsa::Pss::new::<Sha256>(), &hashed, signature),
            (Padding::Pss, Hash::Sha384) => key.verify(rsa::Pss::new::<Sha384>(), &hashed, signature),
            (Padding::Pss, Hash::Sha512) => key.verify(rsa::Pss::new::<Sha512>(), &hashed, signature),
        };
        result.map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        match (self.padding, self.hash) {
            (Padding::Pkcs1, Hash::Sha256) => alg_id::RSA_PKCS1_SHA256,
            (Padding::Pkcs1, Hash::Sha384) => alg_id::RSA_PKCS1_SHA384,
            (Padding::Pkcs1, Hash::Sha512) => alg_id::RSA_PKCS1_SHA512,
            (Padding::Pss, Hash::Sha256) => alg_id::RSA_PSS_SHA256,
            (Padding::Pss, Hash::Sha384) => alg_id::RSA_PSS_SHA384,
            (Padding::Pss, Hash::Sha512) => alg_id::RSA_PSS_SHA512,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecdsa::signature::hazmat::PrehashSigner;
    use rsa::signature::{RandomizedSigner, SignatureEncoding};

    fn find(key: AlgorithmIdentifier, sig: AlgorithmIdentifier) -> &'static dyn SignatureVerificationAlgorithm {
        *ALL.iter().find(|a| a.public_key_alg_id() == key && a.signature_alg_id() == sig).expect("algorithm")
    }

    fn check(alg: &dyn SignatureVerificationAlgorithm, public_key: &[u8], message: &[u8], signature: &[u8]) {
        assert!(alg.verify_signature(public_key, message, signature).is_ok(), "{alg:?} rejects a good signature");
        assert!(
            alg.verify_signature(public_key, b"another message", signature).is_err(),
            "{alg:?} accepts a wrong message"
        );
        let mut bad = signature.to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(alg.verify_signature(public_key, message, &bad).is_err(), "{alg:?} accepts a corrupted signature");
    }

    #[test]
    fn ecdsa_every_curve_and_hash() {
        let message = b"tbsCertificate bytes";
        let k256 = p256::ecdsa::SigningKey::from_bytes(&[7u8; 32].into()).unwrap();
        let pk256 = k256.verifying_key().to_encoded_point(false);
        let k384 = p384::ecdsa::SigningKey::from_bytes(&[7u8; 48].into()).unwrap();
        let pk384 = k384.verifying_key().to_encoded_point(false);
        for hash in [Hash::Sha256, Hash::Sha384] {
            let digest = hash.digest(message);
            let sig_alg = if matches!(hash, Hash::Sha256) { alg_id::ECDSA_SHA256 } else { alg_id::ECDSA_SHA384 };
            let s: p256::ecdsa::Signature = k256.sign_prehash(&digest).unwrap();
            check(find(alg_id::ECDSA_P256, sig_alg), pk256.as_bytes(), message, s.to_der().as_bytes());
            let s: p384::ecdsa::Signature = k384.sign_prehash(&digest).unwrap();
            check(find(alg_id::ECDSA_P384, sig_alg), pk384.as_bytes(), message, s.to_der().as_bytes());
        }
    }

    #[test]
    fn ed25519() {
        use ed25519_dalek::Signer;
        let key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
        let message = b"tbsCertificate bytes";
        let sig = key.sign(message);
        check(find(alg_id::ED25519, alg_id::ED25519), key.verifying_key().as_bytes(), message, &sig.to_bytes());
    }

    #[test]
    fn rsa_exponents_above_f4_are_refused() {
        use rsa::pkcs1::EncodeRsaPublicKey;
        let mut rng = rand::thread_rng();
        let message = b"tbsCertificate bytes";
        let alg = find(alg_id::RSA_ENCRYPTION, alg_id::RSA_PKCS1_SHA256);
        for (exponent, accepted) in [(65_537u64, true), (65_539, false), (8_589_934_591, false), (3, true)] {
            let key = rsa::RsaPrivateKey::new_with_exp(&mut rng, 2048, &rsa::BigUint::from(exponent)).unwrap();
            let public = key.to_public_key().to_pkcs1_der().unwrap();
            let sig = rsa::pkcs1v15::SigningKey::<Sha256>::new(key).sign_with_rng(&mut rng, message).to_vec();
            assert_eq!(alg.verify_signature(public.as_bytes(), message, &sig).is_ok(), accepted, "e = {exponent}");
        }
    }

    #[test]
    fn rsa_pkcs1_and_pss() {
        use rsa::pkcs1::EncodeRsaPublicKey;
        let mut rng = rand::thread_rng();
        let key = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
        let public = key.to_public_key().to_pkcs1_der().unwrap();
        let message = b"tbsCertificate bytes";
        let pkcs1_256 = rsa::pkcs1v15::SigningKey::<Sha256>::new(key.clone()).sign_with_rng(&mut rng, message).to_vec();
        let pkcs1_384 = rsa::pkcs1v15::SigningKey::<Sha384>::new(key.clone()).sign_with_rng(&mut rng, message).to_vec();
        let pkcs1_512 = rsa::pkcs1v15::SigningKey::<Sha512>::new(key.clone()).sign_with_rng(&mut rng, message).to_vec();
        let pss_256 = rsa::pss::SigningKey::<Sha256>::new(key.clone()).sign_with_rng(&mut rng, message).to_vec();
        let pss_384 = rsa::pss::SigningKey::<Sha384>::new(key.clone()).sign_with_rng(&mut rng, message).to_vec();
        let pss_512 = rsa::pss::SigningKey::<Sha512>::new(key.clone()).sign_with_rng(&mut rng, message).to_vec();
        let pk = public.as_bytes();
        check(find(alg_id::RSA_ENCRYPTION, alg_id::RSA_PKCS1_SHA256), pk, message, &pkcs1_256);
        check(find(alg_id::RSA_ENCRYPTION, alg_id::RSA_PKCS1_SHA384), pk, message, &pkcs1_384);
        check(find(alg_id::RSA_ENCRYPTION, alg_id::RSA_PKCS1_SHA512), pk, message, &pkcs1_512);
        check(find(alg_id::RSA_ENCRYPTION, alg_id::RSA_PSS_SHA256), pk, message, &pss_256);
        check(find(alg_id::RSA_ENCRYPTION, alg_id::RSA_PSS_SHA384), pk, message, &pss_384);
        check(find(alg_id::RSA_ENCRYPTION, alg_id::RSA_PSS_SHA512), pk, message, &pss_512);
        // A PKCS#1 signature is not a PSS one, and the hash must match.
        assert!(find(alg_id::RSA_ENCRYPTION, alg_id::RSA_PSS_SHA256)
            .verify_signature(pk, message, &pkcs1_256)
            .is_err());
        assert!(find(alg_id::RSA_ENCRYPTION, alg_id::RSA_PKCS1_SHA384)
            .verify_signature(pk, message, &pkcs1_256)
            .is_err());
        // Keys under 2048 bits are refused.
        let small = rsa::RsaPrivateKey::new(&mut rng, 1024).unwrap();
        let small_pk = small.to_public_key().to_pkcs1_der().unwrap();
        let sig = rsa::pkcs1v15::SigningKey::<Sha256>::new(small).sign_with_rng(&mut rng, message).to_vec();
        assert!(find(alg_id::RSA_ENCRYPTION, alg_id::RSA_PKCS1_SHA256)
            .verify_signature(small_pk.as_bytes(), message, &sig)
            .is_err());
    }

    /// An RSA signature has one valid encoding. `s + n` (as long as `s` whenever it stays
    /// under 2^(8k)) reduces to the same representative, and the rsa crate's PSS check took
    /// it: another DER of the same certificate, with another thumbprint (found by a review).
    /// That and a signature with a zero byte in front are refused, for both paddings.
    #[test]
    fn rsa_signatures_of_n_or_more_or_of_another_length_are_refused() {
        use rsa::pkcs1::EncodeRsaPublicKey;
        use rsa::traits::PublicKeyParts;
        let mut rng = rand::thread_rng();
        let limit = rsa::BigUint::from(1u8) << 2048usize;
        // A modulus with room above it for s + n (most have: n is a quarter below 2^2048 on average).
        let key = std::iter::repeat_with(|| rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap())
            .take(20)
            .find(|k| &limit - k.n() > k.n() / 8u8)
            .expect("a 2048-bit modulus at most 8/9 of 2^2048");
        let public = key.to_public_key().to_pkcs1_der().unwrap();
        let pk = public.as_bytes();
        let n = key.n().clone();
        let pss = rsa::pss::SigningKey::<Sha256>::new(key.clone());
        let pkcs1 = rsa::pkcs1v15::SigningKey::<Sha256>::new(key);
        for sig_alg in [alg_id::RSA_PSS_SHA256, alg_id::RSA_PKCS1_SHA256] {
            let alg = find(alg_id::RSA_ENCRYPTION, sig_alg);
            // Signatures of messages until one leaves room for n (PKCS#1 v1.5 is
            // deterministic, so the message changes; about one in nine fits at worst).
            let (message, signature) = (0u32..500)
                .map(|i| {
                    let message = format!("tbsCertificate bytes {i}").into_bytes();
                    let signature = if sig_alg == alg_id::RSA_PSS_SHA256 {
                        pss.sign_with_rng(&mut rng, &message).to_vec()
                    } else {
                        pkcs1.sign_with_rng(&mut rng, &message).to_vec()
                    };
                    (message, signature)
                })
                .find(|(_, s)| rsa::BigUint::from_bytes_be(s) + &n < limit)
                .expect("a signature with room for n");
            assert!(alg.verify_signature(pk, &message, &signature).is_ok(), "{sig_alg:?}");
            let plus_n = (rsa::BigUint::from_bytes_be(&signature) + &n).to_bytes_be();
            assert_eq!(plus_n.len(), signature.len());
            assert!(alg.verify_signature(pk, &message, &plus_n).is_err(), "{sig_alg:?}: s + n verifies");
            let padded = [&[0u8][..], &signature].concat();
            assert!(alg.verify_signature(pk, &message, &padded).is_err(), "{sig_alg:?}: a zero byte in front");
        }
    }
}
