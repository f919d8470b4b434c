//! An adapter component that exports `wasi:config/store@0.2.0-draft-2024-09-27` and
//! answers from environment variables. Composed with certgate.wasm (by `wac plug`), it
//! gives `certgate-standalone.wasm`, which imports no `wasi:config` at all and runs on
//! any `wasi:http` host, e.g. `wasmtime serve --env allowed_thumbprints=...`.
//!
//! It also exports a `wasi:keyvalue/store` whose `open` always fails, saying why, so the
//! composition imports no key-value store either and a `keyvalue_store` configuration is
//! refused clearly (`store_unavailable`).
//!
//! Lookup of a key such as `allowed_thumbprints`: the variable of that exact name, else
//! `CERTGATE_ALLOWED_THUMBPRINTS`. `get-all` answers the same for every key at once.

#[cfg(target_arch = "wasm32")]
mod component {
    wit_bindgen::generate!({
        world: "config-env",
        path: "wit",
        generate_all,
    });

    use exports::wasi::config::store::{Error, Guest};

    struct EnvironmentStore;

    fn lookup(key: &str) -> Option<String> {
        std::env::var(key).ok().or_else(|| std::env::var(format!("CERTGATE_{}", key.to_ascii_uppercase())).ok())
    }

    impl Guest for EnvironmentStore {
        fn get(key: String) -> Result<Option<String>, Error> {
            Ok(lookup(&key))
        }

        /// What `get` would answer for every key the environment has: each variable under
        /// its own name, and `CERTGATE_<NAME>` as `<name>` unless `<name>` itself is set.
        fn get_all() -> Result<Vec<(String, String)>, Error> {
            let vars: Vec<(String, String)> = std::env::vars().collect();
            // Exact names first, so a `CERTGATE_` spelling never displaces one.
            let mut all: std::collections::BTreeMap<String, String> = vars.iter().cloned().collect();
            for (key, value) in vars {
                // Only a suffix `get` could have asked for: `CERTGATE_` + the key in upper
                // case (so `CERTGATE_allowed_thumbprints` is no spelling of any key).
                if let Some(name) = key.strip_prefix("CERTGATE_").filter(|n| !n.bytes().any(|b| b.is_ascii_lowercase()))
                {
                    all.entry(name.to_ascii_lowercase()).or_insert(value);
                }
            }
            Ok(all.into_iter().collect())
        }
    }

    /// Never made: `open` always fails.
    struct NoBucket;

    impl exports::wasi::keyvalue::store::GuestBucket for NoBucket {
        fn get(&self, _key: String) -> Result<Option<Vec<u8>>, exports::wasi::keyvalue::store::Error> {
            Err(Self::never())
        }
        fn set(&self, _key: String, _value: Vec<u8>) -> Result<(), exports::wasi::keyvalue::store::Error> {
            Err(Self::never())
        }
        fn delete(&self, _key: String) -> Result<(), exports::wasi::keyvalue::store::Error> {
            Err(Self::never())
        }
        fn exists(&self, _key: String) -> Result<bool, exports::wasi::keyvalue::store::Error> {
            Err(Self::never())
        }
        fn list_keys(
            &self,
            _cursor: Option<String>,
        ) -> Result<exports::wasi::keyvalue::store::KeyResponse, exports::wasi::keyvalue::store::Error> {
            Err(Self::never())
        }
    }

    impl NoBucket {
        fn never() -> exports::wasi::keyvalue::store::Error {
            exports::wasi::keyvalue::store::Error::Other("no key-value store".into())
        }
    }

    /// What the adapter exports: the environment as configuration, and no key-value store.
    struct Adapter;

    impl exports::wasi::config::store::Guest for Adapter {
        fn get(key: String) -> Result<Option<String>, Error> {
            <EnvironmentStore as Guest>::get(key)
        }
        fn get_all() -> Result<Vec<(String, String)>, Error> {
            <EnvironmentStore as Guest>::get_all()
        }
    }

    /// `wasi:keyvalue/store` for a host that has none: every `open` is refused with a
    /// message saying why, so a `keyvalue_store` configuration fails closed and clearly.
    impl exports::wasi::keyvalue::store::Guest for Adapter {
        type Bucket = NoBucket;

        fn open(
            _identifier: String,
        ) -> Result<exports::wasi::keyvalue::store::Bucket, exports::wasi::keyvalue::store::Error> {
            Err(exports::wasi::keyvalue::store::Error::Other(
                "certgate-standalone has no key-value store: run certgate.wasm on a host that provides \
                 wasi:keyvalue (Spin), or unset keyvalue_store"
                    .into(),
            ))
        }
    }

    export!(Adapter);
}
