//! Signature verification for chain building, in pure Rust (RustCrypto), so it builds for
//! `wasm32-wasip2`: rustls-webpki takes these through its `SignatureVerificationAlgorithm`
//! trait instead of ring or aws-lc-rs (both C).

use pki_types::alg_id;
use pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// Every algorithm certgate verifies: ECDSA P-256/P-384 with SHA-256/384, Ed25519, RSA
/// PKCS#1 v1.5 and RSA-PSS with SHA-256/384/512 (2048 to 8192-bit keys).
pub static ALL: &[&dyn SignatureVerificationAlgorithm] = &[
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

/// RSA keys outside 2048..=8192 bits are refused, as rustls-webpki's own providers do.
const RSA_MIN_BITS: usize = 2048;
const RSA_MAX_BITS: usize = 8192;

impl SignatureVerificationAlgorithm for Rsa {
    fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), InvalidSignature> {
        use rsa::pkcs1::DecodeRsaPublicKey;
        use rsa::traits::PublicKeyParts;
        let key = rsa::RsaPublicKey::from_pkcs1_der(public_key).map_err(|_| InvalidSignature)?;
        let bits = key.n().bits();
        if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
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
