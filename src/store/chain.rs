//! The chain-path verification cache (`chain_cache_seconds`): what a validated path to a
//! trust anchor was, kept in the store so a fleet under a private CA pays for path building
//! and its signatures once per certificate per lifetime, not on every request.
//!
//! An entry is keyed by the trust configuration and the leaf,
//! `certgate/v1/chain/<trust digest>/<leaf SHA-256>`, and names the certificates of the path
//! (each by its SHA-256) and the anchor it ended at ([`CachedChain`]). The forwarded chain
//! is bound by the entry, not by the key: the path's certificates must all be among those
//! the request forwarded or configured as intermediates, or the entry is not used. A
//! client therefore cannot mint entries by reordering or padding its chain: there is one
//! entry per certificate and trust configuration, however it is sent.
//!
//! The entry is only a claim that the signatures and constraints of that path were
//! checked. Everything that can change with time or configuration is judged again on every
//! request: the validity of every certificate on the path, revocation (denylist, CRLs, the
//! store's own revocations), key usage and names. A change of anchors, intermediates or
//! extended key usage policy changes the trust digest, so an entry never outlives the
//! configuration it was made under.

use serde::{Deserialize, Serialize};

use super::{parse_digest, MARKER_KEY};
use crate::certificate::{parse_rfc3339, rfc3339};

/// What an entry's `format` says.
pub const FORMAT: &str = "certgate-chain";
/// The prefix of every entry's key.
pub const PREFIX: &str = "certgate/v1/chain/";
/// Most certificates of a cached path between the leaf and the anchor.
pub const MAX_PATH: usize = 8;
/// Most bytes of one entry's value.
pub const MAX_CHAIN_ENTRY_BYTES: usize = 2048;
/// Longest `chain_cache_seconds`: a day.
pub const MAX_LIFETIME_SECONDS: u64 = 86_400;
/// How far in the future an entry's `verified_at` may be and still be used: instances of
/// one fleet whose clocks differ by a few seconds share entries instead of rewriting them.
pub const CLOCK_TOLERANCE_SECONDS: i64 = 5;

/// The key of the entry for `leaf` (SHA-256 of its DER) under the trust configuration
/// whose digest is `trust`.
pub fn key(trust: &[u8; 32], leaf: &[u8; 32]) -> String {
    debug_assert_eq!(format!("{MARKER_KEY}/chain/"), PREFIX);
    format!("{PREFIX}{}/{}", hex::encode(trust), hex::encode(leaf))
}

/// A path that validated: the leaf, its issuers up to the anchor (leaf's issuer first, the
/// anchor not included) and the anchor, each by the SHA-256 of its DER, under the trust
/// configuration `trust`, at `verified_at` (Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedChain {
    /// SHA-256 of the trust configuration (anchors, intermediates, EKU policy, build).
    pub trust: [u8; 32],
    /// SHA-256 of the leaf's DER.
    pub leaf: [u8; 32],
    /// SHA-256 of each certificate between the leaf and the anchor, leaf's issuer first.
    pub path: Vec<[u8; 32]>,
    /// SHA-256 of the anchor's DER.
    pub anchor: [u8; 32],
    /// When the path was validated.
    pub verified_at: i64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainJson {
    format: String,
    trust: String,
    leaf: String,
    path: Vec<String>,
    anchor: String,
    verified_at: String,
}

impl CachedChain {
    /// Read and check a stored entry, which must be the one for `trust` and `leaf` (an
    /// entry copied to another key is refused).
    pub fn parse(bytes: &[u8], trust: &[u8; 32], leaf: &[u8; 32]) -> Result<CachedChain, String> {
        if bytes.len() > MAX_CHAIN_ENTRY_BYTES {
            return Err(format!("over {MAX_CHAIN_ENTRY_BYTES} bytes"));
        }
        let json: ChainJson = serde_json::from_slice(bytes).map_err(|e| format!("not a chain entry's JSON ({e})"))?;
        if json.format != FORMAT {
            return Err(format!("format is not {FORMAT}"));
        }
        let digest = |field: &str, text: &str| {
            parse_digest(text).ok_or_else(|| format!("{field} is not 64 lowercase hex digits"))
        };
        let entry = CachedChain {
            trust: digest("trust", &json.trust)?,
            leaf: digest("leaf", &json.leaf)?,
            path: json.path.iter().map(|p| digest("a path entry", p)).collect::<Result<_, _>>()?,
            anchor: digest("anchor", &json.anchor)?,
            verified_at: parse_rfc3339(&json.verified_at).ok_or("verified_at is not an RFC 3339 time")?,
        };
        if entry.path.len() > MAX_PATH {
            return Err(format!("a path of more than {MAX_PATH} certificates"));
        }
        if entry.trust != *trust || entry.leaf != *leaf {
            return Err("the entry is for another certificate or trust configuration".into());
        }
        Ok(entry)
    }

    /// Whether it may be used at `now` with a lifetime of `lifetime` seconds: made at most
    /// `lifetime` ago (and not later than [`CLOCK_TOLERANCE_SECONDS`] from now).
    pub fn is_fresh(&self, now: i64, lifetime: u64) -> bool {
        let lifetime = i64::try_from(lifetime).unwrap_or(i64::MAX);
        self.verified_at <= now.saturating_add(CLOCK_TOLERANCE_SECONDS)
            && now.saturating_sub(self.verified_at) < lifetime
    }

    /// The entry as stored (compact JSON, one line).
    pub fn to_json(&self) -> Vec<u8> {
        let json = ChainJson {
            format: FORMAT.into(),
            trust: hex::encode(self.trust),
            leaf: hex::encode(self.leaf),
            path: self.path.iter().map(hex::encode).collect(),
            anchor: hex::encode(self.anchor),
            verified_at: rfc3339(self.verified_at),
        };
        serde_json::to_vec(&json).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> CachedChain {
        CachedChain {
            trust: [1; 32],
            leaf: [2; 32],
            path: vec![[3; 32], [4; 32]],
            anchor: [5; 32],
            verified_at: 1_800_000_000,
        }
    }

    #[test]
    fn an_entry_reads_back_as_written_and_only_for_its_own_key() {
        let e = entry();
        let json = e.to_json();
        assert_eq!(CachedChain::parse(&json, &[1; 32], &[2; 32]), Ok(e.clone()));
        assert!(CachedChain::parse(&json, &[9; 32], &[2; 32]).is_err(), "another trust configuration");
        assert!(CachedChain::parse(&json, &[1; 32], &[9; 32]).is_err(), "another leaf");
        assert_eq!(key(&[1; 32], &[2; 32]), format!("certgate/v1/chain/{}/{}", "01".repeat(32), "02".repeat(32)));
    }

    #[test]
    fn malformed_entries_are_refused() {
        let good = String::from_utf8(entry().to_json()).unwrap();
        let bad = [
            good.replace("certgate-chain", "certgate-store"),
            good.replace("\"verified_at\"", "\"extra\":1,\"verified_at\""),
            good.replace(&"03".repeat(32), &"0G".repeat(32)),
            good.replace(&"03".repeat(32), &"AB".repeat(32)),
            good.replace(&"03".repeat(32), "03"),
            good.replace("2027-01-15T08:00:00Z", "yesterday"),
            good.replace(&format!("\"{}\",", "03".repeat(32)), &format!("\"{}\",", "03".repeat(32)).repeat(8)),
            "{}".into(),
            "null".into(),
            String::new(),
            " ".repeat(MAX_CHAIN_ENTRY_BYTES + 1),
        ];
        for text in bad {
            assert!(CachedChain::parse(text.as_bytes(), &[1; 32], &[2; 32]).is_err(), "{text}");
        }
        // Exactly MAX_PATH certificates is still an entry.
        let mut long = entry();
        long.path = vec![[3; 32]; MAX_PATH];
        assert!(CachedChain::parse(&long.to_json(), &[1; 32], &[2; 32]).is_ok());
    }

    #[test]
    fn freshness_is_bounded_on_both_sides() {
        let e = entry();
        let t = e.verified_at;
        assert!(e.is_fresh(t, 60));
        assert!(e.is_fresh(t + 59, 60));
        assert!(!e.is_fresh(t + 60, 60), "the lifetime is exclusive");
        assert!(e.is_fresh(t - CLOCK_TOLERANCE_SECONDS, 60), "a clock a little behind");
        assert!(!e.is_fresh(t - CLOCK_TOLERANCE_SECONDS - 1, 60), "an entry from the future");
        assert!(e.is_fresh(i64::MAX, u64::MAX), "no overflow");
        assert!(!e.is_fresh(i64::MIN, 60));
        assert!(!e.is_fresh(t, 0), "a lifetime of zero keeps nothing");
    }
}
