//! certgate-host: serve `certgate.wasm` on loopback the way `spin up` does, without the
//! Spin CLI. A fresh instance per request (pooling allocator), Spin-style variables
//! (`spin.toml` defaults, `SPIN_VARIABLE_*`, `--variable`) bound to the draft
//! `wasi:config/store` interface that Spin 3 and 4 implement, and Spin's key-value stores
//! (SQLite by default, Redis by runtime config) behind `wasi:keyvalue/store`. The
//! integration tests drive the component through this same code.

pub mod build;
pub mod devpki;
pub mod keyvalue;
pub mod outbound;
pub mod runtime;
pub mod server;
pub mod variables;

pub use keyvalue::{KeyValueStores, RuntimeConfig, StoreConfig};
pub use outbound::AllowedHosts;
pub use runtime::{InstanceReuse, Runtime, RuntimeOptions};
pub use variables::Variables;
