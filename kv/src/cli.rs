//! The command line: one subcommand per operation, each naming its store (`--sqlite` or
//! `--redis`), each write one atomic batch, each ending with a one-line summary on stderr.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use certgate::store::{open, Entry, EntryKey, State, MARKER_KEY};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::batch::{layout_name, LayoutChoice, Request};
use crate::crl::read_crls;
use crate::export::{fermyon_script, CloudStore};
use crate::input::{digests, parse_digest, pem_blocks, By, Input, Spellings};
use crate::target::{Outcome, RedisTarget, SqliteTarget, Target};
use crate::Error;

/// Write certgate's key-value store: pins and revocations by certificate thumbprint,
/// key or CRL serial, into Spin's SQLite file or Redis.
#[derive(Debug, Parser)]
#[command(
    name = "certgate-kv",
    version,
    about = "Write certgate's key-value store of pins and revocations (Spin's SQLite file, Redis)",
    long_about = "Write certgate's key-value store of pins and revocations into the stores Spin reads: \
                  Spin's local SQLite file (`spin up` keeps it at .spin/sqlite_key_value.db next to \
                  spin.toml) or Redis. Every write command is one atomic batch: all of its inputs are \
                  checked first, and a batch that fails writes nothing. Running a command again leaves \
                  the same store.\n\nName the store with --sqlite PATH or --redis URL, before or after the \
                  subcommand. The format is docs/keyvalue.md's, written by certgate's own code.",
    after_help = "Examples:\n  certgate-kv --sqlite .spin/sqlite_key_value.db pin --label fleet devices.pem\n  \
                  certgate-kv --sqlite .spin/sqlite_key_value.db revoke --label lost-2026-12 lost.txt\n  \
                  certgate-kv --redis redis://127.0.0.1:6379 revoke-crl --ca issuing-ca.pem issuing-ca.crl\n  \
                  certgate-kv --sqlite fleet.db init --layout bucketed --bucket-digits 2\n  \
                  certgate-kv --sqlite fleet.db export-fermyon-script --app certgate > copy.sh"
)]
pub struct Cli {
    /// The store, before or after the subcommand.
    #[command(flatten)]
    pub target: TargetArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The operations: each write is one atomic batch, each read goes through certgate's reader.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the store: write its certgate/v1 marker if it has none.
    #[command(long_about = "Create the store: write its certgate/v1 marker if it has none. A store that has one \
                      is left as it is; one of another layout is refused (a layout is chosen once: \
                      changing it means a new store). Any first write creates the store too.")]
    Init(InitArgs),
    /// Pin certificates or keys: certgate allows them. A revoked entry is pinned again.
    Pin(PinArgs),
    /// Revoke certificates or keys: certgate denies them, whatever else trusts them.
    Revoke(RevokeArgs),
    /// Revoke every serial a CRL lists, keyed by the CRL's issuer.
    #[command(long_about = "Revoke every serial a CRL lists: one entry per issuer and serial, and the issuer \
                      added to the marker's serial_issuers so certgate looks its certificates' serials up. \
                      The CRL's signature is NOT verified: you vouch for the file, as for a thumbprint \
                      list. Delta CRLs, indirect CRLs (entries of another issuer) and removeFromCRL \
                      entries are refused.")]
    RevokeCrl(RevokeCrlArgs),
    /// Delete the entries of certificates or keys (pinned or revoked alike).
    Remove(RemoveArgs),
    /// Print the entry certgate reads for a certificate thumbprint (or a key digest).
    Show(ShowArgs),
    /// Print a sh script that copies the store to Fermyon Cloud with `spin cloud key-value set`.
    #[command(long_about = "Print a POSIX sh script that copies the store (the marker and every certgate/v1/ key) \
                      to a Fermyon Cloud key-value store with `spin cloud key-value set`, entries and \
                      buckets first and the marker last. Fermyon Cloud keeps at most 1,024 keys per store \
                      and values of at most 1 MB: a store bigger than that in the direct layout is \
                      reported on stderr, and the bucketed layout (1 or 2 digits) is the fit.")]
    ExportFermyonScript(ExportArgs),
    /// Delete every chain cache entry certgate wrote (`chain_cache_seconds`).
    #[command(long_about = "Delete every chain cache entry (certgate/v1/chain/...) that certgate wrote with \
                      chain_cache_seconds. Entries of an earlier trust configuration are never read again; \
                      this removes them (and the current ones, which the next requests write back). Pins \
                      and revocations are not touched.")]
    ClearChainCache,
}

/// Which store a command reads or writes: exactly one of `--sqlite` and `--redis`, given
/// before the subcommand or after it.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Spin's SQLite key-value file; `spin up` uses .spin/sqlite_key_value.db next to spin.toml (created, with its
    /// directories, by a write).
    #[arg(long, value_name = "PATH", global = true, help_heading = "Store (one of --sqlite and --redis)")]
    pub sqlite: Option<PathBuf>,
    /// A Redis database, `redis://[USER:PASSWORD@]HOST:PORT[/DB]`, as a Spin `type = "redis"` store (keys as given,
    /// values raw).
    #[arg(long, value_name = "URL", global = true, help_heading = "Store (one of --sqlite and --redis)")]
    pub redis: Option<String>,
    /// The store's label (spin.toml's `key_value_stores`): the rows of that label in the SQLite file [default:
    /// default]. A Redis store is a whole database (choose it in the URL).
    #[arg(long, value_name = "LABEL", global = true, help_heading = "Store (one of --sqlite and --redis)")]
    pub store: Option<String>,
}

impl TargetArgs {
    /// The store's label: `--store`, else `default`, Spin's default store.
    pub fn label(&self) -> &str {
        self.store.as_deref().unwrap_or("default")
    }
}

/// The layout of a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LayoutKind {
    /// One key per entry: one read per lookup, any number of entries (SQLite, Redis).
    Direct,
    /// Entries grouped into 16^digits keys (Fermyon Cloud, with its 1,024 keys per store).
    Bucketed,
}

/// The layout of a new store, and a check on an existing one.
#[derive(Debug, Args)]
pub struct LayoutArgs {
    /// The layout of a new store [default: direct]; an existing store of another layout is refused.
    #[arg(long, value_enum, value_name = "LAYOUT", help_heading = "Layout of a new store")]
    pub layout: Option<LayoutKind>,
    /// Hex digits of the bucket names: 1 (16 buckets), 2 (256) or 3 (4,096) [default: 2].
    #[arg(
        long,
        value_name = "N",
        requires = "layout",
        value_parser = clap::value_parser!(u8).range(1..=3),
        help_heading = "Layout of a new store"
    )]
    pub bucket_digits: Option<u8>,
}

impl LayoutArgs {
    fn choice(&self) -> Result<Option<LayoutChoice>, Error> {
        match (self.layout, self.bucket_digits) {
            (None, _) => Ok(None),
            (Some(LayoutKind::Direct), Some(_)) => Err(Error::new("--bucket-digits is for --layout bucketed")),
            (Some(LayoutKind::Direct), None) => Ok(Some(LayoutChoice::Direct)),
            (Some(LayoutKind::Bucketed), digits) => Ok(Some(LayoutChoice::Bucketed(digits))),
        }
    }
}

/// The arguments of `init`: the layout the new store gets.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The layout (direct unless asked).
    #[command(flatten)]
    pub layout: LayoutArgs,
}

/// The inputs of `pin`, `revoke` and `remove`.
#[derive(Debug, Args)]
pub struct Inputs {
    /// What the inputs name: certificates (SHA-256 of the DER) or keys (SHA-256 of the SubjectPublicKeyInfo).
    #[arg(long, value_enum, value_name = "WHAT", default_value = "thumbprint")]
    pub by: By,
    /// Files (`-` for stdin) of PEM certificates, or of one SHA-256 per line (64 hex digits, `:` between pairs
    /// allowed; `#` comments). With --by key: key digests (hex, or base64 of 32 bytes, optionally after
    /// `sha256/`) or PEM PUBLIC KEY blocks too. SHA-1 thumbprints are refused.
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<PathBuf>,
}

/// The arguments of `pin`: what to pin, and the label and window every pin gets.
#[derive(Debug, Args)]
pub struct PinArgs {
    /// A label certgate logs when the pin matches: visible ASCII and spaces, at most 128 bytes.
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    /// The pin allows nothing before this time (RFC 3339, e.g. 2026-01-01T00:00:00Z).
    #[arg(long, value_name = "RFC3339")]
    pub not_before: Option<String>,
    /// The pin allows nothing after this time (RFC 3339).
    #[arg(long, value_name = "RFC3339")]
    pub not_after: Option<String>,
    /// What to pin.
    #[command(flatten)]
    pub inputs: Inputs,
    /// The layout of a new store.
    #[command(flatten)]
    pub layout: LayoutArgs,
}

/// The arguments of `revoke`: what to revoke, and the label every revocation gets.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// A label certgate logs when the revocation denies: visible ASCII and spaces, at most 128 bytes.
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    /// What to revoke.
    #[command(flatten)]
    pub inputs: Inputs,
    /// The layout of a new store.
    #[command(flatten)]
    pub layout: LayoutArgs,
}

/// The arguments of `revoke-crl`: the CRLs, and the label every revocation gets.
#[derive(Debug, Args)]
pub struct RevokeCrlArgs {
    /// A label certgate logs when one of these revocations denies.
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    /// The CA certificates that issue these CRLs (PEM, any number of CERTIFICATE blocks): each CRL must then be
    /// signed by one of them and carry its subject exactly as its certificates name their issuer, or nothing is
    /// written. Without it the CRLs are taken as given, unverified.
    #[arg(long = "ca", value_name = "CA_FILE")]
    pub ca: Option<PathBuf>,
    /// X.509 CRLs, PEM (any number of X509 CRL blocks) or DER; `-` for stdin. Signatures are verified only with
    /// --ca.
    #[arg(value_name = "CRL_FILE", required = true)]
    pub crls: Vec<PathBuf>,
    /// The layout of a new store.
    #[command(flatten)]
    pub layout: LayoutArgs,
}

/// The arguments of `remove`: what to delete.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// What to remove.
    #[command(flatten)]
    pub inputs: Inputs,
}

/// The arguments of `show`: one digest to look up.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// What DIGEST is: a certificate's SHA-256 thumbprint, or a key's SPKI SHA-256.
    #[arg(long, value_enum, value_name = "WHAT", default_value = "thumbprint")]
    pub by: By,
    /// The SHA-256 (64 hex digits, `:` between pairs allowed; for --by key also base64).
    #[arg(value_name = "DIGEST")]
    pub digest: String,
}

/// The arguments of `export-fermyon-script`: the cloud store the script writes (the source
/// is the store named by `--sqlite` or `--redis`).
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Which cloud store to write.
    #[command(flatten)]
    pub cloud: CloudArgs,
}

/// The Fermyon Cloud store an export writes.
#[derive(Debug, Args)]
#[group(skip)]
#[command(group(clap::ArgGroup::new("cloud").args(["app", "cloud_store"]).required(true).multiple(false)))]
pub struct CloudArgs {
    /// The Fermyon Cloud app whose linked store to set (`spin cloud key-value set --app APP --label LABEL`).
    #[arg(long, value_name = "APP", help_heading = "Fermyon Cloud store")]
    pub app: Option<String>,
    /// The label the app links the store under [default: the --store label].
    #[arg(long, value_name = "LABEL", requires = "app", help_heading = "Fermyon Cloud store")]
    pub label: Option<String>,
    /// Or a cloud store by its name (`spin cloud key-value set --store NAME`).
    #[arg(long, value_name = "NAME", help_heading = "Fermyon Cloud store")]
    pub cloud_store: Option<String>,
}

/// Parse the command line, run it, and report: the summary or the error on stderr, exit
/// code 1 on error (2 for a malformed command line).
pub fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("certgate-kv: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Run one command.
pub fn run(cli: Cli) -> Result<(), Error> {
    let target = &cli.target;
    match (&target.sqlite, &target.redis, &target.store) {
        (None, None, _) => return Err(Error::new("name the store: --sqlite PATH or --redis URL")),
        (Some(_), Some(_), _) => return Err(Error::new("--sqlite and --redis: name one store")),
        (None, Some(_), Some(_)) => {
            return Err(Error::new(
                "--store names rows of a SQLite file; a Redis store is its whole database (redis://HOST:PORT/DB)",
            ))
        }
        _ => {}
    }
    match cli.command {
        Command::Init(args) => init(target, args),
        Command::Pin(args) => {
            let entry = pin_entry(args.label, args.not_before.as_deref(), args.not_after.as_deref())?;
            write_digests(target, &args.inputs, Some(entry), args.layout.choice()?, "pinned")
        }
        Command::Revoke(args) => {
            let entry = checked_label(Entry::revoked(), args.label)?;
            write_digests(target, &args.inputs, Some(entry), args.layout.choice()?, "revoked")
        }
        Command::RevokeCrl(args) => revoke_crl(target, args),
        Command::Remove(args) => write_digests(target, &args.inputs, None, None, "removed"),
        Command::Show(args) => show(target, args),
        Command::ExportFermyonScript(args) => export(target, args),
        Command::ClearChainCache => {
            let mut store = open_target(target, true)?;
            let removed = store.clear_chain_cache()?;
            eprintln!("removed {removed} chain cache entries from {}", store.describe());
            Ok(())
        }
    }
}

fn open_target(args: &TargetArgs, write: bool) -> Result<Target, Error> {
    match (&args.sqlite, &args.redis) {
        (Some(path), _) => Ok(Target::Sqlite(SqliteTarget::open(path, args.label(), write)?)),
        (None, Some(url)) => Ok(Target::Redis(RedisTarget::open(url)?)),
        (None, None) => Err(Error::new("name the store: --sqlite PATH or --redis URL")),
    }
}

/// Where a batch went: `store "default" (direct layout) of PATH`.
fn place(target: &Target, outcome: &Outcome) -> String {
    let new = if outcome.new_store { ", new store" } else { "" };
    let place = target.describe_with(&format!("{}{new}", layout_name(outcome.layout)));
    match outcome.attempts {
        0 | 1 => place,
        n => format!("{place}, at attempt {n} (another writer changed the store meanwhile)"),
    }
}

fn init(target_args: &TargetArgs, args: InitArgs) -> Result<(), Error> {
    let choice = args.layout.choice()?.unwrap_or(LayoutChoice::Direct);
    let request = Request { keys: Vec::new(), entry: None, layout: Some(choice), create: true };
    let mut target = open_target(target_args, true)?;
    let outcome = target.apply(&request)?;
    if outcome.new_store {
        eprintln!("initialised {}", place(&target, &outcome));
    } else {
        eprintln!("{} is already initialised; nothing written", place(&target, &outcome));
    }
    Ok(())
}

/// An entry with a label, checked as certgate checks a stored one.
fn checked_label(entry: Entry, label: Option<String>) -> Result<Entry, Error> {
    let entry = entry.labelled(label);
    entry.check().map_err(|e| Error::new(format!("--label: {e}")))?;
    Ok(entry)
}

/// A pin with its label and window, read by certgate's own entry parser so a time it
/// would not read is refused here.
pub fn pin_entry(label: Option<String>, not_before: Option<&str>, not_after: Option<&str>) -> Result<Entry, Error> {
    let time = |flag: &str, field: &str, value: &str| -> Result<Option<i64>, Error> {
        let json = serde_json::json!({ "state": "pinned", field: value });
        let entry = Entry::parse(json.to_string().as_bytes())
            .map_err(|_| Error::new(format!("{flag} {value:?}: not an RFC 3339 time (2026-12-31T00:00:00Z)")))?;
        Ok(if field == "not_before" { entry.not_before } else { entry.not_after })
    };
    let mut entry = checked_label(Entry::pinned(), label)?;
    if let Some(t) = not_before {
        entry.not_before = time("--not-before", "not_before", t)?;
    }
    if let Some(t) = not_after {
        entry.not_after = time("--not-after", "not_after", t)?;
    }
    entry.check().map_err(|e| Error::new(format!("--not-before / --not-after: {e}")))?;
    Ok(entry)
}

/// Read every input (stdin at most once), in full, before the store is opened.
fn read_inputs(paths: &[PathBuf]) -> Result<Vec<Input>, Error> {
    if paths.iter().filter(|p| p.as_path() == Path::new("-")).count() > 1 {
        return Err(Error::new("`-` (stdin) is given more than once"));
    }
    Ok(paths.iter().map(|p| Input::read(p)).collect::<Result<_, _>>()?)
}

fn write_digests(
    target_args: &TargetArgs,
    inputs: &Inputs,
    entry: Option<Entry>,
    layout: Option<LayoutChoice>,
    verb: &str,
) -> Result<(), Error> {
    let mut keys = Vec::new();
    for input in read_inputs(&inputs.inputs)? {
        // A pin names the key as signed; a revocation or a removal every spelling of it.
        let spellings = match &entry {
            Some(entry) if entry.state == State::Pinned => Spellings::AsSigned,
            _ => Spellings::Every,
        };
        let found = digests(&input, inputs.by, spellings)?;
        if found.is_empty() {
            eprintln!("certgate-kv: warning: {} names no certificate or key", input.name);
        }
        keys.extend(found.into_iter().map(|d| match inputs.by {
            By::Thumbprint => EntryKey::Certificate(d),
            By::Key => EntryKey::Key(d),
        }));
    }
    let removal = entry.is_none();
    let request = Request::new(keys, entry, layout);
    let mut target = open_target(target_args, true)?;
    let outcome = target.apply(&request)?;
    let n = request.keys.len();
    let what = format!("{} by {}", inputs.by.noun(n), inputs.by.digest_name());
    if removal {
        eprintln!("removed the entries of {} of {n} {what} from {}", outcome.removed, place(&target, &outcome));
    } else {
        eprintln!("{verb} {n} {what} in {}", place(&target, &outcome));
    }
    Ok(())
}

fn revoke_crl(target_args: &TargetArgs, args: RevokeCrlArgs) -> Result<(), Error> {
    let entry = checked_label(Entry::revoked(), args.label)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let cas = match &args.ca {
        Some(path) => Some(read_ca_certificates(path)?),
        None => None,
    };
    let mut keys = Vec::new();
    let mut issuers = BTreeSet::new();
    let mut crl_count = 0;
    for input in read_inputs(&args.crls)? {
        for crl in read_crls(&input)? {
            crl_count += 1;
            // With --ca, under every spelling of the issuer's name its CA certificates use.
            let issuer_digests = match &cas {
                Some(cas) => certgate::crl_issuer_digests(&crl.der, cas)
                    .map_err(|e| Error::new(format!("{}: {e}", crl.origin)))?,
                None => vec![crl.issuer_sha256],
            };
            if crl.next_update.is_some_and(|next| next < now) {
                eprintln!("certgate-kv: warning: {}: the CRL of {} is past its nextUpdate", crl.origin, crl.issuer);
            }
            if crl.serials.is_empty() {
                continue;
            }
            for issuer in issuer_digests {
                issuers.insert(issuer);
                keys.extend(crl.serials.iter().map(|s| EntryKey::serial(issuer, s)));
            }
        }
    }
    let request = Request::new(keys, Some(entry), args.layout.choice()?);
    let mut target = open_target(target_args, true)?;
    let outcome = target.apply(&request)?;
    let n = request.keys.len();
    eprintln!(
        "revoked {n} serial{} of {} issuer{} ({crl_count} CRL{}) in {}",
        if n == 1 { "" } else { "s" },
        issuers.len(),
        if issuers.len() == 1 { "" } else { "s" },
        if crl_count == 1 { "" } else { "s" },
        place(&target, &outcome)
    );
    Ok(())
}

/// The DER of every CERTIFICATE block of a PEM file (`--ca`).
fn read_ca_certificates(path: &Path) -> Result<Vec<Vec<u8>>, Error> {
    let input = Input::read(path)?;
    let text = input.text().ok_or_else(|| Error::new(format!("{}: --ca takes PEM CERTIFICATE blocks", input.name)))?;
    let mut cas = Vec::new();
    for block in pem_blocks(&input, text)? {
        if block.label != "CERTIFICATE" {
            return Err(Error::new(format!(
                "{} line {}: a PEM block of type {}: --ca takes CERTIFICATE blocks",
                input.name, block.line, block.label
            )));
        }
        cas.push(block.der);
    }
    if cas.is_empty() {
        return Err(Error::new(format!("{}: --ca holds no CERTIFICATE block", input.name)));
    }
    Ok(cas)
}

fn show(target_args: &TargetArgs, args: ShowArgs) -> Result<(), Error> {
    let digest = parse_digest(&args.digest, args.by).map_err(|e| Error::new(format!("DIGEST: {e}")))?;
    let key = match args.by {
        By::Thumbprint => EntryKey::Certificate(digest),
        By::Key => EntryKey::Key(digest),
    };
    let mut target = open_target(target_args, false)?;
    let described = target.describe();
    let reader = target.reader();
    // certgate's own reader: what a request would see.
    let opened = open(&reader).map_err(|e| Error::new(format!("{described}: {e}")))?;
    if args.by == By::Key && !opened.has_key_entries() {
        eprintln!(
            "certgate-kv: note: the store's marker says it holds no key entries, so certgate does not look keys up"
        );
    }
    match opened.lookup(&key).map_err(|e| Error::new(format!("{described}: {e}")))? {
        Some(entry) => println!("{} {}", key.name(), String::from_utf8_lossy(&entry.to_json())),
        None => println!("{} no entry", key.name()),
    }
    Ok(())
}

fn export(target_args: &TargetArgs, args: ExportArgs) -> Result<(), Error> {
    let cloud = match (args.cloud.app, args.cloud.cloud_store) {
        (Some(app), _) => {
            CloudStore::AppLabel { app, label: args.cloud.label.unwrap_or_else(|| target_args.label().to_string()) }
        }
        (None, Some(name)) => CloudStore::Named(name),
        (None, None) => return Err(Error::new("give --app APP or --cloud-store NAME")),
    };
    let mut target = open_target(target_args, false)?;
    let source = target.describe();
    // The chain cache is not copied: it belongs to the instances that wrote it.
    let mut keys = target.format_keys()?;
    keys.retain(|(key, _)| !key.starts_with(certgate::store::chain::PREFIX));
    let script = fermyon_script(&keys, &cloud, &source)?;
    for warning in &script.warnings {
        eprintln!("certgate-kv: warning: {warning}");
    }
    print!("{}", script.text);
    let to = match &cloud {
        CloudStore::AppLabel { app, label } => format!("app {app:?}, label {label:?}"),
        CloudStore::Named(name) => format!("cloud store {name:?}"),
    };
    eprintln!(
        "wrote a script setting {} keys ({}, the {MARKER_KEY} marker last) of {source} into {to}",
        script.keys,
        layout_name(script.layout)
    );
    Ok(())
}
