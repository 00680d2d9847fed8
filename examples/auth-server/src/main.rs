//! `faceprint-auth`: serve, and the administrator and API-key tools.

use clap::{Parser, Subcommand};
use faceprint_auth_server::{config, repo, run};
use faceprint_server::auth::api_key::NewApiKey;
use faceprint_server::cli;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "faceprint-auth",
    version,
    about = "Face login reference server"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Common {
    /// Configuration file (TOML); FACEPRINT_<SECTION>__<KEY> variables override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory (template store, server database, generated keys).
    #[arg(long)]
    data: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (127.0.0.1:8080 unless told otherwise).
    Serve {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// API keys of the recognition API (one collection each).
    #[command(name = "api-key")]
    ApiKey {
        #[command(subcommand)]
        command: KeyCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an administrator; the password is read from stdin.
    Create {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Create a key scoped to one collection; prints it once.
    Create {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        collection: String,
        /// Calls allowed: N/min (default from [rate_limit] api_key_default_per_minute), N/s, N/h.
        #[arg(long)]
        rate: Option<String>,
        /// Calls allowed per day (UTC).
        #[arg(long)]
        daily_quota: Option<u64>,
        #[arg(long)]
        label: Option<String>,
    },
    /// List keys (never their secrets).
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Revoke a key by id.
    Revoke {
        #[command(flatten)]
        common: Common,
        id: String,
    },
}

fn load(common: &Common) -> Result<config::Config, String> {
    let mut c = config::Config::load(config::DEFAULT_PORT, common.config.as_deref())?;
    if let Some(d) = &common.data {
        c.server.data_dir = d.clone();
    }
    Ok(c)
}

fn main() {
    let args = Args::parse();
    let migrations = [&repo::MIGRATIONS];
    let result = (|| -> Result<Option<String>, String> {
        match args.command {
            Command::Serve { common, listen } => {
                let mut c = load(&common)?;
                if let Some(l) = listen {
                    c.server.listen = l;
                }
                faceprint_server::logging::init(&c.log);
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .max_blocking_threads(64)
                    .build()
                    .map_err(|e| e.to_string())?;
                rt.block_on(run(c, faceprint_server::shutdown::signal()))?;
                Ok(None)
            }
            Command::Admin {
                command: AdminCommand::Create { common, username },
            } => {
                let c = load(&common)?;
                cli::create_admin(&c.server.data_dir, &migrations, &username, "admin").map(Some)
            }
            Command::ApiKey { command } => match command {
                KeyCommand::Create {
                    common,
                    collection,
                    rate,
                    daily_quota,
                    label,
                } => {
                    let c = load(&common)?;
                    let rate_per_minute = match rate {
                        Some(r) => cli::parse_rate(&r)?,
                        None => c.rate_limit.api_key_default_per_minute,
                    };
                    let new = NewApiKey {
                        collection,
                        label,
                        rate_per_minute,
                        daily_quota,
                    };
                    cli::create_api_key(&c.server.data_dir, &migrations, &new).map(Some)
                }
                KeyCommand::List { common } => {
                    cli::list_api_keys(&load(&common)?.server.data_dir, &migrations).map(Some)
                }
                KeyCommand::Revoke { common, id } => {
                    cli::revoke_api_key(&load(&common)?.server.data_dir, &migrations, &id).map(Some)
                }
            },
        }
    })();
    match result {
        Ok(Some(out)) => println!("{out}"),
        Ok(None) => {}
        Err(e) => {
            eprintln!("{}", serde_json::json!({ "error": e }));
            std::process::exit(1);
        }
    }
}
