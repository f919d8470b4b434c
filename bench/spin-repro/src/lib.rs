//! Minimal reproduction of a Spin keep-alive stall (docs/reports/spin-upstream.md).
//!
//! `GET /?vars=N&body=after|before` reads the variables `v1` .. `vN` through
//! `wasi:config/store` (N at most 8; `read=all` instead reads all eight with one `get-all`),
//! then answers 19 bytes of JSON:
//!
//! - `body=after` (the default): the response is handed to the host first and its body
//!   written after, as most guests and SDKs do;
//! - `body=before`: the body is written and finished before the response is handed over.
//!
//! Under `spin up`, with the variables resolved by the environment provider, `vars=1` or
//! more with `body=after` makes every other response on a keep-alive connection wait about
//! 40 ms (the second TCP segment waits for the client's delayed ACK). `vars=0`, or
//! `body=before`, or the values given with `--variable`, do not. `log=1` also writes a
//! log line of certgate's size to stderr (what one costs under `spin up`).
//!
//! `kv=open` opens the key-value store `default` (`wasi:keyvalue/store`) and reads nothing;
//! `kv=N` (1 to 4) opens it and reads N keys (`k1` .. `kN`), as certgate's store lookups
//! do: what the host's store calls cost, apart from any guest work (`bench/spin-kv`).

#[cfg(target_arch = "wasm32")]
mod component {
    use ::wasi::http::types::{Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};

    mod config {
        wit_bindgen::generate!({ world: "spin-repro", path: "wit", generate_all });
    }
    use config::wasi::config::store;
    use config::wasi::keyvalue::store as keyvalue;

    const BODY: &[u8] = br#"["value1","value2"]"#;
    const NAMES: [&str; 8] = ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8"];

    struct Repro;

    /// What a request asks for: variables to read, whether the body goes first, whether
    /// variables are read with one `get-all`, and store keys to read after opening it.
    struct Query {
        vars: usize,
        before: bool,
        all: bool,
        kv: Option<usize>,
    }

    fn query(request: &IncomingRequest) -> Query {
        let path = request.path_with_query().unwrap_or_default();
        let query = path.split_once('?').map(|(_, q)| q).unwrap_or("");
        let mut vars = 0;
        let mut before = false;
        let mut all = false;
        let mut kv = None;
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("kv", "open")) => kv = Some(0),
                Some(("kv", n)) => kv = n.parse::<usize>().ok().map(|n| n.min(KEYS.len())),
                Some(("vars", n)) => vars = n.parse::<usize>().unwrap_or(0).min(NAMES.len()),
                Some(("body", "before")) => before = true,
                Some(("read", "all")) => all = true,
                Some(("log", "1")) => {
                    use std::io::Write;
                    let line = concat!(
                        r#"{"level":"info","event":"request","reason":"allowed","#,
                        r#""detail":"a log line of about the size certgate writes per request","path":"/api/values"}"#,
                        "\n"
                    );
                    let _ = std::io::stderr().write_all(line.as_bytes());
                }
                _ => {}
            }
        }
        Query { vars, before, all, kv }
    }

    const KEYS: [&str; 4] = ["k1", "k2", "k3", "k4"];

    /// Open `default` and read `keys` keys: how many were there, or `None` when the store
    /// could not be opened.
    fn read_store(keys: usize) -> Option<usize> {
        let bucket = keyvalue::open("default").ok()?;
        Some(KEYS[..keys].iter().filter(|k| matches!(bucket.get(k), Ok(Some(_)))).count())
    }

    fn write_body(body: &OutgoingBody) {
        if let Ok(stream) = body.write() {
            let _ = stream.blocking_write_and_flush(BODY);
        }
    }

    impl ::wasi::exports::http::incoming_handler::Guest for Repro {
        fn handle(request: IncomingRequest, out: ResponseOutparam) {
            let Query { vars, before, all, kv } = query(&request);
            let mut found = 0usize;
            if all {
                // One host call for every variable of the component.
                if let Ok(values) = store::get_all() {
                    found = values.len();
                }
            } else {
                for name in &NAMES[..vars] {
                    if let Ok(Some(_)) = store::get(name) {
                        found += 1;
                    }
                }
            }
            let mut fields = vec![
                ("content-type".to_string(), b"application/json".to_vec()),
                ("x-variables-found".to_string(), found.to_string().into_bytes()),
            ];
            if let Some(keys) = kv {
                let read = read_store(keys).map_or("unopened".to_string(), |n| n.to_string());
                fields.push(("x-keys-found".to_string(), read.into_bytes()));
            }
            let headers = Fields::from_list(&fields).unwrap_or_else(|_| Fields::new());
            let response = OutgoingResponse::new(headers);
            let Ok(body) = response.body() else { return };
            if before {
                write_body(&body);
                let _ = OutgoingBody::finish(body, None);
                ResponseOutparam::set(out, Ok(response));
            } else {
                ResponseOutparam::set(out, Ok(response));
                write_body(&body);
                let _ = OutgoingBody::finish(body, None);
            }
        }
    }

    ::wasi::http::proxy::export!(Repro with_types_in ::wasi);
}
