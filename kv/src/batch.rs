//! One command's writes as one batch: what it asks for ([`Request`]), and what that means
//! for the store as it stands ([`plan`]), computed with certgate's own store code.
//!
//! The plan is made inside the target's transaction (SQLite) or under WATCH (Redis) from
//! what the store holds at that moment, so a concurrent writer cannot slip between the
//! read and the write. It never writes a key itself: a [`Plan`] is handed back for the
//! target to commit whole.

use std::collections::{BTreeMap, BTreeSet};

use certgate::store::{bucket_lookup, bucket_with, Entry, EntryKey, Layout, Marker, MARKER_KEY};

use crate::Error;

/// What one command does: give every key in `keys` one entry, or remove them.
#[derive(Clone, Debug)]
pub struct Request {
    /// The entries' keys, sorted and without duplicates.
    pub keys: Vec<EntryKey>,
    /// The entry every key gets; `None` removes them.
    pub entry: Option<Entry>,
    /// The layout asked for: a new store gets it (else the direct layout), an existing
    /// store of another layout is refused.
    pub layout: Option<LayoutChoice>,
    /// Whether a store without a marker may be created (false for `remove`).
    pub create: bool,
}

impl Request {
    /// A request for these keys, sorted and deduplicated.
    pub fn new(mut keys: Vec<EntryKey>, entry: Option<Entry>, layout: Option<LayoutChoice>) -> Request {
        keys.sort_unstable();
        keys.dedup();
        let create = entry.is_some();
        Request { keys, entry, layout, create }
    }
}

/// The bucket digits of a new bucketed store when none are asked for: 256 buckets, which
/// fit Fermyon Cloud's 1,024 keys and hold about two million entries.
pub const DEFAULT_BUCKET_DIGITS: u8 = 2;

/// A layout as the command line asks for it: bucketed with or without its digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutChoice {
    /// One key per entry.
    Direct,
    /// Buckets of these hex digits, or of any (a new store gets [`DEFAULT_BUCKET_DIGITS`]).
    Bucketed(Option<u8>),
}

impl LayoutChoice {
    /// The layout a new store gets.
    pub fn for_new_store(self) -> Layout {
        match self {
            LayoutChoice::Direct => Layout::Direct,
            LayoutChoice::Bucketed(digits) => Layout::Bucketed { digits: digits.unwrap_or(DEFAULT_BUCKET_DIGITS) },
        }
    }

    /// What it is called in messages.
    pub fn name(self) -> String {
        match self {
            LayoutChoice::Bucketed(None) => "bucketed layout".into(),
            other => layout_name(other.for_new_store()),
        }
    }

    /// Whether a store of `layout` is what was asked for.
    pub fn admits(self, layout: Layout) -> bool {
        match (self, layout) {
            (LayoutChoice::Direct, Layout::Direct) => true,
            (LayoutChoice::Bucketed(None), Layout::Bucketed { .. }) => true,
            (LayoutChoice::Bucketed(Some(d)), Layout::Bucketed { digits }) => d == digits,
            _ => false,
        }
    }
}

/// A consistent view of the store, for planning: reads made through it are the ones the
/// commit is conditional on.
pub trait Snapshot {
    /// The value of a key.
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, Error>;
    /// The values of several keys, in order.
    fn get_many(&mut self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, Error>;
    /// Whether any key of the format's entries (`certgate/v1/…`) exists.
    fn has_format_keys(&mut self) -> Result<bool, Error>;
}

/// What a batch writes, once the store was read.
#[derive(Debug)]
pub struct Plan<'r> {
    /// The store's layout.
    pub layout: Layout,
    /// Whether the store had no marker (this batch creates it).
    pub new_store: bool,
    /// In the direct layout, the keys set to `direct_value` (or deleted when it is `None`).
    pub direct: &'r [EntryKey],
    /// The value of every key in `direct`, as stored.
    pub direct_value: Option<Vec<u8>>,
    /// Whole values to set, in order: changed buckets, then the marker when it changed.
    pub values: Vec<(String, Vec<u8>)>,
    /// In the bucketed layout, how many of the keys to remove had an entry.
    pub removed: Option<usize>,
}

impl Plan<'_> {
    /// How many keys the batch writes.
    pub fn writes(&self) -> usize {
        self.direct.len() + self.values.len()
    }
}

/// Why the marker a store would get is refused: every check is certgate's own
/// [`Marker::parse`].
fn checked_marker(marker: &Marker) -> Result<(), Error> {
    Marker::parse(&marker.to_json())
        .map(drop)
        .map_err(|e| Error::new(format!("the store's {MARKER_KEY} marker would be refused by certgate: {e}")))
}

/// An entry's stored form, checked by certgate's own reader.
fn checked_entry(entry: &Entry) -> Result<Vec<u8>, Error> {
    entry.check().map_err(|e| Error::new(format!("the entry would be refused by certgate: {e}")))?;
    let json = entry.to_json();
    match Entry::parse(&json) {
        Ok(read) if read == *entry => Ok(json),
        Ok(_) => Err(Error::new("the entry would not read back as written")),
        Err(e) => Err(Error::new(format!("the entry would be refused by certgate: {e}"))),
    }
}

/// What `layout` is called in messages.
pub fn layout_name(layout: Layout) -> String {
    match layout {
        Layout::Direct => "direct layout".into(),
        Layout::Bucketed { digits } => format!("bucketed layout, {digits} digit{}", if digits == 1 { "" } else { "s" }),
    }
}

/// Read the marker and the buckets a request touches, and work out every write.
///
/// A store without a marker is created (with the layout asked for, else direct) unless
/// it already holds `certgate/v1/…` keys: those are some store's entries whose marker is
/// gone, and a new marker of a guessed layout could hide their revocations.
pub fn plan<'r>(request: &'r Request, snapshot: &mut dyn Snapshot) -> Result<Plan<'r>, Error> {
    let (mut marker, new_store) = match snapshot.get(MARKER_KEY)? {
        Some(bytes) => {
            let marker = Marker::parse(&bytes)
                .map_err(|e| Error::new(format!("the store's {MARKER_KEY} marker is refused by certgate: {e}")))?;
            (marker, false)
        }
        None if !request.create => {
            return Err(Error::new(format!("the store has no {MARKER_KEY} marker: it holds no certgate entries")));
        }
        None => {
            if snapshot.has_format_keys()? {
                return Err(Error::new(format!(
                    "the store holds {MARKER_KEY}/ keys but no {MARKER_KEY} marker (deleted, or written by \
                     another tool): certgate refuses it as it is, and certgate-kv will not guess its layout; \
                     restore the marker or delete those keys"
                )));
            }
            (Marker::new(request.layout.map_or(Layout::Direct, LayoutChoice::for_new_store)), true)
        }
    };
    let layout = marker.layout().map_err(Error::new)?;
    if let Some(wanted) = request.layout {
        if !wanted.admits(layout) {
            return Err(Error::new(format!(
                "the store has the {}, not the {}: a layout is chosen when a store is created; write the other \
                 layout into a new store",
                layout_name(layout),
                wanted.name()
            )));
        }
    }

    let before = marker.clone();
    if request.entry.is_some() {
        // What the marker says the store holds beyond certificates only ever grows: a
        // removal leaves a lookup that finds nothing, which costs a read, never a miss.
        let issuers: BTreeSet<&[u8; 32]> = request
            .keys
            .iter()
            .filter_map(|k| match k {
                EntryKey::Serial { issuer, .. } => Some(issuer),
                _ => None,
            })
            .collect();
        for issuer in issuers {
            marker.add_serial_issuer(issuer);
        }
        if request.keys.iter().any(|k| matches!(k, EntryKey::Key(_))) {
            marker.key_entries = true;
        }
    }
    checked_marker(&marker)?;
    let value = request.entry.as_ref().map(checked_entry).transpose()?;

    let mut plan = Plan { layout, new_store, direct: &[], direct_value: None, values: Vec::new(), removed: None };
    match layout {
        Layout::Direct => {
            plan.direct = &request.keys;
            plan.direct_value = value;
        }
        Layout::Bucketed { digits } => {
            let mut changes: BTreeMap<String, Vec<(String, Option<Entry>)>> = BTreeMap::new();
            for key in &request.keys {
                changes.entry(key.bucket(digits)).or_default().push((key.name(), request.entry.clone()));
            }
            let names: Vec<String> = changes.keys().cloned().collect();
            let stored = snapshot.get_many(&names)?;
            let mut removed = 0;
            for ((name, changes), stored) in changes.into_iter().zip(stored) {
                let old = stored.as_deref().unwrap_or_default();
                if request.entry.is_none() {
                    for (key, _) in &changes {
                        let found = bucket_lookup(old, key)
                            .map_err(|e| Error::new(format!("bucket {name} is refused by certgate: {e}")))?;
                        removed += usize::from(found.is_some());
                    }
                }
                let new = bucket_with(old, &changes).map_err(|e| Error::new(format!("bucket {name}: {e}")))?;
                // An emptied bucket stays, empty: a copy of the store elsewhere (an
                // exported script) then overwrites its old content instead of keeping it.
                if stored.as_deref() != Some(new.as_slice()) && !(stored.is_none() && new.is_empty()) {
                    plan.values.push((name, new));
                }
            }
            plan.removed = Some(removed);
        }
    }
    if new_store || marker != before {
        plan.values.push((MARKER_KEY.to_string(), marker.to_json()));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use certgate::store::{open, KeyValue, MAX_SERIAL_ISSUERS};

    use super::*;

    /// A store in memory, as a snapshot and (for checking) as certgate's reader sees it.
    #[derive(Default)]
    struct Memory(BTreeMap<String, Vec<u8>>);

    impl Snapshot for Memory {
        fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, Error> {
            Ok(self.0.get(key).cloned())
        }
        fn get_many(&mut self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, Error> {
            Ok(keys.iter().map(|k| self.0.get(k).cloned()).collect())
        }
        fn has_format_keys(&mut self) -> Result<bool, Error> {
            Ok(self.0.keys().any(|k| k.starts_with("certgate/v1/")))
        }
    }

    impl Memory {
        fn apply(&mut self, request: &Request) -> Result<(), Error> {
            let plan = plan(request, self)?;
            for key in plan.direct {
                match &plan.direct_value {
                    Some(v) => self.0.insert(key.name(), v.clone()),
                    None => self.0.remove(&key.name()),
                };
            }
            for (k, v) in plan.values {
                self.0.insert(k, v);
            }
            Ok(())
        }
    }

    #[test]
    fn the_marker_is_last_and_says_what_the_store_holds() {
        let mut store = Memory::default();
        let keys =
            vec![EntryKey::Key([1; 32]), EntryKey::serial([2; 32], &[0x00, 0x81]), EntryKey::Certificate([3; 32])];
        let request = Request::new(keys.clone(), Some(Entry::revoked()), Some(LayoutChoice::Bucketed(None)));
        let planned = plan(&request, &mut store).unwrap();
        assert_eq!(planned.layout, Layout::Bucketed { digits: DEFAULT_BUCKET_DIGITS });
        assert_eq!(planned.values.last().unwrap().0, MARKER_KEY);
        store.apply(&request).unwrap();
        let opened = open(&store.0).unwrap();
        assert!(opened.has_key_entries() && opened.has_serials_of(&[2; 32]));
        for key in &keys {
            assert_eq!(opened.lookup(key).unwrap(), Some(Entry::revoked()));
        }
        // Nothing changed: nothing to write, not even the marker.
        let again = plan(&request, &mut store).unwrap();
        assert!(again.values.is_empty(), "{:?}", again.values);
    }

    #[test]
    fn a_marker_certgate_would_refuse_is_never_written() {
        let mut store = Memory::default();
        let keys: Vec<EntryKey> = (0..=MAX_SERIAL_ISSUERS as u32)
            .map(|i| EntryKey::serial(Sha256::digest(i.to_be_bytes()).into(), &[1]))
            .collect();
        // (Its byte limit is met before its count of issuers: either refuses.)
        let error = plan(&Request::new(keys, Some(Entry::revoked()), None), &mut store).unwrap_err();
        assert!(error.to_string().contains("marker would be refused by certgate"), "{error}");
        assert!(store.0.is_empty());
        // An unreadable marker is refused, not replaced.
        store.0.insert(MARKER_KEY.into(), b"{}".to_vec());
        let error = plan(&Request::new(vec![], Some(Entry::pinned()), None), &mut store).unwrap_err();
        assert!(error.to_string().contains("marker is refused by certgate"), "{error}");
        assert_eq!(KeyValue::get(&store.0, MARKER_KEY).unwrap().unwrap(), b"{}");
    }

    use sha2::{Digest, Sha256};
}
