//! The local host's development certificate: on a first run with no
//! `allowed_thumbprints`, create a development CA and client certificate under the
//! git-ignored `.certgate-dev/`, and allow only that client. A feature of this local
//! host alone; the component itself never has a default allowlist.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use base64::Engine;
use certgate_testkit::{encode, Ca, Duration, LeafOptions, OffsetDateTime};
use sha2::{Digest, Sha256};

/// The development client certificate.
pub struct DevCertificate {
    pub dir: PathBuf,
    pub der: Vec<u8>,
    pub created: bool,
}

impl DevCertificate {
    pub fn sha256_hex(&self) -> String {
        hex::encode(Sha256::digest(&self.der))
    }

    pub fn base64(&self) -> String {
        encode::base64_der(&self.der)
    }

    pub fn client_pem(&self) -> PathBuf {
        self.dir.join("client.pem")
    }
}

fn read_pem_der(path: &Path) -> Result<Vec<u8>> {
    let text = std::fs::read_to_string(path)?;
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).flat_map(|l| l.trim().chars()).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body.as_bytes()).context("client.pem is not PEM")?;
    if der.is_empty() {
        bail!("{} is empty", path.display());
    }
    Ok(der)
}

/// Load the development certificate from `dir`, creating it on first use.
pub fn load_or_create(dir: &Path) -> Result<DevCertificate> {
    let client = dir.join("client.pem");
    if client.exists() {
        let der = read_pem_der(&client).with_context(|| format!("reading {}", client.display()))?;
        return Ok(DevCertificate { dir: dir.to_path_buf(), der, created: false });
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let ca = Ca::new("certgate development CA (local use only)");
    let mut options = LeafOptions::named("certgate-dev-client").dns("localhost").email("dev@localhost");
    options.not_before = OffsetDateTime::now_utc() - Duration::hours(1);
    options.not_after = OffsetDateTime::now_utc() + Duration::days(365);
    let leaf = ca.issue(&options);
    std::fs::write(dir.join("ca.pem"), ca.certificate.pem())?;
    std::fs::write(dir.join("ca.key"), &ca.certificate.key_pem)?;
    std::fs::write(dir.join("client.key"), &leaf.key_pem)?;
    std::fs::write(&client, leaf.pem())?;
    std::fs::write(
        dir.join("README.txt"),
        "Development CA and client certificate made by certgate-host on first run.\n\
         Local use only: never deploy these, never pin them in production.\n",
    )?;
    Ok(DevCertificate { dir: dir.to_path_buf(), der: leaf.der, created: true })
}
