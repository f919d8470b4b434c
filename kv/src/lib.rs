//! certgate-kv: write certgate's key-value store of pins and revocations into the stores
//! Spin reads, Spin's local SQLite file and Redis, and export it for Fermyon Cloud.
//!
//! The store's format is certgate's own ([`certgate::store`]): every key, entry, bucket
//! and marker written here is made and checked by the code certgate reads it with, so
//! the writer cannot drift from the reader. What this crate adds is the rest of the job:
//!
//! - [`input`] reads what an operator gives (digest lines, PEM bundles) and [`crl`] the
//!   serials a CRL revokes, all before anything is written;
//! - [`batch`] turns one command into one batch of writes against the store as it stands;
//! - [`target`] commits a batch atomically to SQLite or Redis;
//! - [`export`] writes a store out as a `spin cloud key-value set` script;
//! - [`cli`] is the command line.

pub mod batch;
pub mod cli;
pub mod crl;
pub mod export;
pub mod input;
pub mod target;

use std::fmt;

/// Why a command failed: a message for the operator, naming the input, line or store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Error {
        Error(message.into())
    }

    /// The same error, said of `place` (a file, a store).
    pub fn context(self, place: &str) -> Error {
        Error(format!("{place}: {}", self.0))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<input::InputError> for Error {
    fn from(e: input::InputError) -> Error {
        Error(e.to_string())
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        Error(format!("SQLite: {e}"))
    }
}

impl From<redis::RedisError> for Error {
    fn from(e: redis::RedisError) -> Error {
        Error(format!("Redis: {e}"))
    }
}
