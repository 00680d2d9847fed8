//! Where frames come from: ffmpeg (Debian's, a supervised child process) decodes URLs and
//! video files and writes PPM frames to a pipe; a directory of images is read in name order.
//! Each frame goes into the camera's bounded queue; when the pipeline is behind, the frame is
//! dropped and counted (a camera does not wait).

use super::status::CameraStatus;
use crate::repo::cameras::{Camera, SourceKind};
use faceprint::Image;
use std::io::{BufRead, BufReader};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One decoded frame and when it arrived.
pub struct Frame {
    pub image: Image,
    pub at_ms: i64,
}

/// What became of a frame handed to a pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    Queued,
    /// The queue was full: dropped and counted.
    Dropped,
    /// The pipeline is gone (the camera stopped).
    Closed,
}

/// Hands a frame to the pipeline, or drops it (counted) when the queue is full.
pub fn offer(queue: &SyncSender<Frame>, status: &CameraStatus, frame: Frame) -> Offered {
    status.frame_in();
    match queue.try_send(frame) {
        Ok(()) => Offered::Queued,
        Err(TrySendError::Full(_)) => {
            status.dropped();
            Offered::Dropped
        }
        Err(TrySendError::Disconnected(_)) => Offered::Closed,
    }
}

/// How one run of a source ended.
pub enum Ended {
    /// The file or directory is over: nothing more will come.
    Finished,
    /// The stream broke (the URL went away, ffmpeg died): worth trying again.
    Broken(String),
    /// Asked to stop, or the pipeline is gone.
    Stopped,
}

/// Where `url`, `file` and `dir` sources may point. An admin's camera must not read the
/// services beside the server or its files: URLs to internal addresses are refused unless
/// `outbound.allow_private_networks`, and files and directories must resolve (links followed)
/// inside the media root. Checked when a camera is saved and each time its source starts.
#[derive(Debug, Clone)]
pub struct SourcePolicy {
    /// `app.media_root`, resolved (default: `media/` in the data directory).
    pub media_root: PathBuf,
    /// The same as configured (a path may name it through a link, as the data directory's).
    pub media_root_given: PathBuf,
    /// `outbound.allow_private_networks`.
    pub allow_private: bool,
}

impl SourcePolicy {
    /// Whether a camera of `kind` may read `source`. Resolves host names: call it off the async
    /// workers.
    pub fn check(&self, kind: SourceKind, source: &str) -> Result<(), String> {
        match kind {
            SourceKind::Push => Ok(()),
            SourceKind::Url => {
                if url_scheme(source).is_none() || source.len() > 2048 {
                    return Err("source must be an rtsp(s)://, http(s):// or rtmp(s):// URL".into());
                }
                faceprint_server::outbound::check_url(source, self.allow_private)
                    .map_err(|e| faceprint_server::outbound::redact_in(&e, source))
            }
            SourceKind::File | SourceKind::Dir => {
                let what = if kind == SourceKind::File {
                    "video file"
                } else {
                    "directory"
                };
                let outside = || {
                    format!(
                        "a {what} must be an absolute path inside the media root {} \
                         (app.media_root)",
                        self.media_root.display()
                    )
                };
                let path = Path::new(source);
                if !path.is_absolute() || path.components().any(|c| c == Component::ParentDir) {
                    return Err(outside());
                }
                // One answer for whatever is outside the root (missing, present, or reached
                // through a link), so none tells whether a path out there exists.
                match path.canonicalize() {
                    Ok(real) if real.starts_with(&self.media_root) => {
                        let right_kind = if kind == SourceKind::File {
                            real.is_file()
                        } else {
                            real.is_dir()
                        };
                        if right_kind {
                            Ok(())
                        } else {
                            Err(format!("no {what} at {source}"))
                        }
                    }
                    Err(_)
                        if path.starts_with(&self.media_root)
                            || path.starts_with(&self.media_root_given) =>
                    {
                        Err(format!("no {what} at {source}"))
                    }
                    _ => Err(outside()),
                }
            }
        }
    }
}

/// The URL schemes a `url` camera may use, and what ffmpeg may do for each: its protocols and
/// its demuxers. Nothing else: no `file`, `concat`, `subfile` or playlist (HLS would fetch any
/// URL its playlist names), and no text, ANSI-art (`tty`: `.asc`, `.nfo`…) or image-pattern
/// demuxer that would draw a fetched page as video.
fn url_scheme(url: &str) -> Option<(&'static str, &'static str)> {
    const STREAMS: &str = "mpjpeg,mjpeg,mov,mp4,matroska,webm,mpegts,flv,h264,hevc,avi";
    let scheme = url.split_once("://")?.0.to_ascii_lowercase();
    match scheme.as_str() {
        "rtsp" | "rtsps" => Some(("rtsp,rtsps,rtp,srtp,tcp,udp,tls", "rtsp,sdp")),
        "http" | "https" => Some(("http,https,tcp,tls", STREAMS)),
        "rtmp" | "rtmps" => Some(("rtmp,rtmps,tcp,tls", "flv,live_flv")),
        _ => None,
    }
}

/// The demuxers a `file` camera's video may use: video containers and raw streams.
const FILE_FORMATS: &str =
    "mov,mp4,matroska,webm,avi,mpegts,flv,mjpeg,h264,hevc,yuv4mpegpipe,mpeg,mpegvideo,asf";

/// Reads the camera's source until it ends; frames go to `queue`.
pub fn run(
    camera: &Camera,
    policy: &SourcePolicy,
    decode_limits: &faceprint::ImageLimits,
    queue: &SyncSender<Frame>,
    status: &CameraStatus,
    stop: &AtomicBool,
) -> Ended {
    // Again at every start: the settings, the files and the names may have changed since the
    // camera was saved.
    if let Err(e) = policy.check(camera.kind, camera.source.as_deref().unwrap_or_default()) {
        return Ended::Broken(format!("refused: {e}"));
    }
    match camera.kind {
        SourceKind::Url | SourceKind::File => run_ffmpeg(camera, queue, status, stop),
        SourceKind::Dir => run_dir(camera, policy, decode_limits, queue, status, stop),
        // Pushed frames arrive through the ingest route; nothing to read here.
        SourceKind::Push => Ended::Stopped,
    }
}

fn ffmpeg_command(camera: &Camera) -> Command {
    let s = &camera.settings;
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error"]);
    let source = camera.source.as_deref().unwrap_or_default();
    match camera.kind {
        // A file plays at its own speed, as a camera would deliver it.
        SourceKind::File => {
            cmd.arg("-re");
            cmd.args(["-protocol_whitelist", "file"]);
            cmd.args(["-format_whitelist", FILE_FORMATS]);
        }
        SourceKind::Url => {
            if let Some((protocols, formats)) = url_scheme(source) {
                cmd.args(["-protocol_whitelist", protocols]);
                cmd.args(["-format_whitelist", formats]);
            }
            if source.starts_with("rtsp") {
                // TCP: no smeared frames from lost UDP packets; a 10 s socket timeout.
                cmd.args(["-rtsp_transport", "tcp", "-timeout", "10000000"]);
            } else {
                cmd.args(["-rw_timeout", "10000000"]);
            }
            if source.starts_with("http") {
                // A redirect could lead anywhere, past the address check.
                cmd.args(["-max_redirects", "0"]);
            }
        }
        _ => {}
    }
    // A file by the `file:` protocol, so no name is read as another protocol.
    if camera.kind == SourceKind::File {
        cmd.arg("-i").arg(format!("file:{source}"));
    } else {
        cmd.arg("-i").arg(source);
    }
    let mut filter = format!("fps={}", s.fps);
    if s.width > 0 {
        filter.push_str(&format!(",scale={}:-2", s.width));
    }
    cmd.args([
        "-an",
        "-vf",
        &filter,
        "-f",
        "image2pipe",
        "-vcodec",
        "ppm",
        "pipe:1",
    ]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Kills the child when the reader is done with it, whatever way that was.
struct Supervised(Child);

impl Drop for Supervised {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run_ffmpeg(
    camera: &Camera,
    queue: &SyncSender<Frame>,
    status: &CameraStatus,
    stop: &AtomicBool,
) -> Ended {
    let mut child = match ffmpeg_command(camera).spawn() {
        Ok(c) => Supervised(c),
        Err(e) => return Ended::Broken(format!("cannot start ffmpeg: {e}")),
    };
    status.set_pid(Some(child.0.id()));
    let stderr = child.0.stderr.take();
    // ffmpeg's last complaints are the error a user needs ("Connection refused", "Format not
    // on whitelist" and the line naming the input after it): the last two, joined.
    let last_words = Arc::new(std::sync::Mutex::new(String::new()));
    let sink = last_words.clone();
    let err_reader = stderr.map(|e| {
        std::thread::spawn(move || {
            let mut previous = String::new();
            for line in BufReader::new(e).lines().map_while(Result::ok) {
                if let Ok(mut s) = sink.lock() {
                    *s = if previous.is_empty() {
                        line.clone()
                    } else {
                        format!("{previous}; {line}")
                    };
                }
                previous = line;
            }
        })
    });
    let mut out = BufReader::with_capacity(1 << 20, child.0.stdout.take().expect("piped"));
    let ended = loop {
        if stop.load(Ordering::Relaxed) {
            break Ended::Stopped;
        }
        match read_ppm(&mut out) {
            Ok(Some((w, h, rgb))) => {
                let image = match Image::from_rgb(w, h, rgb) {
                    Ok(i) => i,
                    Err(e) => break Ended::Broken(format!("bad frame from ffmpeg: {e}")),
                };
                status.running();
                let frame = Frame {
                    image,
                    at_ms: faceprint_server::db::now_ms(),
                };
                if offer(queue, status, frame) == Offered::Closed {
                    break Ended::Stopped;
                }
            }
            Ok(None) => {
                use std::os::unix::process::ExitStatusExt;
                let status = child.0.wait().ok();
                break match (camera.kind, status.and_then(|s| s.code())) {
                    (SourceKind::File, Some(0)) => Ended::Finished,
                    _ => match status.and_then(|s| s.signal()) {
                        Some(sig) => Ended::Broken(format!("ffmpeg was killed (signal {sig})")),
                        None => Ended::Broken(String::new()),
                    },
                };
            }
            Err(e) => break Ended::Broken(format!("reading ffmpeg's frames: {e}")),
        }
    };
    drop(child);
    status.set_pid(None);
    if let Some(t) = err_reader {
        let _ = t.join();
    }
    match ended {
        Ended::Broken(msg) => {
            let words = last_words.lock().map(|s| s.clone()).unwrap_or_default();
            Ended::Broken(match (msg.is_empty(), words.is_empty()) {
                (true, true) => "the stream ended".into(),
                (true, false) => format!("ffmpeg: {words}"),
                (false, _) => msg,
            })
        }
        other => other,
    }
}

/// One binary PPM (P6, maxval 255) from the pipe; None at a clean end of stream.
pub(crate) fn read_ppm(r: &mut impl BufRead) -> std::io::Result<Option<(u32, u32, Vec<u8>)>> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    // The header is four whitespace-separated tokens: P6, width, height, maxval.
    let mut tokens: Vec<String> = Vec::with_capacity(4);
    let mut token = String::new();
    while tokens.len() < 4 {
        let mut byte = [0u8];
        if r.read(&mut byte)? == 0 {
            return if tokens.is_empty() && token.is_empty() {
                Ok(None)
            } else {
                Err(bad("the stream ended inside a frame header"))
            };
        }
        let c = byte[0];
        if c.is_ascii_whitespace() {
            if !token.is_empty() {
                tokens.push(std::mem::take(&mut token));
            }
        } else if token.len() < 16 {
            token.push(c as char);
        } else {
            return Err(bad("not a PPM frame header"));
        }
    }
    if tokens[0] != "P6" || tokens[3] != "255" {
        return Err(bad("not an 8-bit PPM frame"));
    }
    let dim = |s: &str| s.parse::<u32>().ok().filter(|v| (1..=16384).contains(v));
    let (Some(w), Some(h)) = (dim(&tokens[1]), dim(&tokens[2])) else {
        return Err(bad("a PPM frame with impossible dimensions"));
    };
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    r.read_exact(&mut rgb)?;
    Ok(Some((w, h, rgb)))
}

fn run_dir(
    camera: &Camera,
    policy: &SourcePolicy,
    limits: &faceprint::ImageLimits,
    queue: &SyncSender<Frame>,
    status: &CameraStatus,
    stop: &AtomicBool,
) -> Ended {
    let dir = camera.source.as_deref().unwrap_or_default();
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            // A link out of the media root is not read.
            .filter(|p| {
                p.canonicalize()
                    .is_ok_and(|real| real.starts_with(&policy.media_root))
            })
            .filter(|p| {
                p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    [
                        "jpg", "jpeg", "png", "bmp", "webp", "ppm", "pgm", "tif", "tiff",
                    ]
                    .contains(&e.to_ascii_lowercase().as_str())
                })
            })
            .collect(),
        Err(e) => return Ended::Broken(format!("cannot read {dir}: {e}")),
    };
    files.sort();
    let period = Duration::from_secs_f32(1.0 / camera.settings.fps);
    let mut next = Instant::now();
    for path in files {
        if stop.load(Ordering::Relaxed) {
            return Ended::Stopped;
        }
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        next += period;
        let image = match std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| Image::decode(&b, limits).map_err(|e| e.to_string()))
        {
            Ok(i) => i,
            Err(e) => {
                // One bad file is reported and skipped, as a dropped frame.
                status.error(format!("{}: {e}", path.display()));
                status.dropped();
                continue;
            }
        };
        status.running();
        let frame = Frame {
            image,
            at_ms: faceprint_server::db::now_ms(),
        };
        if offer(queue, status, frame) == Offered::Closed {
            return Ended::Stopped;
        }
    }
    Ended::Finished
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ppm_frames_and_refuses_broken_ones() {
        let mut data = b"P6\n2 1\n255\n".to_vec();
        data.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
        data.extend_from_slice(b"P6 1 1 255\n");
        data.extend_from_slice(&[7, 8, 9]);
        let mut r = std::io::Cursor::new(data);
        assert_eq!(
            read_ppm(&mut r).unwrap(),
            Some((2, 1, vec![1, 2, 3, 4, 5, 6]))
        );
        assert_eq!(read_ppm(&mut r).unwrap(), Some((1, 1, vec![7, 8, 9])));
        assert_eq!(read_ppm(&mut r).unwrap(), None);
        for bad in [
            &b"P5\n1 1\n255\n\0"[..],
            b"P6\n0 1\n255\n",
            b"P6\n1 1\n65535\n",
            b"P6\n4 4\n255\n\0\0",
        ] {
            assert!(
                read_ppm(&mut std::io::Cursor::new(bad.to_vec())).is_err(),
                "{bad:?}"
            );
        }
    }
}
