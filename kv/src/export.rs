//! A store as a POSIX sh script of `spin cloud key-value set` commands, for Fermyon
//! Cloud, whose managed stores are written only through its API.
//!
//! The cloud plugin's syntax (fermyon/cloud-plugin, `src/commands/key_value.rs`): `spin
//! cloud key-value set` takes `--app APP --label LABEL` (the store linked to that app under
//! that label) or `--store NAME` (the store itself), and `KEY=VALUE` pairs, split at the
//! first `=`. It sets one key per request, so the script is not atomic: it writes every
//! entry and bucket first and the marker last, so a store filled for the first time is
//! refused by certgate (no marker) until the whole store is there, never read half
//! written.

use certgate::store::{Layout, Marker, MARKER_KEY, MAX_BUCKET_BYTES};

use crate::batch::layout_name;
use crate::Error;

/// Fermyon Cloud's limits for one store: keys, bytes of a key, bytes of a value.
pub const FERMYON_MAX_KEYS: usize = 1024;
/// Most bytes of a key on Fermyon Cloud.
pub const FERMYON_MAX_KEY_BYTES: usize = 256;
/// Most bytes of a value on Fermyon Cloud (one megabyte, the bucket limit).
pub const FERMYON_MAX_VALUE_BYTES: usize = MAX_BUCKET_BYTES;

/// Which cloud store the script writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloudStore {
    /// The store an app has linked under a label (`--app APP --label LABEL`).
    AppLabel {
        /// The Fermyon Cloud app.
        app: String,
        /// The label in its spin.toml (`key_value_stores`).
        label: String,
    },
    /// A store by its cloud name (`--store NAME`).
    Named(String),
}

/// The script and the warnings it comes with (for stderr).
#[derive(Clone, Debug)]
pub struct Script {
    /// The script text.
    pub text: String,
    /// Keys it sets.
    pub keys: usize,
    /// The store's layout.
    pub layout: Layout,
    /// What the operator should know before running it.
    pub warnings: Vec<String>,
}

/// `text` as one sh word: in single quotes, each `'` written `'\''`. Nothing inside single
/// quotes is special to sh, newlines included.
pub fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The script that sets `keys` (the marker and every `certgate/v1/…` key of a store,
/// with their values) in `cloud`. `source` says where they came from, for its header.
pub fn fermyon_script(keys: &[(String, Vec<u8>)], cloud: &CloudStore, source: &str) -> Result<Script, Error> {
    let marker = keys
        .iter()
        .find(|(k, _)| k == MARKER_KEY)
        .ok_or_else(|| Error::new(format!("{source} has no {MARKER_KEY} marker: nothing to export")))?;
    let layout = Marker::parse(&marker.1)
        .and_then(|m| m.layout())
        .map_err(|e| Error::new(format!("{source}: its {MARKER_KEY} marker is refused by certgate: {e}")))?;

    let target = match cloud {
        CloudStore::AppLabel { app, label } => format!("--app {} --label {}", sh_quote(app), sh_quote(label)),
        CloudStore::Named(name) => format!("--store {}", sh_quote(name)),
    };
    let mut warnings = Vec::new();
    if keys.len() > FERMYON_MAX_KEYS {
        warnings.push(format!(
            "{} keys ({}): a Fermyon Cloud store holds at most {FERMYON_MAX_KEYS}; write the bucketed layout \
             with 1 or 2 digits into a new store (init --layout bucketed --bucket-digits 2) and export that",
            keys.len(),
            layout_name(layout)
        ));
    }
    let mut lines = Vec::with_capacity(keys.len());
    // Every entry and bucket first, the marker last.
    let ordered = keys.iter().filter(|(k, _)| k != MARKER_KEY).chain(std::iter::once(marker));
    for (key, value) in ordered {
        let value = std::str::from_utf8(value)
            .map_err(|_| Error::new(format!("{key}: the value is not UTF-8 text, which spin cloud cannot set")))?;
        if key.contains('=') || key.contains('\0') || value.contains('\0') {
            return Err(Error::new(format!("{key}: a key with `=` or a NUL cannot be passed as KEY=VALUE")));
        }
        if key.len() > FERMYON_MAX_KEY_BYTES {
            warnings.push(format!("{key}: over Fermyon Cloud's {FERMYON_MAX_KEY_BYTES} bytes of a key"));
        }
        if value.len() > FERMYON_MAX_VALUE_BYTES {
            warnings.push(format!("{key}: a value over Fermyon Cloud's {FERMYON_MAX_VALUE_BYTES} bytes"));
        }
        lines.push(format!("spin cloud key-value set {target} {}\n", sh_quote(&format!("{key}={value}"))));
    }

    let mut text = String::new();
    text.push_str("#!/bin/sh\n");
    text.push_str(&format!(
        "# certgate's key-value store for Fermyon Cloud: {} keys ({}) from {}.\n",
        keys.len(),
        layout_name(layout),
        source.replace('\n', " ")
    ));
    text.push_str(
        "# Written by certgate-kv export-fermyon-script. `spin cloud key-value set` writes one key at a\n\
         # time: entries and buckets come first and the certgate/v1 marker last, so a store filled for\n\
         # the first time is refused by certgate until the last line has run. Keys deleted from the\n\
         # source are not deleted from the cloud store (emptied buckets are overwritten).\n",
    );
    text.push_str("set -e\n");
    for line in lines {
        text.push_str(&line);
    }
    Ok(Script { text, keys: keys.len(), layout, warnings })
}
