//! The SpinKube manifests under deploy/spinkube/ validate against the vendored SpinApp CRD
//! schema (made strict, as `kubectl apply --validate=strict` is), and bind only variables
//! that spin.toml declares. Uses check-jsonschema from PyPI (scripts/test installs it); the
//! schema tests are skipped with a message when it is not installed, and fail then when
//! CERTGATE_REQUIRE_TERMINATORS=1.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    certgate_tests::root()
}

/// Whether check-jsonschema is installed (else the calling test is reported skipped).
fn have_check_jsonschema(test: &str) -> bool {
    let importable = std::process::Command::new("python3")
        .args(["-c", "import check_jsonschema"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !importable {
        certgate_tests::missing(test, "the Python module check_jsonschema (PyPI check-jsonschema) is not installed");
    }
    importable
}

fn schema() -> PathBuf {
    root().join("deploy/spinkube/schema/spinapp.v1alpha1.strict.json")
}

/// Run check-jsonschema; Ok(()) when valid, Err(output) when not.
fn check(manifest: &Path) -> Result<(), String> {
    let out = Command::new("python3")
        .args(["-m", "check_jsonschema", "--schemafile"])
        .arg(schema())
        .arg(manifest)
        .output()
        .expect("running python3");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!text.contains("No module named check_jsonschema"), "check-jsonschema went away: {text}");
    if out.status.success() {
        Ok(())
    } else {
        Err(text)
    }
}

#[test]
fn spinapp_manifest_is_valid() {
    if !have_check_jsonschema("spinapp_manifest_is_valid") {
        return;
    }
    check(&root().join("deploy/spinkube/spinapp.yaml")).unwrap_or_else(|e| panic!("{e}"));
    check(&root().join("deploy/spinkube/spinapp-fleet.yaml")).unwrap_or_else(|e| panic!("fleet: {e}"));
}

#[test]
fn the_schema_refuses_what_kubernetes_strict_validation_refuses() {
    if !have_check_jsonschema("the_schema_refuses_what_kubernetes_strict_validation_refuses") {
        return;
    }
    let good = std::fs::read_to_string(root().join("deploy/spinkube/spinapp.yaml")).unwrap();
    let dir = std::env::temp_dir().join(format!("certgate-spinkube-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (what, from, to) in [
        ("misspelt field", "  replicas: 2", "  replica: 2"),
        ("wrong kind", "kind: SpinApp", "kind: SpinApplication"),
        ("missing image", "  image: ghcr.io/your-org/certgate:0.1.0\n", ""),
        ("wrong type", "  replicas: 2", "  replicas: two"),
        ("misspelt secret ref", "secretKeyRef:", "secretRef:"),
    ] {
        assert!(good.contains(from), "{what}: the manifest no longer contains {from:?}");
        let bad = dir.join("bad.yaml");
        std::fs::write(&bad, good.replacen(from, to, 1)).unwrap();
        assert!(check(&bad).is_err(), "{what} was accepted");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn spinapp_binds_only_declared_variables_and_the_required_one() {
    let manifest = std::fs::read_to_string(root().join("deploy/spinkube/spinapp.yaml")).unwrap();
    let vars = certgate_host::Variables::from_manifest(&root().join("spin.toml"), "certgate").unwrap();
    let bound: Vec<&str> = manifest
        .lines()
        .skip_while(|l| l.trim() != "variables:")
        .filter_map(|l| l.trim().strip_prefix("- name: "))
        .collect();
    assert!(bound.contains(&"allowed_thumbprints"), "{bound:?}");
    for name in &bound {
        assert!(vars.declarations().contains_key(*name), "`{name}` is not declared in spin.toml");
    }
    let preset = manifest.lines().find_map(|l| l.trim().strip_prefix("value: ")).unwrap();
    assert!(certgate::platform::find(preset).is_some(), "unknown preset {preset}");
}

#[test]
fn spin_toml_declares_every_variable_certgate_reads() {
    let vars = certgate_host::Variables::from_manifest(&root().join("spin.toml"), "certgate").unwrap();
    let resolved = vars.resolve().unwrap();
    for name in certgate::vars::VARS.iter().map(|v| v.name) {
        assert!(vars.declarations().contains_key(name), "`{name}` is not declared in spin.toml");
        assert!(resolved.contains_key(name), "`{name}` is not mapped into the component");
    }
    for secret in ["proxy_secret", "proxy_hmac_key"] {
        assert!(vars.declarations()[secret].secret, "`{secret}` must be a secret variable");
    }
    // Only a trust source is required, and there are four: none is required on its own.
    assert!(vars.declarations().values().all(|d| !d.required));
}
