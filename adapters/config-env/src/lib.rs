//! An adapter component that exports `wasi:config/store@0.2.0-draft-2024-09-27` and
//! answers from environment variables. Composed with certgate.wasm (by `wac plug`), it
//! gives `certgate-standalone.wasm`, which imports no `wasi:config` at all and runs on
//! any `wasi:http` host, e.g. `wasmtime serve --env allowed_thumbprints=...`.
//!
//! Lookup of a key such as `allowed_thumbprints`: the variable of that exact name, else
//! `CERTGATE_ALLOWED_THUMBPRINTS`.

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

        fn get_all() -> Result<Vec<(String, String)>, Error> {
            Ok(std::env::vars().collect())
        }
    }

    export!(EnvironmentStore);
}
