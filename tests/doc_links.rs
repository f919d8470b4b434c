//! Every relative link in the README, SECURITY.md, docs/ and deploy/ leads to a file that
//! exists and, with a `#fragment`, to a heading of that file (GitHub's anchor rule). Native,
//! std only: the docs moved between files, and a link that breaks should fail a test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The markdown files we write: top level, docs/ and deploy/ (minus the vendored CRD).
fn documents() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("crd") {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut out: Vec<PathBuf> = ["README.md", "SECURITY.md"].iter().map(|f| root().join(f)).collect();
    walk(&root().join("docs"), &mut out);
    walk(&root().join("deploy"), &mut out);
    out.sort();
    out
}

/// The lines of a markdown file outside fenced code blocks.
fn prose(text: &str) -> Vec<&str> {
    let mut fenced = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            out.push(line);
        }
    }
    out
}

/// The text of a line with its `code spans` removed.
fn without_code(line: &str) -> String {
    line.split('`').step_by(2).collect::<Vec<_>>().join(" ")
}

/// Targets of `[text](target)` and `![alt](target)` links.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in prose(text) {
        let line = without_code(line);
        let mut rest = line.as_str();
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            let target = rest[..end].split_whitespace().next().unwrap_or("");
            out.push(target.to_string());
            rest = &rest[end..];
        }
    }
    out
}

/// GitHub's anchor for a heading: lowercase, only letters, digits, `-`, `_` and spaces kept,
/// spaces become `-`; a repeated anchor gets `-1`, `-2`, ….
fn anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in prose(text) {
        let Some(heading) = line.strip_prefix('#') else { continue };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let slug: String = heading
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let mut candidate = slug.clone();
        let mut n = 0;
        while !out.insert(candidate.clone()) {
            n += 1;
            candidate = format!("{slug}-{n}");
        }
    }
    out
}

fn broken_links(doc: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(doc).unwrap();
    let mut broken = Vec::new();
    for target in links(&text) {
        if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (path, fragment) = match target.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (target.as_str(), None),
        };
        let file = if path.is_empty() { doc.to_path_buf() } else { doc.parent().unwrap().join(path) };
        if !file.exists() {
            broken.push(format!("{target}: no such file"));
            continue;
        }
        if let Some(fragment) = fragment {
            let Ok(linked) = std::fs::read_to_string(&file) else {
                broken.push(format!("{target}: a fragment into something that is not a text file"));
                continue;
            };
            if !anchors(&linked).contains(fragment) {
                broken.push(format!("{target}: no heading with that anchor"));
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_in_the_docs_resolves() {
    let docs = documents();
    assert!(docs.iter().any(|d| d.ends_with("docs/configuration.md")), "{docs:?}");
    let mut checked = 0;
    let mut broken = Vec::new();
    for doc in &docs {
        checked += links(&std::fs::read_to_string(doc).unwrap()).len();
        let name = doc.strip_prefix(root()).unwrap().display().to_string();
        broken.extend(broken_links(doc).into_iter().map(|b| format!("{name}: {b}")));
    }
    assert!(checked > 100, "only {checked} links found: is the link parser still reading the docs?");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn anchors_follow_githubs_rule() {
    let text = "# Formats read\n## XFCC rules\n## Standalone variant for any wasi:http host\n\
                ```\n# not a heading\n```\n## `certificate_format` (v2)\n## XFCC rules\n#nospace\n";
    let got: Vec<String> = anchors(text).into_iter().collect();
    assert_eq!(
        got,
        [
            "certificate_format-v2",
            "formats-read",
            "standalone-variant-for-any-wasihttp-host",
            "xfcc-rules",
            "xfcc-rules-1"
        ]
    );
}

#[test]
fn links_in_code_are_not_links() {
    let text = "see [a](a.md) and `[b](b.md)`\n```\n[c](c.md)\n```\n![img](../x.svg \"title\")\n";
    assert_eq!(links(text), ["a.md", "../x.svg"]);
}
