//! Structured logs: one JSON object per line (or a human format), filtered by `[log] level`
//! (`RUST_LOG` wins when set). The library's own `log` records go through the same output.

use crate::config::LogConfig;
use tracing_subscriber::EnvFilter;

pub fn init(c: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&c.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if c.format == "json" {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}
