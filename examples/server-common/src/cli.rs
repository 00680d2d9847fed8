//! The command line every server has beside `serve`: `--config`/`--data` ([`DataArgs`]), and
//! [`Tool`]: create a staff account (password from stdin, never a default) and manage API keys
//! (the secret printed once). A server's `main` flattens `Tool` into its own commands.

use crate::auth::api_key::NewApiKey;
use crate::auth::{admins, api_key, password, Role};
use crate::config::{Config, Defaults, ServerConfig};
use crate::db::{open_server_db, Migrations};

use clap::Subcommand;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Reads one line from stdin (the password), without echoing it when stdin is a terminal is
/// not possible without a tty crate, so a terminal user is told to pipe it.
pub fn read_password() -> Result<zeroize::Zeroizing<String>, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password (visible; better: pipe it, e.g. `pass show admin | ...`): ");
        let _ = std::io::stderr().flush();
    }
    let mut line = zeroize::Zeroizing::new(String::new());
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("reading the password from stdin: {e}"))?;
    let pw = zeroize::Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string());
    if pw.is_empty() {
        return Err("no password on stdin".into());
    }
    Ok(pw)
}

/// `admin create`: prints the new administrator as JSON.
pub fn create_admin(
    name: &str,
    server: &ServerConfig,
    migrations: &[&Migrations],
    username: &str,
    role: &str,
) -> Result<String, String> {
    admins::check_username(username)?;
    let pw = read_password()?;
    let hash = password::hash(&pw)?;
    let db = open_server_db(name, server, migrations, 1)?;
    let info = db
        .with(|c| admins::create(c, username, &hash, role))
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("an administrator named {username:?} exists already"))?;
    serde_json::to_string(&info).map_err(|e| e.to_string())
}

/// `api-key create`: prints the key's record and, once, its secret.
pub fn create_api_key(
    name: &str,
    server: &ServerConfig,
    migrations: &[&Migrations],
    new: &api_key::NewApiKey,
    rule: &dyn api_key::KeyScope,
) -> Result<String, String> {
    let db = open_server_db(name, server, migrations, 1)?;
    db.with(|c| Ok(api_key::check_new(c, new, rule)))
        .map_err(|e| e.to_string())??;
    let (info, secret) = db
        .with(|c| api_key::create(c, new))
        .map_err(|e| e.to_string())?;
    let mut v = serde_json::to_value(&info).map_err(|e| e.to_string())?;
    v["key"] = serde_json::Value::String(secret);
    v["note"] = "store this key now: it is kept only as a hash and cannot be shown again".into();
    serde_json::to_string(&v).map_err(|e| e.to_string())
}

pub fn list_api_keys(
    name: &str,
    server: &ServerConfig,
    migrations: &[&Migrations],
) -> Result<String, String> {
    let db = open_server_db(name, server, migrations, 1)?;
    let keys = db.with(api_key::list).map_err(|e| e.to_string())?;
    serde_json::to_string(&keys).map_err(|e| e.to_string())
}

pub fn revoke_api_key(
    name: &str,
    server: &ServerConfig,
    migrations: &[&Migrations],
    id: &str,
) -> Result<String, String> {
    let db = open_server_db(name, server, migrations, 1)?;
    if !db
        .with(|c| api_key::revoke(c, id))
        .map_err(|e| e.to_string())?
    {
        return Err(format!("no open API key with id {id}"));
    }
    Ok(serde_json::json!({ "revoked": id }).to_string())
}

/// Parses `--rate` as `N`, `N/min`, `N/s` or `N/h` into calls per minute.
pub fn parse_rate(s: &str) -> Result<u32, String> {
    let (n, unit) = s.split_once('/').unwrap_or((s, "min"));
    let n: f64 = n
        .trim()
        .parse()
        .map_err(|_| format!("rate {s:?}: expected N/min, N/s or N/h"))?;
    let per_min = match unit.trim() {
        "min" | "m" | "minute" => n,
        "s" | "sec" | "second" => n * 60.0,
        "h" | "hour" => n / 60.0,
        other => return Err(format!("rate {s:?}: unknown unit {other:?} (min, s or h)")),
    };
    if !(1.0..=1e7).contains(&per_min) {
        return Err(format!(
            "rate {s:?}: must be between 1/min and 10,000,000/min"
        ));
    }
    Ok(per_min.round() as u32)
}

/// `--config FILE` and `--data DIR`, taken by every command of a server.
#[derive(clap::Args, Debug, Clone)]
pub struct DataArgs {
    /// Configuration file (TOML); FACEPRINT_<SECTION>__<KEY> variables override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data directory (template store, server database, generated keys).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// PostgreSQL (`postgres://…`) for the server's state and templates, shared by every
    /// server process given the same one (instead of files in the data dir).
    #[arg(long)]
    pub database: Option<String>,
}

impl DataArgs {
    /// The configuration: the server's defaults, the file, the environment, `--data`.
    pub fn load<A>(&self, defaults: Defaults) -> Result<Config<A>, String>
    where
        A: Serialize + for<'de> Deserialize<'de> + Default,
    {
        let mut c = Config::<A>::load(defaults, self.config.as_deref())?;
        if let Some(d) = &self.data {
            c.server.data_dir = d.clone();
        }
        if let Some(url) = &self.database {
            c.server.database = Some(url.clone());
        }
        Ok(c)
    }
}

/// The staff and API-key commands.
#[derive(Subcommand, Debug)]
pub enum Tool {
    /// Staff accounts (administrators, and the other roles the server has).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// API keys (one collection each).
    #[command(name = "api-key")]
    ApiKey {
        #[command(subcommand)]
        command: KeyCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create a staff account; the password is read from stdin.
    Create {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        username: String,
        /// The account's role (default admin).
        #[arg(long, default_value = "admin")]
        role: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Create a key scoped to one collection; prints it once.
    Create {
        #[command(flatten)]
        data: DataArgs,
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
        data: DataArgs,
    },
    /// Revoke a key by id.
    Revoke {
        #[command(flatten)]
        data: DataArgs,
        id: String,
    },
}

impl Tool {
    /// Runs the command for a server with these migrations and staff roles; answers the JSON
    /// to print.
    pub fn run<A>(
        self,
        name: &str,
        defaults: Defaults,
        migrations: &[&Migrations],
        staff_roles: &[Role],
    ) -> Result<String, String>
    where
        A: Serialize + for<'de> Deserialize<'de> + Default + api_key::KeyScope,
    {
        match self {
            Tool::Admin {
                command:
                    AdminCommand::Create {
                        data,
                        username,
                        role,
                    },
            } => {
                let role = Role::parse(&role)
                    .filter(|r| staff_roles.contains(r))
                    .ok_or_else(|| {
                        format!(
                            "--role {role:?}: this server's staff roles are {}",
                            staff_roles
                                .iter()
                                .map(|r| r.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })?;
                let c = data.load::<A>(defaults)?;
                create_admin(name, &c.server, migrations, &username, role.as_str())
            }
            Tool::ApiKey { command } => match command {
                KeyCommand::Create {
                    data,
                    collection,
                    rate,
                    daily_quota,
                    label,
                } => {
                    let c = data.load::<A>(defaults)?;
                    let rate_per_minute = match rate {
                        Some(r) => parse_rate(&r)?,
                        None => c.rate_limit.api_key_default_per_minute,
                    };
                    let new = NewApiKey {
                        collection,
                        label,
                        rate_per_minute,
                        daily_quota,
                    };
                    create_api_key(name, &c.server, migrations, &new, &c.app)
                }
                KeyCommand::List { data } => {
                    list_api_keys(name, &data.load::<A>(defaults)?.server, migrations)
                }
                KeyCommand::Revoke { data, id } => {
                    revoke_api_key(name, &data.load::<A>(defaults)?.server, migrations, &id)
                }
            },
        }
    }
}

/// What a server's binary is: its name and one line about it, its defaults, its tables and
/// staff roles, and how it serves.
pub struct Server {
    pub name: &'static str,
    pub about: &'static str,
    pub defaults: Defaults,
    pub migrations: &'static [&'static Migrations],
    pub staff_roles: &'static [Role],
}

/// The commands of every server binary: `serve` and the staff and API-key tools.
#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server (on 127.0.0.1 unless told otherwise).
    Serve {
        #[command(flatten)]
        data: DataArgs,
        /// Address to listen on (default: the server's port on 127.0.0.1).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    #[command(flatten)]
    Tool(Tool),
}

impl Server {
    /// A server binary's `main`: parses the command line; `serve` loads the configuration
    /// (`--listen` over it), starts logging and a runtime and runs `run` until it returns (each
    /// server's `run` serves until SIGTERM/SIGINT); a tool prints its JSON answer. Errors go
    /// to stderr as `{"error": …}` with exit status 1.
    pub fn main<A, F, Fut>(&self, run: F)
    where
        A: Serialize + for<'de> Deserialize<'de> + Default + api_key::KeyScope,
        F: FnOnce(Config<A>) -> Fut,
        Fut: Future<Output = Result<(), String>>,
    {
        use clap::{FromArgMatches, Subcommand as _};
        // The enum's doc comment would become the about text: the server's own goes on after.
        let cmd = Command::augment_subcommands(clap::Command::new(self.name))
            .about(self.about)
            .version(env!("CARGO_PKG_VERSION"))
            .subcommand_required(true)
            .arg_required_else_help(true);
        let command = match Command::from_arg_matches(&cmd.get_matches()) {
            Ok(c) => c,
            Err(e) => e.exit(),
        };
        let result = match command {
            Command::Serve { data, listen } => self.serve::<A, F, Fut>(&data, listen, run),
            Command::Tool(tool) => tool
                .run::<A>(self.name, self.defaults, self.migrations, self.staff_roles)
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

    fn serve<A, F, Fut>(
        &self,
        data: &DataArgs,
        listen: Option<SocketAddr>,
        run: F,
    ) -> Result<Option<String>, String>
    where
        A: Serialize + for<'de> Deserialize<'de> + Default,
        F: FnOnce(Config<A>) -> Fut,
        Fut: Future<Output = Result<(), String>>,
    {
        let mut c = data.load::<A>(self.defaults)?;
        if let Some(l) = listen {
            c.server.listen = l;
        }
        crate::logging::init(&c.log);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .max_blocking_threads(64)
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(run(c))?;
        Ok(None)
    }
}
