//! A key-value store as a trust source for fleets: pins and revocations that live outside
//! the configuration, read one entry at a time, so a request costs the same whether the
//! store holds one certificate or millions, and a revocation written while the service
//! runs is seen by the next request.
//!
//! The format (version 1) is a stable contract, written by `certgate-kv` and read here;
//! docs/keyvalue.md describes it for anyone who writes a store another way:
//!
//! - `certgate/v1`, the version marker: JSON naming the format, the version and the
//!   layout, and what the store holds beyond certificate entries ([`Marker`]). A store
//!   without it is refused, never read as empty: an emptied or half-written store must not
//!   lose its revocations silently.
//! - One entry per certificate, key or issuer and serial ([`EntryKey`]), each a small JSON
//!   object saying whether it is pinned (with an optional label and window) or revoked
//!   ([`Entry`]).
//! - In the direct layout each entry is a key of its own (one read each, for SQLite,
//!   Redis, Cosmos DB, DynamoDB). In the bucketed layout (for stores with few keys, such
//!   as Fermyon Cloud's 1,024) the entries are grouped into at most 16^digits keys by the
//!   first hex digits of the SHA-256 of their direct key, one line each
//!   ([`bucket_lookup`]).
//!
//! Nothing here binds to a host: the store is a [`KeyValue`], which the component backs
//! with `wasi:keyvalue/store`, and tests with a map.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::certificate::{parse_rfc3339, rfc3339};

pub mod chain;

/// The key of the version marker; every other key starts with it and a `/`.
pub const MARKER_KEY: &str = "certgate/v1";
/// The `format` the marker names.
pub const FORMAT: &str = "certgate-store";
/// The version of the format this build reads.
pub const VERSION: u32 = 1;
/// Most bytes of one entry's value.
pub const MAX_ENTRY_BYTES: usize = 1024;
/// Most bytes of the marker's value.
pub const MAX_MARKER_BYTES: usize = 128 << 10;
/// Most bytes of one bucket (Fermyon Cloud's limit for one value).
pub const MAX_BUCKET_BYTES: usize = 1 << 20;
/// Most issuers the marker may list as having revocations by serial.
pub const MAX_SERIAL_ISSUERS: usize = 1024;
/// Most bytes of a label.
pub const MAX_LABEL_BYTES: usize = 128;
/// The `source` of a pin found in the store (the variable that names the store).
pub const PIN_SOURCE: &str = "keyvalue_store";

/// The store as certgate reads it: one value by key.
pub trait KeyValue {
    /// The value of `key`, `None` when there is none; `Err` (the host's message) when the
    /// store cannot answer.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String>;

    /// Write `value` under `key` (only the chain cache writes, and only when
    /// `chain_cache_seconds` is set); `Err` (the host's message) when the store refuses. A
    /// store that cannot be written keeps the default, which refuses.
    fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        let _ = (key, value);
        Err("this key-value store is read-only".into())
    }
}

impl KeyValue for BTreeMap<String, Vec<u8>> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(BTreeMap::get(self, key).cloned())
    }
}

/// A map that can also be written (what tests and benchmarks of the chain cache use).
impl KeyValue for std::sync::Mutex<BTreeMap<String, Vec<u8>>> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.lock().map_err(|_| "poisoned".to_string())?.get(key).cloned())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.lock().map_err(|_| "poisoned".to_string())?.insert(key.to_string(), value.to_vec());
        Ok(())
    }
}

impl<T: KeyValue + ?Sized> KeyValue for &T {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        (**self).get(key)
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        (**self).set(key, value)
    }
}

/// No store at all (a host without `wasi:keyvalue`, a library caller that gave none): a
/// configuration that names a store is refused with `store_unavailable`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoKeyValue;

impl KeyValue for NoKeyValue {
    fn get(&self, _key: &str) -> Result<Option<Vec<u8>>, String> {
        Err("this host gives certgate no key-value store".into())
    }
}

/// Why the store could not be used. Every one is a refusal: an unreadable store, a missing
/// marker or a malformed entry never lets a request through.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreProblem {
    /// The store could not be opened or read (the host's message).
    Unavailable(String),
    /// The store has no version marker (`certgate/v1`): never written by `certgate-kv`,
    /// emptied, or a first import still under way.
    NoMarker,
    /// The marker is unreadable or names another format, version or layout.
    Marker(String),
    /// An entry is malformed.
    Entry {
        /// Its key (a digest, never a secret).
        key: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl StoreProblem {
    /// The reason code: `store_unavailable` when the store did not answer, else `store_invalid`.
    pub fn reason(&self) -> crate::reason::Reason {
        match self {
            StoreProblem::Unavailable(_) => crate::reason::Reason::StoreUnavailable,
            _ => crate::reason::Reason::StoreInvalid,
        }
    }
}

impl fmt::Display for StoreProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreProblem::Unavailable(m) => write!(f, "the key-value store could not be read: {m}"),
            StoreProblem::NoMarker => {
                write!(f, "the key-value store has no {MARKER_KEY} version marker (import with certgate-kv)")
            }
            StoreProblem::Marker(m) => write!(f, "the key-value store's {MARKER_KEY} marker: {m}"),
            StoreProblem::Entry { key, problem } => write!(f, "key-value store entry {key}: {problem}"),
        }
    }
}

impl std::error::Error for StoreProblem {}

/// How entries are laid out in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One key per entry.
    Direct,
    /// Entries grouped into at most 16^digits keys (`digits` is 1 to 3).
    Bucketed {
        /// Hex digits of the bucket name.
        digits: u8,
    },
}

/// The version marker, as stored (JSON). Unknown fields are refused: a later version that
/// adds something this build would ignore must not be read as version 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marker {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// `direct` or `bucketed`.
    pub layout: String,
    /// The bucketed layout's hex digits (1 to 3); absent for direct.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_digits: Option<u8>,
    /// Whether the store holds entries by key (SPKI); when false, none is looked for.
    #[serde(default)]
    pub key_entries: bool,
    /// The issuers (hex SHA-256 of the issuer Name's DER) with revocations by serial; a
    /// certificate of another issuer costs no read for its serial.
    #[serde(default)]
    pub serial_issuers: Vec<String>,
}

impl Marker {
    /// A marker for an empty store of this layout.
    pub fn new(layout: Layout) -> Self {
        let (layout, bucket_digits) = match layout {
            Layout::Direct => ("direct", None),
            Layout::Bucketed { digits } => ("bucketed", Some(digits)),
        };
        Marker {
            format: FORMAT.into(),
            version: VERSION,
            layout: layout.into(),
            bucket_digits,
            key_entries: false,
            serial_issuers: Vec::new(),
        }
    }

    /// Read and check a stored marker.
    pub fn parse(bytes: &[u8]) -> Result<Marker, String> {
        if bytes.len() > MAX_MARKER_BYTES {
            return Err(format!("over {MAX_MARKER_BYTES} bytes"));
        }
        let marker: Marker = serde_json::from_slice(bytes).map_err(|e| format!("not the marker's JSON ({e})"))?;
        if marker.format != FORMAT {
            return Err(format!("format is not {FORMAT}"));
        }
        if marker.version != VERSION {
            return Err(format!("version {} is not the version this build reads ({VERSION})", marker.version));
        }
        marker.layout()?;
        if marker.serial_issuers.len() > MAX_SERIAL_ISSUERS {
            return Err(format!("more than {MAX_SERIAL_ISSUERS} serial_issuers"));
        }
        for issuer in &marker.serial_issuers {
            parse_digest(issuer).ok_or_else(|| "a serial_issuers entry is not 64 lowercase hex digits".to_string())?;
        }
        Ok(marker)
    }

    /// The layout it names.
    pub fn layout(&self) -> Result<Layout, String> {
        match (self.layout.as_str(), self.bucket_digits) {
            ("direct", None) => Ok(Layout::Direct),
            ("bucketed", Some(digits @ 1..=3)) => Ok(Layout::Bucketed { digits }),
            ("bucketed", _) => Err("the bucketed layout needs bucket_digits of 1 to 3".into()),
            ("direct", Some(_)) => Err("bucket_digits belongs to the bucketed layout".into()),
            (other, _) => Err(format!("unknown layout {other:?}")),
        }
    }

    /// The marker as stored.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Record that `issuer` has revocations by serial (kept sorted and unique).
    pub fn add_serial_issuer(&mut self, issuer: &[u8; 32]) {
        let hex = hex::encode(issuer);
        if let Err(i) = self.serial_issuers.binary_search(&hex) {
            self.serial_issuers.insert(i, hex);
        }
    }
}

fn parse_digest(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// What an entry is about: a certificate (SHA-256 of its DER), a key (SHA-256 of its
/// SubjectPublicKeyInfo), or an issuer and serial.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKey {
    /// `certgate/v1/cert/<sha256 hex>`.
    Certificate([u8; 32]),
    /// `certgate/v1/key/<sha256 hex of the SPKI>`.
    Key([u8; 32]),
    /// `certgate/v1/serial/<sha256 hex of the issuer Name's DER>/<serial hex>`: the serial
    /// as an unsigned integer, lowercase, without leading zero bytes (`00` for zero), so
    /// `00:8F`, `8f` and `008F` are one key.
    Serial {
        /// SHA-256 of the issuer Name's DER.
        issuer: [u8; 32],
        /// The serial as an unsigned big-endian integer, no leading zero bytes.
        serial: Vec<u8>,
    },
}

impl EntryKey {
    /// The entry for an issuer and a serial in any spelling of its bytes (with or without
    /// the DER sign byte).
    pub fn serial(issuer: [u8; 32], serial: &[u8]) -> Self {
        EntryKey::Serial { issuer, serial: crate::certificate::serial_magnitude(serial) }
    }

    /// Its key in the direct layout.
    pub fn name(&self) -> String {
        match self {
            EntryKey::Certificate(d) => format!("{MARKER_KEY}/cert/{}", hex::encode(d)),
            EntryKey::Key(d) => format!("{MARKER_KEY}/key/{}", hex::encode(d)),
            EntryKey::Serial { issuer, serial } => {
                let serial = if serial.is_empty() { "00".to_string() } else { hex::encode(serial) };
                format!("{MARKER_KEY}/serial/{}/{serial}", hex::encode(issuer))
            }
        }
    }

    /// The key of the bucket that holds it in the bucketed layout.
    pub fn bucket(&self, digits: u8) -> String {
        bucket_of(&self.name(), digits)
    }

    /// What the log calls its kind.
    pub fn kind(&self) -> &'static str {
        match self {
            EntryKey::Certificate(_) => "thumbprint",
            EntryKey::Key(_) => "key",
            EntryKey::Serial { .. } => "serial",
        }
    }
}

/// SHA-256 of the issuer Name of a DER X.509 CRL, as signed (never re-encoded: a decoder
/// re-sorts a SET OF written out of order): what its serial revocations are keyed by, and
/// what [`ClientCertificate::issuer_sha256`](crate::ClientCertificate::issuer_sha256) is
/// for a certificate that CRL's issuer signed. `None` when the bytes are not shaped as a CRL.
pub fn crl_issuer_sha256(crl_der: &[u8]) -> Option<[u8; 32]> {
    crate::certificate::raw_crl_issuer(crl_der).map(|issuer| Sha256::digest(issuer).into())
}

/// The digests a key entry for `spki` (a DER SubjectPublicKeyInfo) is written under: the
/// SHA-256 of the key as written and, when that is not its usual spelling (a compressed
/// point, RSA without NULL parameters), of the usual one. certgate compares a
/// certificate's key with both, so a revocation reaches every certificate with the key.
pub fn key_digests(spki: &[u8]) -> Result<Vec<[u8; 32]>, String> {
    use x509_cert::der::Decode;
    x509_cert::spki::SubjectPublicKeyInfoRef::from_der(spki).map_err(|e| e.to_string())?;
    let own: [u8; 32] = Sha256::digest(spki).into();
    let canonical = crate::key_identity::canonical_sha256(spki).map_err(|e| e.to_string())?;
    Ok(if canonical == own { vec![own] } else { vec![own, canonical] })
}

/// The bucket of a direct key: `certgate/v1/bucket/` and the first `digits` hex digits of
/// the SHA-256 of the key.
pub fn bucket_of(direct_key: &str, digits: u8) -> String {
    let digest = hex::encode(Sha256::digest(direct_key.as_bytes()));
    format!("{MARKER_KEY}/bucket/{}", &digest[..usize::from(digits.clamp(1, 3))])
}

/// What the store says of a certificate, key or serial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Allowed (a pin), within its window if it has one.
    Pinned,
    /// Denied, whatever else trusts it.
    Revoked,
}

/// One entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Pinned or revoked.
    pub state: State,
    /// A label for logs (visible ASCII and spaces, at most [`MAX_LABEL_BYTES`]).
    pub label: Option<String>,
    /// A pin's window start, Unix seconds.
    pub not_before: Option<i64>,
    /// A pin's window end, Unix seconds.
    pub not_after: Option<i64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryJson {
    state: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_after: Option<String>,
}

impl Entry {
    /// A pin without label or window.
    pub fn pinned() -> Self {
        Entry { state: State::Pinned, label: None, not_before: None, not_after: None }
    }

    /// A revocation without label.
    pub fn revoked() -> Self {
        Entry { state: State::Revoked, label: None, not_before: None, not_after: None }
    }

    /// The same entry with a label.
    pub fn labelled(mut self, label: Option<String>) -> Self {
        self.label = label;
        self
    }

    /// Read and check a stored entry: `{"state":"pinned"|"revoked"}` with an optional
    /// `label`, and for a pin an optional `not_before` / `not_after` (RFC 3339).
    pub fn parse(bytes: &[u8]) -> Result<Entry, String> {
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(format!("over {MAX_ENTRY_BYTES} bytes"));
        }
        let json: EntryJson = serde_json::from_slice(bytes).map_err(|e| format!("not an entry's JSON ({e})"))?;
        let time = |field: &str, value: Option<String>| -> Result<Option<i64>, String> {
            value.map(|v| parse_rfc3339(&v).ok_or_else(|| format!("{field} is not an RFC 3339 time"))).transpose()
        };
        let entry = Entry {
            state: json.state,
            label: json.label,
            not_before: time("not_before", json.not_before)?,
            not_after: time("not_after", json.not_after)?,
        };
        entry.check()?;
        Ok(entry)
    }

    /// Whether the entry is one [`Entry::parse`] would accept (what `certgate-kv` checks
    /// before it writes one).
    pub fn check(&self) -> Result<(), String> {
        if let Some(label) = &self.label {
            if label.is_empty() || label.len() > MAX_LABEL_BYTES || !label.bytes().all(|b| (b' '..=b'~').contains(&b)) {
                return Err(format!("a label is 1 to {MAX_LABEL_BYTES} visible ASCII characters or spaces"));
            }
        }
        if self.state == State::Revoked && (self.not_before.is_some() || self.not_after.is_some()) {
            return Err("a revocation has no window".into());
        }
        if let (Some(nb), Some(na)) = (self.not_before, self.not_after) {
            if nb > na {
                return Err("not_before is after not_after".into());
            }
        }
        Ok(())
    }

    /// The entry as stored (compact JSON, one line).
    pub fn to_json(&self) -> Vec<u8> {
        let json = EntryJson {
            state: self.state,
            label: self.label.clone(),
            not_before: self.not_before.map(rfc3339),
            not_after: self.not_after.map(rfc3339),
        };
        serde_json::to_vec(&json).unwrap_or_default()
    }
}

/// Find `direct_key`'s entry in a bucket: lines of `<direct key> <entry JSON>`, each ended
/// by `\n`. Every line is looked at (no order is relied on, so a bucket written out of
/// order cannot hide an entry), and a key on two lines is malformed.
pub fn bucket_lookup<'b>(bucket: &'b [u8], direct_key: &str) -> Result<Option<&'b [u8]>, String> {
    if bucket.len() > MAX_BUCKET_BYTES {
        return Err(format!("over {MAX_BUCKET_BYTES} bytes"));
    }
    if !bucket.is_empty() && !bucket.ends_with(b"\n") {
        return Err("the last line has no newline".into());
    }
    let mut found = None;
    for (i, line) in bucket.split(|b| *b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let Some(space) = line.iter().position(|b| *b == b' ') else {
            return Err(format!("line {} has no space between key and entry", i + 1));
        };
        // A key that is not one of certgate's (a leading space, a `\r`, another prefix) is
        // malformed, not skipped: a hand-copied line must not hide an entry.
        let key = &line[..space];
        if !key.starts_with(b"certgate/v1/") || !key.iter().all(|b| b.is_ascii_graphic()) {
            return Err(format!("line {} does not start with a certgate/v1/ key", i + 1));
        }
        if key == direct_key.as_bytes() {
            if found.is_some() {
                return Err("the key is on two lines".into());
            }
            found = Some(&line[space + 1..]);
        }
    }
    Ok(found)
}

/// A bucket with `changes` applied (an entry set, or removed with `None`), its lines sorted
/// by key. Refused when a line is malformed or the result is over [`MAX_BUCKET_BYTES`].
pub fn bucket_with(bucket: &[u8], changes: &[(String, Option<Entry>)]) -> Result<Vec<u8>, String> {
    let mut lines: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for line in bucket.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let space = line.iter().position(|b| *b == b' ').ok_or("a line has no space between key and entry")?;
        if lines.insert(line[..space].to_vec(), line[space + 1..].to_vec()).is_some() {
            return Err("a key is on two lines".into());
        }
    }
    for (key, entry) in changes {
        match entry {
            Some(e) => lines.insert(key.as_bytes().to_vec(), e.to_json()),
            None => lines.remove(key.as_bytes()),
        };
    }
    let mut out = Vec::new();
    for (key, value) in lines {
        out.extend_from_slice(&key);
        out.push(b' ');
        out.extend_from_slice(&value);
        out.push(b'\n');
    }
    if out.len() > MAX_BUCKET_BYTES {
        return Err(format!(
            "a bucket would be over {MAX_BUCKET_BYTES} bytes: use more bucket digits or the direct layout"
        ));
    }
    Ok(out)
}

/// A store whose marker was read and checked: entries can be looked up.
pub struct Opened<'a> {
    kv: &'a dyn KeyValue,
    layout: Layout,
    key_entries: bool,
    serial_issuers: Vec<[u8; 32]>,
}

impl fmt::Debug for Opened<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened").field("layout", &self.layout).finish_non_exhaustive()
    }
}

/// Read the marker (one read) and check it.
pub fn open(kv: &dyn KeyValue) -> Result<Opened<'_>, StoreProblem> {
    let bytes = kv.get(MARKER_KEY).map_err(StoreProblem::Unavailable)?.ok_or(StoreProblem::NoMarker)?;
    let marker = Marker::parse(&bytes).map_err(StoreProblem::Marker)?;
    let layout = marker.layout().map_err(StoreProblem::Marker)?;
    let serial_issuers = marker.serial_issuers.iter().filter_map(|h| parse_digest(h)).collect();
    Ok(Opened { kv, layout, key_entries: marker.key_entries, serial_issuers })
}

impl Opened<'_> {
    /// The entry for `key`, if the store has one (one read).
    pub fn lookup(&self, key: &EntryKey) -> Result<Option<Entry>, StoreProblem> {
        let name = key.name();
        let malformed = |problem: String| StoreProblem::Entry { key: name.clone(), problem };
        let value = match self.layout {
            Layout::Direct => self.kv.get(&name).map_err(StoreProblem::Unavailable)?,
            Layout::Bucketed { digits } => {
                let bucket_key = key.bucket(digits);
                let bucket = self.kv.get(&bucket_key).map_err(StoreProblem::Unavailable)?;
                match bucket {
                    None => None,
                    Some(bucket) => bucket_lookup(&bucket, &name)
                        .map_err(|problem| StoreProblem::Entry { key: bucket_key.clone(), problem })?
                        .map(<[u8]>::to_vec),
                }
            }
        };
        value.map(|v| Entry::parse(&v).map_err(malformed)).transpose()
    }

    /// The raw value of `key`, which is not an entry (the chain cache's own keys).
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreProblem> {
        self.kv.get(key).map_err(StoreProblem::Unavailable)
    }

    /// Write `value` under `key` (the chain cache's own keys, in every layout); the host's
    /// message when it refuses.
    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.kv.set(key, value)
    }

    /// Whether the store holds entries by key.
    pub fn has_key_entries(&self) -> bool {
        self.key_entries
    }

    /// Whether the store holds revocations by serial for this issuer.
    pub fn has_serials_of(&self, issuer: &[u8; 32]) -> bool {
        self.serial_issuers.contains(issuer)
    }
}

/// A whole store holding `entries` in `layout`, with its marker, as certgate-kv writes one
/// (for tests of the reader).
#[cfg(test)]
pub(crate) fn written(layout: Layout, entries: &[(EntryKey, Entry)]) -> BTreeMap<String, Vec<u8>> {
    let mut marker = Marker::new(layout);
    let mut kv = BTreeMap::new();
    for (key, entry) in entries {
        match key {
            EntryKey::Key(_) => marker.key_entries = true,
            EntryKey::Serial { issuer, .. } => marker.add_serial_issuer(issuer),
            EntryKey::Certificate(_) => {}
        }
        match layout {
            Layout::Direct => {
                kv.insert(key.name(), entry.to_json());
            }
            Layout::Bucketed { digits } => {
                let bucket = key.bucket(digits);
                let old = kv.get(&bucket).cloned().unwrap_or_default();
                let new = bucket_with(&old, &[(key.name(), Some(entry.clone()))]).unwrap();
                kv.insert(bucket, new);
            }
        }
    }
    kv.insert(MARKER_KEY.into(), marker.to_json());
    kv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(layout: Layout, entries: &[(EntryKey, Entry)]) -> BTreeMap<String, Vec<u8>> {
        written(layout, entries)
    }

    #[test]
    fn both_layouts_find_what_was_written_and_nothing_else() {
        let pinned = Entry::pinned().labelled(Some("device 7".into()));
        let entries: Vec<(EntryKey, Entry)> = (0..300u32)
            .map(|i| {
                let d: [u8; 32] = Sha256::digest(i.to_be_bytes()).into();
                let key = match i % 3 {
                    0 => EntryKey::Certificate(d),
                    1 => EntryKey::Key(d),
                    _ => EntryKey::serial(d, &i.to_be_bytes()),
                };
                (key, if i % 2 == 0 { pinned.clone() } else { Entry::revoked() })
            })
            .collect();
        for layout in [Layout::Direct, Layout::Bucketed { digits: 1 }, Layout::Bucketed { digits: 2 }] {
            let kv = store(layout, &entries);
            if let Layout::Bucketed { digits } = layout {
                assert!(kv.len() <= 16usize.pow(u32::from(digits)) + 1, "{layout:?}: {} keys", kv.len());
            }
            let opened = open(&kv).unwrap();
            assert!(opened.has_key_entries());
            for (key, entry) in &entries {
                assert_eq!(opened.lookup(key).unwrap().as_ref(), Some(entry), "{layout:?} {}", key.name());
            }
            assert_eq!(opened.lookup(&EntryKey::Certificate([0xee; 32])).unwrap(), None);
        }
    }

    #[test]
    fn serials_are_one_key_in_every_spelling() {
        let issuer = [7u8; 32];
        let a = EntryKey::serial(issuer, &[0x00, 0x8f, 0x01]);
        let b = EntryKey::serial(issuer, &[0x8f, 0x01]);
        assert_eq!(a, b);
        assert!(a.name().ends_with("/8f01"), "{}", a.name());
        assert!(EntryKey::serial(issuer, &[0]).name().ends_with("/00"));
        assert!(EntryKey::serial(issuer, &[0, 0]).name().ends_with("/00"));
        // A high-bit serial and its sign-byte spelling, and a low one, never collide.
        assert_ne!(EntryKey::serial(issuer, &[0x80]).name(), EntryKey::serial(issuer, &[0x00]).name());
    }

    #[test]
    fn the_marker_is_required_and_checked() {
        let empty = BTreeMap::new();
        assert_eq!(open(&empty).unwrap_err(), StoreProblem::NoMarker);
        assert_eq!(open(&NoKeyValue).unwrap_err().reason(), crate::reason::Reason::StoreUnavailable);
        for bad in [
            r#"{"format":"certgate-store","version":2,"layout":"direct"}"#,
            r#"{"format":"other","version":1,"layout":"direct"}"#,
            r#"{"format":"certgate-store","version":1,"layout":"bucketed"}"#,
            r#"{"format":"certgate-store","version":1,"layout":"bucketed","bucket_digits":4}"#,
            r#"{"format":"certgate-store","version":1,"layout":"direct","bucket_digits":2}"#,
            r#"{"format":"certgate-store","version":1,"layout":"direct","future":true}"#,
            r#"{"format":"certgate-store","version":1,"layout":"direct","serial_issuers":["AB"]}"#,
            "not json",
        ] {
            let kv = BTreeMap::from([(MARKER_KEY.to_string(), bad.as_bytes().to_vec())]);
            let problem = open(&kv).unwrap_err();
            assert!(matches!(problem, StoreProblem::Marker(_)), "{bad}: {problem:?}");
            assert_eq!(problem.reason(), crate::reason::Reason::StoreInvalid);
        }
    }

    #[test]
    fn entries_are_validated_when_read() {
        let key = EntryKey::Certificate([1; 32]);
        for bad in [
            r#"{"state":"allowed"}"#,
            r#"{"state":"pinned","extra":1}"#,
            r#"{"state":"revoked","not_after":"2030-01-01T00:00:00Z"}"#,
            r#"{"state":"pinned","not_before":"2031-01-01T00:00:00Z","not_after":"2030-01-01T00:00:00Z"}"#,
            r#"{"state":"pinned","not_after":"tomorrow"}"#,
            r#"{"state":"pinned","label":""}"#,
            "{\"state\":\"pinned\",\"label\":\"a\\nb\"}",
            r#"{"state":"pinned"} trailing"#,
        ] {
            let mut kv = store(Layout::Direct, &[]);
            kv.insert(key.name(), bad.as_bytes().to_vec());
            let problem = open(&kv).unwrap().lookup(&key).unwrap_err();
            assert!(matches!(problem, StoreProblem::Entry { .. }), "{bad}: {problem:?}");
        }
        let mut kv = store(Layout::Direct, &[]);
        kv.insert(key.name(), vec![b' '; MAX_ENTRY_BYTES + 1]);
        assert!(open(&kv).unwrap().lookup(&key).is_err());
    }

    #[test]
    fn a_bucket_cannot_hide_or_double_an_entry() {
        let key = EntryKey::Certificate([2; 32]).name();
        let revoked = String::from_utf8(Entry::revoked().to_json()).unwrap();
        let pinned = String::from_utf8(Entry::pinned().to_json()).unwrap();
        // Out of order is still found.
        let unsorted = format!("{}/zzz {pinned}\n{key} {revoked}\n", MARKER_KEY);
        // A line whose key is not certgate's shape is malformed, not skipped.
        for bad in [format!(" {key} {revoked}\n"), format!("{key}\r {revoked}\n"), format!("other/{key} {revoked}\n")] {
            assert!(bucket_lookup(bad.as_bytes(), &key).is_err(), "{bad:?}");
        }
        assert_eq!(bucket_lookup(unsorted.as_bytes(), &key).unwrap(), Some(revoked.as_bytes()));
        // The same key twice (pinned, then revoked) is malformed, not the first one.
        let twice = format!("{key} {pinned}\n{key} {revoked}\n");
        assert!(bucket_lookup(twice.as_bytes(), &key).is_err());
        assert!(bucket_lookup(format!("{key} {pinned}").as_bytes(), &key).is_err(), "no final newline");
        assert!(bucket_lookup(b"junk\n", &key).is_err());
        // A key that is a prefix of another is not it.
        let longer = format!("{key}0 {pinned}\n");
        assert_eq!(bucket_lookup(longer.as_bytes(), &key).unwrap(), None);
        let full = bucket_with(b"", &[("k".into(), Some(Entry::pinned()))]).unwrap();
        assert!(bucket_with(&full, &[("k".into(), None)]).unwrap().is_empty());
    }

    #[test]
    fn an_unreadable_store_is_unavailable_at_every_step() {
        struct Flaky(BTreeMap<String, Vec<u8>>);
        impl KeyValue for Flaky {
            fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
                if key == MARKER_KEY {
                    KeyValue::get(&self.0, key)
                } else {
                    Err("connection refused".into())
                }
            }
        }
        let flaky = Flaky(store(Layout::Direct, &[]));
        let problem = open(&flaky).unwrap().lookup(&EntryKey::Certificate([0; 32])).unwrap_err();
        assert_eq!(problem, StoreProblem::Unavailable("connection refused".into()));
    }
}
