//! `faceprint models list | verify | install`: which model pack is used, whether its files are
//! intact, and installing one (sha256 checked) where every Faceprint program finds it.

use crate::output;
use crate::Global;
use clap::Subcommand;
use faceprint::models::{self, FileCheck, ModelPack, PackSource};
use faceprint::Error;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Where the model pack is and what it holds (the search order, the pack found, its models)
    List,
    /// Check every model file of the pack: present, size and sha256 (exit 1 if any fails)
    Verify,
    /// Install the pack in DIR, after checking every file, into the user's model directory
    /// (~/.local/share/faceprint/models) or --to DIR
    Install {
        /// A model pack: a directory with manifest.toml and the model files
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// Where to install it (replaced if present)
        #[arg(long, value_name = "DIR")]
        to: Option<PathBuf>,
    },
}

pub fn run(g: &Global, cmd: &ModelsCommand) -> Result<bool, Error> {
    match cmd {
        ModelsCommand::List => list(g),
        ModelsCommand::Verify => verify(g),
        ModelsCommand::Install { from, to } => install(g, from, to.as_deref()),
    }
}

/// The pack `--models` names, else the one the search finds.
fn pack(g: &Global) -> Result<ModelPack, Error> {
    match &g.models {
        Some(d) => ModelPack::open(d),
        None => ModelPack::discover(),
    }
}

fn list(g: &Global) -> Result<bool, Error> {
    let searched: Vec<Value> = models::candidates()
        .iter()
        .map(|(source, dir)| {
            json!({
                "source": source.as_str(),
                "dir": dir.display().to_string(),
                "exists": dir.join(models::MANIFEST_FILE).is_file(),
            })
        })
        .collect();
    let pack = pack(g)?;
    let dir = pack.dir();
    let entries: Vec<Value> = pack
        .manifest()
        .models
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "task": m.task,
                "file": m.file,
                "bytes": m.bytes,
                "licence": m.licence,
                "present": dir.join(&m.file).is_file(),
            })
        })
        .collect();
    let value = json!({
        "dir": dir.display().to_string(),
        "source": pack.source().as_str(),
        "searched": searched,
        "models": entries,
    });
    output::line(g.human, &value, || {
        let mut t = format!(
            "model pack: {} (found by: {})\n",
            dir.display(),
            source_text(pack.source())
        );
        for m in &pack.manifest().models {
            let present = if dir.join(&m.file).is_file() {
                ""
            } else {
                "  MISSING"
            };
            t += &format!(
                "  {:<22} {:<10} {:>10} bytes  {}{present}\n",
                m.id, m.task, m.bytes, m.licence
            );
        }
        t.trim_end().to_string()
    });
    Ok(true)
}

fn source_text(s: PackSource) -> &'static str {
    match s {
        PackSource::Explicit => "--models",
        PackSource::Environment => "FACEPRINT_MODELS",
        PackSource::Package => "installed model package",
        PackSource::UserData => "user data directory",
        PackSource::Installed => "beside the installed program",
        _ => "other",
    }
}

fn verify(g: &Global) -> Result<bool, Error> {
    let pack = pack(g)?;
    let pb = output::progress(pack.manifest().models.len(), "checking");
    let checks = pack.verify(|done, _| pb.set_position(done as u64));
    pb.finish_and_clear();
    let ok = checks.iter().all(|c| c.result.is_ok());
    for c in &checks {
        output::line(g.human, &check_json(pack.dir(), c), || match &c.result {
            Ok(()) => format!("ok      {:<22} {}", c.id, c.file),
            Err(e) => format!("FAILED  {:<22} {}: {e}", c.id, c.file),
        });
    }
    Ok(ok)
}

fn check_json(dir: &Path, c: &FileCheck) -> Value {
    let mut v = json!({
        "id": c.id,
        "file": dir.join(&c.file).display().to_string(),
        "bytes": c.bytes,
        "ok": c.result.is_ok(),
    });
    if let Err(e) = &c.result {
        v["error"] = output::error_json(None, e)["error"].clone();
    }
    v
}

fn install(g: &Global, from: &Path, to: Option<&Path>) -> Result<bool, Error> {
    let to = match to {
        Some(t) => t.to_path_buf(),
        None => models::user_models_dir().ok_or_else(|| {
            Error::InvalidArgument(
                "neither XDG_DATA_HOME nor HOME is set: give the destination with --to DIR".into(),
            )
        })?,
    };
    let pb = output::progress(0, "installing");
    let installed = models::install_pack(from, &to, |done, total| {
        pb.set_length(total as u64);
        pb.set_position(done as u64);
    });
    pb.finish_and_clear();
    let pack = installed?;
    let bytes: u64 = pack.manifest().models.iter().map(|m| m.bytes).sum();
    let value = json!({
        "installed": pack.dir().display().to_string(),
        "models": pack.manifest().models.len(),
        "bytes": bytes,
    });
    output::line(g.human, &value, || {
        format!(
            "installed {} models ({:.1} MB, every sha256 checked) into {}",
            pack.manifest().models.len(),
            bytes as f64 / 1e6,
            pack.dir().display()
        )
    });
    Ok(true)
}
