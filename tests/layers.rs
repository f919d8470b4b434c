//! The library's modules import one way, along the data path: a module may use only the
//! modules listed before it (reason and certificate at the bottom, the HTTP shells on top).
//! Read from the source, so a new `use crate::…` that points upward fails here.

use std::path::Path;

const ORDER: [&str; 20] = [
    "reason",
    "key_identity",
    "name_identity",
    "certificate",
    "extract",
    "thumbprint",
    "platform",
    "log",
    "store",
    "trust",
    "policy",
    "config",
    "decision",
    "gate",
    "upstream",
    "service",
    "gateway",
    "middleware",
    "component",
    "lib",
];

fn module_of(path: &Path, src: &Path) -> String {
    let rel = path.strip_prefix(src).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().to_string();
    first.trim_end_matches(".rs").to_string()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Each `crate::<module>` a file names outside its unit tests.
fn imports(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        let name: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

#[test]
fn modules_import_along_the_data_path() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "found only {} source files", files.len());
    let mut upward = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        if name.ends_with("_tests.rs") || name == "tests.rs" {
            continue;
        }
        let module = module_of(file, &src);
        let Some(rank) = ORDER.iter().position(|m| *m == module) else {
            panic!("{}: module `{module}` is not in ORDER", file.display());
        };
        for target in imports(&std::fs::read_to_string(file).unwrap()) {
            if target == module || target == "internals" {
                continue;
            }
            match ORDER.iter().position(|m| *m == target) {
                Some(t) if t < rank => {}
                _ => upward.push(format!("{}: {module} uses crate::{target}", file.display())),
            }
        }
    }
    assert!(upward.is_empty(), "imports against the data path:\n{}", upward.join("\n"));
}

#[test]
fn the_check_sees_an_upward_import() {
    assert_eq!(imports("use crate::config::Config;\n#[cfg(test)]\nmod tests { use crate::gate; }"), ["config"]);
}
