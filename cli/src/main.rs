//! `faceprint`: thin commands over the core library. JSON on stdout (one object per line), errors
//! as JSON on stderr with a stable code, non-zero exit on any failure.

mod commands;
mod inputs;
mod output;

use clap::{Args, Parser, Subcommand};
use faceprint::{DetectionOptions, Engine, Error, Threshold};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "faceprint",
    version,
    about = "Face detection, embedding and comparison"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes.
#[derive(Args, Clone)]
pub struct Global {
    /// Model pack directory (default: $FACEPRINT_MODELS, the installed model package,
    /// ~/.local/share/faceprint/models, PREFIX/share/faceprint/models)
    #[arg(long, global = true, value_name = "DIR")]
    models: Option<PathBuf>,
    /// Path of libonnxruntime.so.1.31.1 (default: $FACEPRINT_ORT_LIB, else the installed one)
    #[arg(long, global = true, value_name = "FILE")]
    onnxruntime: Option<PathBuf>,
    /// Print human-readable text instead of JSON
    #[arg(long, short = 'H', global = true)]
    human: bool,
    /// Worker threads for multi-image commands, 1..=256 (default: number of cores)
    #[arg(long, global = true, value_parser = parse_threads)]
    threads: Option<usize>,
    /// Detector model id from the pack
    #[arg(long, global = true, default_value = faceprint::DEFAULT_DETECTOR)]
    detector: String,
    /// Embedder model id from the pack (default omz-reid-0095; dlib-resnet-v1 is the other).
    /// Store commands use the collection's own model when this is not given.
    #[arg(long, global = true)]
    embedder: Option<String>,
    /// Minimum detector score (0..1)
    #[arg(long, global = true)]
    min_score: Option<f32>,
    /// Smallest face width in pixels
    #[arg(long, global = true)]
    min_face: Option<f32>,
    /// Upscale smaller images to this long side before detection (0: never)
    #[arg(long, global = true)]
    min_input_side: Option<u32>,
    /// Downscale larger images to this long side before detection (default 640)
    #[arg(long, global = true)]
    max_input_side: Option<u32>,
    /// Search large images again at up to this long side when the first pass finds small or
    /// uncertain faces (default 1280; 0: one pass)
    #[arg(long, global = true)]
    max_detail_side: Option<u32>,
    /// Try 90/180/270-degree rotations when no upright face is found
    #[arg(long, global = true)]
    rotations: bool,
    /// Embed each face and its mirror image and average them
    #[arg(long, global = true)]
    flip: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Detect faces: one JSON object per image with boxes, scores and 5 landmarks
    Detect {
        #[arg(required = true)]
        images: Vec<PathBuf>,
    },
    /// Read identity documents: machine-readable zone (fields, every check digit, repairs),
    /// portrait (box, orientation, quality); JSON per image. `verified` is true when every
    /// check digit passes; otherwise `error` says why (no_mrz, mrz_unreadable,
    /// mrz_check_failed, no_document)
    Document {
        /// Also read the visual zone: every printed line, and the zone's names, number and
        /// dates looked for in it (`visual_zone.checks`)
        #[arg(long)]
        visual_zone: bool,
        #[arg(required = true)]
        images: Vec<PathBuf>,
    },
    /// Embed every face: one JSON object per image (models loaded once)
    Embed {
        #[arg(required = true)]
        images: Vec<PathBuf>,
    },
    /// Quality report of the largest face: score, reasons, pose, eyes, mask (JSON per image)
    Quality {
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// Limits preset: enrollment (strict) or authentication
        #[arg(long, default_value = "enrollment")]
        profile: String,
        /// Limits from a TOML file (fields of QualityProfile; unset ones keep the preset's)
        #[arg(long, value_name = "TOML")]
        profile_file: Option<PathBuf>,
        /// Skip the optional models (FaceMesh, Iris, mask): five-point pose, no eye/mask checks
        #[arg(long)]
        fast: bool,
    },
    /// Passive liveness (MiniFASNet ensemble) of the largest face (JSON per image)
    Liveness {
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// Score at or above which a face is live (default 0.64)
        #[arg(long)]
        threshold: Option<f32>,
    },
    /// Compare the largest face of two images
    Compare {
        image_a: PathBuf,
        image_b: PathBuf,
        #[command(flatten)]
        threshold: ThresholdArgs,
    },
    /// Evaluate accuracy and calibrate thresholds
    #[command(subcommand)]
    Eval(commands::eval::EvalCommand),
    /// Enroll a subject from photos, or a whole gallery with --from-dir
    Enroll(commands::gallery::EnrollArgs),
    /// 1:1 — is the face in IMAGE (or every face, or a stored embedding) this subject?
    Verify {
        #[command(flatten)]
        store: commands::gallery::StoreArgs,
        #[arg(long)]
        subject: String,
        #[command(flatten)]
        probe: commands::probe::ProbeArgs,
        #[command(flatten)]
        threshold: ThresholdArgs,
    },
    /// 1:N — who is the face in IMAGE (or every face, or a stored embedding)?
    Identify {
        #[command(flatten)]
        store: commands::gallery::StoreArgs,
        /// How many candidates
        #[arg(long, default_value_t = 5)]
        top: usize,
        #[command(flatten)]
        probe: commands::probe::ProbeArgs,
        #[command(flatten)]
        threshold: ThresholdArgs,
    },
    /// List, delete, export, disable or enable subjects
    #[command(subcommand)]
    Subjects(commands::gallery::SubjectsCommand),
    /// List a store's collections
    #[command(subcommand)]
    Collections(commands::gallery::CollectionsCommand),
    /// Generate master keys and rotate a store to a new one
    #[command(subcommand)]
    Keys(commands::gallery::KeysCommand),
    /// Show, check and install the model pack
    #[command(subcommand)]
    Models(commands::models::ModelsCommand),
}

/// A decision threshold: a false-match rate (default 1e-4) or a raw cosine score.
#[derive(Args, Clone, Copy)]
pub struct ThresholdArgs {
    /// Decide at this false-match rate (calibrated per model)
    #[arg(long, conflicts_with = "threshold")]
    fmr: Option<f64>,
    /// Decide at this cosine similarity
    #[arg(long)]
    threshold: Option<f32>,
}

impl ThresholdArgs {
    pub fn get(self) -> Option<Threshold> {
        match (self.fmr, self.threshold) {
            (Some(f), _) => Some(Threshold::Fmr(f)),
            (_, Some(t)) => Some(Threshold::Score(t)),
            _ => None,
        }
    }
}

fn parse_threads(s: &str) -> Result<usize, String> {
    let n: usize = s
        .parse()
        .map_err(|e| format!("{s:?} is not a count: {e}"))?;
    faceprint::runtime::check_thread_count(n, "--threads").map_err(|e| e.to_string())
}

impl Global {
    pub fn engine(&self) -> Result<Engine, Error> {
        self.engine_builder()?.build()
    }

    /// The engine builder with every global option applied.
    pub fn engine_builder(&self) -> Result<faceprint::EngineBuilder, Error> {
        let mut detection = DetectionOptions::default();
        if let Some(s) = self.min_score {
            detection.score_threshold = s;
        }
        if let Some(m) = self.min_face {
            detection.min_face_size = m;
        }
        detection.rotation_search = self.rotations;
        if let Some(m) = self.min_input_side {
            detection.min_input_side = m;
        }
        if let Some(m) = self.max_input_side {
            detection.max_input_side = m;
            // Raising the first pass above the default detail side means one pass at it.
            detection.max_detail_side = detection.max_detail_side.max(m);
        }
        if let Some(m) = self.max_detail_side {
            detection.max_detail_side = m;
        }
        let mut b = Engine::builder()
            .detector_model(&self.detector)
            .detection(detection)
            .flip_augmentation(self.flip);
        if let Some(e) = &self.embedder {
            b = b.embedder_model(e);
        }
        if let Some(d) = &self.models {
            b = b.models_dir(d);
        }
        if let Some(l) = &self.onnxruntime {
            b = b.onnxruntime_library(l);
        }
        if let Some(t) = self.threads {
            b = b.max_sessions(t)?;
        }
        Ok(b)
    }

    /// Runs `f` on a rayon pool of `--threads` workers.
    pub fn pool<R: Send>(&self, f: impl FnOnce() -> R + Send) -> Result<R, Error> {
        let mut b = rayon::ThreadPoolBuilder::new();
        if let Some(t) = self.threads {
            b = b.num_threads(t);
        }
        let pool = b
            .build()
            .map_err(|e| Error::InvalidArgument(format!("thread pool: {e}")))?;
        Ok(pool.install(f))
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // A usage error is for the person typing: clap's text with the usage line, exit 2.
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    let g = &cli.global;
    output::set_human(g.human);
    if let Err(e) = output::init_log(g.human) {
        output::error(None, &e);
        return ExitCode::from(2);
    }
    let result = match &cli.command {
        Command::Detect { images } => commands::images::detect(g, images),
        Command::Embed { images } => commands::images::embed(g, images),
        Command::Document {
            visual_zone,
            images,
        } => commands::images::document(g, *visual_zone, images),
        Command::Quality {
            images,
            profile,
            profile_file,
            fast,
        } => commands::images::quality(g, images, profile, profile_file.as_deref(), *fast),
        Command::Liveness { images, threshold } => {
            commands::images::liveness(g, images, *threshold)
        }
        Command::Compare {
            image_a,
            image_b,
            threshold,
        } => commands::compare::run(g, image_a, image_b, threshold.get()),
        Command::Eval(e) => commands::eval::run(g, e),
        Command::Enroll(a) => commands::gallery::enroll(g, a),
        Command::Verify {
            store,
            subject,
            probe,
            threshold,
        } => commands::gallery::verify(g, store, subject, probe, *threshold),
        Command::Identify {
            store,
            top,
            probe,
            threshold,
        } => commands::gallery::identify(g, store, probe, *top, *threshold),
        Command::Subjects(c) => commands::gallery::subjects(g, c),
        Command::Collections(c) => commands::gallery::collections(g, c),
        Command::Keys(c) => commands::gallery::keys(g, c),
        Command::Models(c) => commands::models::run(g, c),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            output::error(None, &e);
            ExitCode::FAILURE
        }
    }
}
