//! The `certgate-kv` command: see [`certgate_kv::cli`].

fn main() -> std::process::ExitCode {
    certgate_kv::cli::main()
}
