//! How results and errors are printed.

use faceprint::{Error, Face};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

/// The JSON form of an error: stable code name and number, plus the message.
pub fn error_json(image: Option<&Path>, e: &Error) -> Value {
    let mut v = json!({
        "error": {
            "code": e.code().as_str(),
            "number": e.code().number(),
            "message": e.to_string(),
        }
    });
    if let Some(p) = image {
        v["image"] = json!(p.display().to_string());
    }
    v
}

static HUMAN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `-H`: errors as sentences too.
pub fn set_human(human: bool) {
    HUMAN.store(human, std::sync::atomic::Ordering::Relaxed);
}

/// Prints an error on stderr: one JSON line, or with `-H` a sentence naming the code.
pub fn error(image: Option<&Path>, e: &Error) {
    let mut err = std::io::stderr().lock();
    if HUMAN.load(std::sync::atomic::Ordering::Relaxed) {
        let place = image
            .map(|p| format!("{}: ", p.display()))
            .unwrap_or_default();
        let _ = writeln!(err, "{place}error: {e} ({})", e.code().as_str());
    } else {
        let _ = writeln!(err, "{}", error_json(image, e));
    }
}

/// Prints one JSON line (or the human text) on stdout.
pub fn line(human: bool, value: &Value, text: impl FnOnce() -> String) {
    let mut out = std::io::stdout().lock();
    if human {
        let _ = writeln!(out, "{}", text());
    } else {
        let _ = writeln!(out, "{value}");
    }
}

fn r2(v: f32) -> f64 {
    (v as f64 * 100.0).round() / 100.0
}

fn r4(v: f32) -> f64 {
    (v as f64 * 10_000.0).round() / 10_000.0
}

pub fn face_json(f: &Face) -> Value {
    json!({
        "box": [r2(f.bbox.x1), r2(f.bbox.y1), r2(f.bbox.x2), r2(f.bbox.y2)],
        "score": r4(f.score),
        "landmarks": f.landmarks.iter().map(|p| [r2(p[0]), r2(p[1])]).collect::<Vec<_>>(),
    })
}

pub fn face_text(f: &Face) -> String {
    format!(
        "box ({:.0}, {:.0})-({:.0}, {:.0})  score {:.3}  eyes ({:.0}, {:.0}) ({:.0}, {:.0})",
        f.bbox.x1,
        f.bbox.y1,
        f.bbox.x2,
        f.bbox.y2,
        f.score,
        f.landmarks[0][0],
        f.landmarks[0][1],
        f.landmarks[1][0],
        f.landmarks[1][1]
    )
}

/// The library's log lines (index rebuilt or restored, snapshot saved) on stderr: one JSON
/// object per line, or plain text with `-H`. `FACEPRINT_LOG` sets the level: off, error, warn,
/// info (default) or debug.
struct StderrLog {
    human: bool,
}

impl log::Log for StderrLog {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::max_level() && m.target().starts_with("faceprint")
    }

    fn log(&self, r: &log::Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let level = r.level().as_str().to_ascii_lowercase();
        let mut err = std::io::stderr().lock();
        let _ = if self.human {
            writeln!(err, "faceprint: {level}: {}", r.args())
        } else {
            writeln!(
                err,
                "{}",
                json!({"log": {"level": level, "message": r.args().to_string()}})
            )
        };
    }

    fn flush(&self) {}
}

pub fn init_log(human: bool) -> Result<(), Error> {
    let level = match std::env::var("FACEPRINT_LOG").as_deref() {
        Err(_) | Ok("") | Ok("info") => log::LevelFilter::Info,
        Ok("off") => log::LevelFilter::Off,
        Ok("error") => log::LevelFilter::Error,
        Ok("warn") => log::LevelFilter::Warn,
        Ok("debug") => log::LevelFilter::Debug,
        Ok(other) => {
            return Err(Error::InvalidArgument(format!(
                "FACEPRINT_LOG={other:?} is not off, error, warn, info or debug"
            )))
        }
    };
    // Only fails if a logger is already set, which nothing else in the command does.
    let _ = log::set_boxed_logger(Box::new(StderrLog { human }));
    log::set_max_level(level);
    Ok(())
}

/// A progress bar on stderr: indicatif draws only when stderr is a terminal, so nothing shows
/// when piped or in CI logs.
pub fn progress(len: usize, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len as u64);
    pb.set_style(
        ProgressStyle::with_template(
            "{msg} {bar:40} {pos}/{len} [{elapsed_precise} < {eta_precise}] {per_sec}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message(what.to_string());
    pb
}
