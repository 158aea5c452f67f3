//! Builds the program's Anchor IDL natively.
//!
//! `anchor-lang`'s `idl-build` feature makes the program's test binary print the IDL in sections;
//! `anchor_lang_idl::build` runs that binary and assembles them, but it also forces
//! `RUSTFLAGS=-A warnings`, which invalidates the whole dependency cache of the workspace (a full
//! rebuild, twice, on every run). This assembler reads the same sections from the same binary built
//! with the workspace's own flags.

use anchor_lang_idl_spec::{Idl, IdlEvent, IdlTypeDef};
use anyhow::{Context, bail};
use std::{collections::BTreeMap, path::Path, process::Command};

/// Where the committed IDL lives, relative to the workspace root.
pub const IDL_PATH: &str = "idl/gpu_market.json";

pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
}

/// Compiles the program with `idl-build` and returns its IDL.
pub fn build_idl() -> anyhow::Result<Idl> {
    let root = workspace_root();
    let output = Command::new(env!("CARGO"))
        .current_dir(root)
        .args([
            "test",
            "--package",
            "gpu-market",
            "--lib",
            "--features",
            "idl-build",
            "__anchor_private_print_idl",
            "--",
            "--show-output",
            "--quiet",
            "--test-threads=1",
        ])
        .env(
            "ANCHOR_IDL_BUILD_PROGRAM_PATH",
            root.join("programs/gpu-market"),
        )
        .env("ANCHOR_IDL_BUILD_RESOLUTION", "TRUE")
        .env("ANCHOR_IDL_BUILD_NO_DOCS", "FALSE")
        .env("ANCHOR_IDL_BUILD_SKIP_LINT", "FALSE")
        .output()
        .context("running cargo test for the IDL")?;
    if !output.status.success() {
        bail!(
            "building the IDL failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assemble(&String::from_utf8_lossy(&output.stdout))
}

/// Reassembles the `--- IDL begin <kind> ---` sections the program's IDL tests print.
fn assemble(stdout: &str) -> anyhow::Result<Idl> {
    #[derive(serde::Deserialize)]
    struct EventSection {
        event: IdlEvent,
        types: Vec<IdlTypeDef>,
    }

    let mut sections: Vec<(&str, String)> = vec![];
    let mut current: Option<(&str, Vec<&str>)> = None;
    for line in stdout.lines() {
        if let Some(kind) = line
            .strip_prefix("--- IDL begin ")
            .and_then(|l| l.strip_suffix(" ---"))
        {
            current = Some((kind, vec![]));
        } else if line.starts_with("--- IDL end ") {
            let (kind, lines) = current.take().context("IDL end without begin")?;
            sections.push((kind, lines.join("\n")));
        } else if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
        }
    }

    let mut idl: Option<Idl> = None;
    let mut address = String::new();
    let mut constants = vec![];
    let mut events = vec![];
    let mut errors = vec![];
    let mut types = BTreeMap::new();
    for (kind, body) in sections {
        match kind {
            "address" => address = body.trim().trim_matches('"').to_string(),
            "const" => constants.push(serde_json::from_str(&body)?),
            "event" => {
                let section: EventSection = serde_json::from_str(&body)?;
                events.push(section.event);
                types.extend(section.types.into_iter().map(|ty| (ty.name.clone(), ty)));
            }
            "errors" => errors = serde_json::from_str(&body)?,
            "program" => idl = Some(serde_json::from_str(&body)?),
            other => bail!("unknown IDL section {other}"),
        }
    }
    let mut idl = idl.context("the program printed no IDL")?;
    types.extend(
        std::mem::take(&mut idl.types)
            .into_iter()
            .map(|ty| (ty.name.clone(), ty)),
    );
    idl.address = address;
    idl.constants = constants;
    idl.events = events;
    idl.errors = errors;
    idl.types = types.into_values().collect();

    let mut idl = shorten_module_paths(idl)?;
    // Print order follows the test harness; sort so the committed file is stable (as Anchor does).
    idl.accounts.sort_by(|a, b| a.name.cmp(&b.name));
    idl.constants.sort_by(|a, b| a.name.cmp(&b.name));
    idl.events.sort_by(|a, b| a.name.cmp(&b.name));
    idl.instructions.sort_by(|a, b| a.name.cmp(&b.name));
    idl.types.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(idl)
}

/// Replaces each Rust path (`gpu_market::events::Staked`) by its last segment wherever that name is
/// unambiguous, as `anchor idl build` does.
fn shorten_module_paths(idl: Idl) -> anyhow::Result<Idl> {
    fn is_path(s: &str) -> bool {
        s.contains("::")
            && s.split("::")
                .all(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_alphanumeric() || c == '_'))
    }
    fn collect(value: &serde_json::Value, paths: &mut BTreeMap<String, Vec<String>>) {
        match value {
            serde_json::Value::String(s) if is_path(s) => {
                let name = s.rsplit("::").next().unwrap_or(s).to_string();
                let entry = paths.entry(name).or_default();
                if !entry.contains(s) {
                    entry.push(s.clone());
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, paths)),
            serde_json::Value::Object(map) => map.values().for_each(|v| collect(v, paths)),
            _ => {}
        }
    }
    fn rewrite(value: &mut serde_json::Value, paths: &BTreeMap<String, Vec<String>>) {
        match value {
            serde_json::Value::String(s) if is_path(s) => {
                let name = s.rsplit("::").next().unwrap_or(s).to_string();
                if paths.get(&name).is_some_and(|full| full.len() == 1) {
                    *s = name;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, paths)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| rewrite(v, paths)),
            _ => {}
        }
    }

    let mut value = serde_json::to_value(&idl)?;
    let mut paths = BTreeMap::new();
    collect(&value, &mut paths);
    rewrite(&mut value, &paths);
    Ok(serde_json::from_value(value)?)
}

/// The IDL as committed: pretty JSON with a trailing newline.
pub fn to_committed_json(idl: &Idl) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(idl)? + "\n")
}
