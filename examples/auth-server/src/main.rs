//! `faceprint-auth`: serve, and the administrator and API-key tools.

use clap::{Parser, Subcommand};
use faceprint_auth_server::{config, repo, run};
use faceprint_server::auth::Role;
use faceprint_server::cli::{self, DataArgs, Tool};
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
        Command::Serve { data, listen } => {
            cli::serve(&data, listen, config::DEFAULTS, |c: config::Config| {
                run(c, faceprint_server::shutdown::signal())
            })
        }
        Command::Tool(tool) => tool
            .run::<config::AppConfig>(config::DEFAULTS, &[&repo::MIGRATIONS], &[Role::Admin])
            .map(Some),
    };
    cli::exit_with(result);
}
