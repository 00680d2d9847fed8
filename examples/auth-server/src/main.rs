//! `faceprint-auth`: serve, and the administrator and API-key tools.

use clap::{Parser, Subcommand};
use faceprint_auth_server::{config, repo, run};
use faceprint_server::auth::Role;
use faceprint_server::cli::{DataArgs, Tool};
use std::net::SocketAddr;

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

#[derive(Subcommand)]
enum Command {
    /// Run the server (127.0.0.1:8080 unless told otherwise).
    Serve {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    #[command(flatten)]
    Tool(Tool),
}

fn main() {
    let args = Args::parse();
    let result = match args.command {
        Command::Serve { data, listen } => (|| {
            let mut c: config::Config = data.load(config::DEFAULT_PORT)?;
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
        })(),
        Command::Tool(tool) => tool
            .run::<config::AppConfig>(config::DEFAULT_PORT, &[&repo::MIGRATIONS], &[Role::Admin])
            .map(Some),
    };
    match result {
        Ok(Some(out)) => println!("{out}"),
        Ok(None) => {}
        Err(e) => {
            eprintln!("{}", serde_json::json!({ "error": e }));
            std::process::exit(1);
        }
    }
}
