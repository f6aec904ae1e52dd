//! The `daicho` command line: one typed configuration struct per
//! subcommand, from flags with `DAICHO_*` environment fallbacks.
//!
//! Secrets never appear here: keys are named by file path and read with
//! their permissions checked ([`crate::keyfile`]); the one secret a flag
//! carries is `export --token`, which can come from `DAICHO_TOKEN` instead.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::auth::Role;

/// The daicho tamper-evident audit ledger.
#[derive(Debug, Parser)]
#[command(name = "daicho", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands, as README.md documents them.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a data directory: database, ledger and administrator keys, genesis entry.
    Init(InitConfig),
    /// Run the service (initialising the data directory on first start).
    Serve(Box<ServeConfig>),
    /// Write a new source-system key pair: FILE (0600) and FILE.pub.
    Keygen(KeygenConfig),
    /// Register or revoke a key (events signed with the administrator key).
    #[command(subcommand)]
    Key(KeyCommand),
    /// Sign an unsigned envelope read on stdin; write the signed one on stdout.
    Sign(SignConfig),
    /// Manage read tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Write the export bundle that daicho-verify checks.
    Export(ExportConfig),
    /// Write the committee's quarterly compliance report (PDF, HTML, XLSX,
    /// DOCX, CSV or the anchored JSON), optionally recording its issue.
    Report(ReportConfig),
    /// Create a data directory holding a generated, realistic quarter of a
    /// municipality's records, appended through the ledger's append path.
    Demo(DemoConfig),
    /// Print the OpenAPI document the service serves at /openapi.json.
    Openapi,
    /// Back up an SQLite ledger while it runs: the database as of one
    /// commit, the public keys and the last checkpoint, in a new directory.
    Backup(BackupConfig),
    /// Restore a backup into a data directory, after verifying it as an
    /// auditor would; a backup that does not verify is refused.
    Restore(RestoreConfig),
    /// Run or set up a witness that cosigns other ledgers' checkpoints.
    #[command(subcommand)]
    Witness(WitnessCommand),
}

/// `daicho init`.
#[derive(Debug, Clone, Args)]
pub struct InitConfig {
    /// The data directory to create.
    #[arg(long, env = "DAICHO_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Keep entries in this database instead of DIR/daicho.db
    /// (`postgres://…` or `sqlite://…`).
    #[arg(long, env = "DAICHO_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The ledger's origin (its checkpoint key name).
    #[arg(
        long,
        env = "DAICHO_ORIGIN",
        default_value = DEFAULT_ORIGIN
    )]
    pub origin: String,
}

/// The origin (checkpoint key name) of a ledger created without one.
pub const DEFAULT_ORIGIN: &str = "daicho.kameoka.local/ledger";

/// `daicho serve`: the service's whole configuration.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// The data directory (keys, last checkpoint, and the SQLite database).
    #[arg(long, env = "DAICHO_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "DAICHO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Keep entries in this database instead of DIR/daicho.db
    /// (`postgres://…`); keys stay in the data directory.
    #[arg(long, env = "DAICHO_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Load the regulation catalogue from this directory instead of the
    /// embedded one; the service refuses to start if it does not check.
    #[arg(long, env = "DAICHO_CATALOGUE")]
    pub catalogue: Option<PathBuf>,
    /// Start even if the database does not extend the last checkpoint this
    /// service signed (a deliberately restored backup). Entries after the
    /// backup are then lost for good: use only when that is intended.
    #[arg(long, env = "DAICHO_ACCEPT_ROLLBACK")]
    pub accept_rollback: bool,
    /// Serve GET /v1/checkpoint without a token.
    #[arg(long, env = "DAICHO_PUBLIC_CHECKPOINT")]
    pub public_checkpoint: bool,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "DAICHO_MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Most events in one POST /v1/events/batch.
    #[arg(long, env = "DAICHO_MAX_BATCH", default_value_t = 1000)]
    pub max_batch: usize,
    /// Most entries one page of GET /v1/events returns.
    #[arg(long, env = "DAICHO_MAX_PAGE", default_value_t = 1000)]
    pub max_page: u64,
    /// Seconds before a request is answered with 408.
    #[arg(long, env = "DAICHO_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Most connections served at once; a connection beyond them is
    /// answered with 503 and `Retry-After` and closed. Lowered at start if
    /// the open-file limit could not hold twice as many.
    #[arg(long, env = "DAICHO_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Seconds a client has to send a request's head once the service waits
    /// for it (on a new connection or between requests on a kept-alive
    /// one); then the connection is closed.
    #[arg(long, env = "DAICHO_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,
    /// Seconds a connection may stay open with no request in progress and
    /// no byte moving either way; then it is closed.
    #[arg(long, env = "DAICHO_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub idle_timeout_secs: u64,
    /// How far in the past `occurred_at` may lie, in seconds (default 400 days:
    /// a fiscal year's records may be entered late).
    #[arg(long, env = "DAICHO_MAX_PAST_SECS", default_value_t = 400 * 86_400)]
    pub max_past_secs: u64,
    /// How far in the future `occurred_at` may lie, in seconds (clock skew).
    #[arg(long, env = "DAICHO_MAX_FUTURE_SECS", default_value_t = 300)]
    pub max_future_secs: u64,
    /// Skip catalogue validation of payloads. For measuring its cost only;
    /// never in production.
    #[arg(long, env = "DAICHO_NO_PAYLOAD_VALIDATION", hide = true)]
    pub no_payload_validation: bool,
    /// Do not keep the projections current in the background: they catch
    /// up when a compliance request comes. For measuring what keeping
    /// them current costs only.
    #[arg(long, env = "DAICHO_NO_FOLLOW_PROJECTIONS", hide = true)]
    pub no_follow_projections: bool,
    /// Log format: `json` (one object per line) or `text`.
    #[arg(long, env = "DAICHO_LOG_FORMAT", default_value = "json")]
    pub log_format: LogFormat,
    /// A witness to ask for cosignatures of each checkpoint, as URL=KEY
    /// (KEY a cosignature/v1 verifier key or a file holding one). May be
    /// given several times; DAICHO_WITNESSES separates them with commas.
    #[arg(
        long = "witness",
        env = "DAICHO_WITNESSES",
        value_delimiter = ',',
        value_name = "URL=KEY"
    )]
    pub witnesses: Vec<String>,
    /// How often to look for a new checkpoint to have cosigned, in milliseconds.
    #[arg(long, env = "DAICHO_WITNESS_INTERVAL_MS", default_value_t = 1000)]
    pub witness_interval_ms: u64,
    /// Rate limits per bearer token and per signing source (off unless set).
    #[command(flatten)]
    pub rate_limits: RateLimitConfig,
}

/// The rate limits of `daicho serve` (docs/API.md, "Rate limits"). Both are
/// off unless set: a ledger that refuses a legitimate record by surprise
/// pushes it back onto a source system that may not retry, which is worse
/// than a slow answer; the connection cap and the single writer's group
/// commit already bound the load. Set them once the sources' and readers'
/// rates are known. Each instance counts on its own.
#[derive(Debug, Clone, Default, Args)]
pub struct RateLimitConfig {
    /// Requests per second each bearer token may make on this instance, on
    /// average (a decimal: 0.5 is one every two seconds). Every route that
    /// takes a token counts. Unset: no limit.
    #[arg(
        long = "rate-limit-token",
        env = "DAICHO_RATE_LIMIT_TOKEN",
        value_name = "PER_SECOND",
        value_parser = parse_rate
    )]
    pub token_per_second: Option<f64>,
    /// Requests a token may make at once before its rate applies (default:
    /// the rate rounded up).
    #[arg(
        long = "rate-limit-token-burst",
        env = "DAICHO_RATE_LIMIT_TOKEN_BURST",
        value_name = "N",
        requires = "token_per_second",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub token_burst: Option<u32>,
    /// Events per second each signing source (an event's `source`) may
    /// append on this instance, on average, whatever token or route brings
    /// them; a batch counts each event. Unset: no limit.
    #[arg(
        long = "rate-limit-source",
        env = "DAICHO_RATE_LIMIT_SOURCE",
        value_name = "PER_SECOND",
        value_parser = parse_rate
    )]
    pub source_per_second: Option<f64>,
    /// Events a source may append at once before its rate applies (at
    /// least --max-batch, so that a full batch can pass; default: that or
    /// the rate rounded up, whichever is larger).
    #[arg(
        long = "rate-limit-source-burst",
        env = "DAICHO_RATE_LIMIT_SOURCE_BURST",
        value_name = "N",
        requires = "source_per_second",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub source_burst: Option<u32>,
}

/// A rate per second: a positive decimal, at most a million.
fn parse_rate(s: &str) -> Result<f64, String> {
    let rate: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of requests per second"))?;
    if rate.is_finite() && rate > 0.0 && rate <= 1e6 {
        Ok(rate)
    } else {
        Err(format!(
            "{s:?}: the rate must be above 0 and at most 1000000 per second"
        ))
    }
}

/// `daicho witness …`: a witness for other ledgers (C2SP tlog-witness).
#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Create the witness's key in its data directory: witness.key (0600) and witness.vkey.
    Keygen(WitnessKeygenConfig),
    /// Run the witness.
    Serve(WitnessServeConfig),
}

/// `daicho witness keygen`.
#[derive(Debug, Clone, Args)]
pub struct WitnessKeygenConfig {
    /// The witness's data directory.
    #[arg(long, env = "DAICHO_WITNESS_DIR")]
    pub data_dir: PathBuf,
    /// The witness's name (its key name), e.g. `witness.pref.kyoto.example/w1`.
    #[arg(long)]
    pub name: String,
}

/// `daicho witness serve`.
#[derive(Debug, Clone, Args)]
pub struct WitnessServeConfig {
    /// The witness's data directory (its key and, per log, the last checkpoint it cosigned).
    #[arg(long, env = "DAICHO_WITNESS_DIR")]
    pub data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "DAICHO_WITNESS_LISTEN", default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
    /// The verifier key of a ledger to witness (its name is the ledger's
    /// origin), or a file holding one. May be given several times: for
    /// several ledgers, and for one ledger while it rotates its key (both
    /// keys, until the ledger's overlap ends).
    #[arg(long = "log-key", required = true, value_name = "VKEY")]
    pub log_keys: Vec<String>,
    /// Log format: `json` (one object per line) or `text`.
    #[arg(long, env = "DAICHO_LOG_FORMAT", default_value = "json")]
    pub log_format: LogFormat,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

/// `daicho keygen`.
#[derive(Debug, Clone, Args)]
pub struct KeygenConfig {
    /// The private key file to create (0600); the public key goes to FILE.pub.
    #[arg(long, env = "DAICHO_KEY_OUT")]
    pub out: PathBuf,
    /// The key's name in its C2SP encoding (default: the file name).
    #[arg(long)]
    pub name: Option<String>,
}

/// `daicho key …`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Register a source system's public key for some event types, or
    /// another administrator's key (--role admin).
    Register(KeyRegisterConfig),
    /// Revoke a key.
    Revoke(KeyRevokeConfig),
    /// Rotate the ledger key: a new key, named by the current one in the
    /// ledger, signs every checkpoint from now on; the current key cosigns
    /// them until its file is removed (the overlap). Run with the service
    /// stopped.
    RotateLedger(RotateLedgerConfig),
}

/// What a registered key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RegisterRole {
    /// A source system's key: signs events of the listed types.
    Source,
    /// An administrator's key: registers and revokes keys.
    Admin,
}

/// `daicho key rotate-ledger`.
#[derive(Debug, Clone, Args)]
pub struct RotateLedgerConfig {
    /// The data directory whose ledger key is rotated.
    #[arg(long, env = "DAICHO_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The ledger's database, if not DIR/daicho.db.
    #[arg(long, env = "DAICHO_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Why, in words (recorded in the ledger).
    #[arg(long, default_value = "scheduled rotation of the ledger key")]
    pub reason: String,
}

/// `daicho key register`.
#[derive(Debug, Clone, Args)]
pub struct KeyRegisterConfig {
    /// The service's base URL.
    #[arg(long, env = "DAICHO_URL")]
    pub url: String,
    /// The administrator's private key file.
    #[arg(long, env = "DAICHO_ADMIN_KEY")]
    pub admin_key: PathBuf,
    /// The public key file to register (FILE.pub from keygen).
    #[arg(long)]
    pub public_key: PathBuf,
    /// A source system's key, or an administrator's.
    #[arg(long, value_enum, default_value = "source")]
    pub role: RegisterRole,
    /// The source system the key belongs to (the `source` its events
    /// carry). An administrator key's holder is always `administrator`.
    #[arg(long, required_if_eq("role", "source"))]
    pub source: Option<String>,
    /// The event types a source key may sign, comma-separated (none for an
    /// administrator key).
    #[arg(long, value_delimiter = ',', required_if_eq("role", "source"))]
    pub types: Vec<String>,
    /// The administrator's actor id in the registry event.
    #[arg(long, env = "DAICHO_ADMIN_ACTOR", default_value = "admin")]
    pub actor: String,
}

/// `daicho key revoke`.
#[derive(Debug, Clone, Args)]
pub struct KeyRevokeConfig {
    /// The service's base URL.
    #[arg(long, env = "DAICHO_URL")]
    pub url: String,
    /// The administrator's private key file.
    #[arg(long, env = "DAICHO_ADMIN_KEY")]
    pub admin_key: PathBuf,
    /// The key to revoke.
    #[arg(long)]
    pub key_id: String,
    /// Why, in words (recorded in the ledger).
    #[arg(long, default_value = "revoked by the administrator")]
    pub reason: String,
    /// The administrator's actor id in the registry event.
    #[arg(long, env = "DAICHO_ADMIN_ACTOR", default_value = "admin")]
    pub actor: String,
}

/// `daicho sign`.
#[derive(Debug, Clone, Args)]
pub struct SignConfig {
    /// The source system's private key file.
    #[arg(long, env = "DAICHO_KEY")]
    pub key: PathBuf,
    /// The source system (written into `source`).
    #[arg(long, env = "DAICHO_SOURCE")]
    pub source: String,
}

/// `daicho token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a read token and print it (it is stored only hashed).
    Create(TokenCreateConfig),
    /// List the stored tokens: id, role, creation time, label.
    List(TokenListConfig),
    /// Revoke a token at once, on every instance sharing the database.
    Revoke(TokenRevokeConfig),
}

/// `daicho token list`.
#[derive(Debug, Clone, Args)]
pub struct TokenListConfig {
    /// The data directory.
    #[arg(long, env = "DAICHO_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The database, if not DIR/daicho.db.
    #[arg(long, env = "DAICHO_DATABASE_URL")]
    pub database_url: Option<String>,
}

/// `daicho token revoke`.
#[derive(Debug, Clone, Args)]
pub struct TokenRevokeConfig {
    /// The data directory.
    #[arg(long, env = "DAICHO_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The database, if not DIR/daicho.db.
    #[arg(long, env = "DAICHO_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The token's id as `token list` and `token create` show it (at least
    /// 8 of its hexadecimal digits, matching exactly one token).
    #[arg(long)]
    pub id: String,
}

/// `daicho token create`.
#[derive(Debug, Clone, Args)]
pub struct TokenCreateConfig {
    /// The data directory.
    #[arg(long, env = "DAICHO_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The database, if not DIR/daicho.db.
    #[arg(long, env = "DAICHO_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The token's role: reader, committee, auditor or admin.
    #[arg(long)]
    pub role: Role,
    /// A note saying whose token this is.
    #[arg(long, default_value = "")]
    pub label: String,
}

/// `daicho export`.
#[derive(Debug, Clone, Args)]
pub struct ExportConfig {
    /// Where the ledger is read (the token: an auditor's or admin's).
    #[command(flatten)]
    pub source: LedgerSource,
    /// The bundle file to write.
    #[arg(long)]
    pub out: PathBuf,
}

/// Where a command reads the ledger: a data directory, or a running
/// service.
#[derive(Debug, Clone, Args)]
pub struct LedgerSource {
    /// Read the ledger from this data directory…
    #[arg(long, env = "DAICHO_DATA_DIR", conflicts_with = "url")]
    pub data_dir: Option<PathBuf>,
    /// …with entries in this database, if not DIR/daicho.db.
    #[arg(long, env = "DAICHO_DATABASE_URL", requires = "data_dir")]
    pub database_url: Option<String>,
    /// …or from a running service.
    #[arg(long, env = "DAICHO_URL", requires = "token")]
    pub url: Option<String>,
    /// The bearer token for --url.
    #[arg(long, env = "DAICHO_TOKEN")]
    pub token: Option<String>,
}

/// `daicho report`.
#[derive(Debug, Clone, Args)]
pub struct ReportConfig {
    /// The fiscal year (April–March), named by the year it begins in: 2026 is 令和8年度.
    #[arg(long, value_parser = clap::value_parser!(i32).range(2000..=2200))]
    pub fy: i32,
    /// The quarter: 1 April–June … 4 January–March.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=4))]
    pub quarter: u8,
    /// The format to write.
    #[arg(long, value_enum, default_value_t = crate::reports::ReportFormat::Pdf)]
    pub format: crate::reports::ReportFormat,
    /// The file to write (default: daicho-R08-Q1.pdf and the like, in the
    /// current directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The language: ja (default) or en.
    #[arg(long, default_value = "ja")]
    pub lang: daicho_report::Lang,
    /// The tree size of a checkpoint the ledger kept (default: the newest).
    #[arg(long, value_name = "SEQ")]
    pub as_of: Option<u64>,
    /// Where the ledger is read (the token: a committee member's,
    /// auditor's or admin's).
    #[command(flatten)]
    pub source: LedgerSource,
    /// Record the report's issue: append a `report.issued` event, signed
    /// with this key (one the ledger registered for `report.issued`), to
    /// the service at --url.
    #[arg(long, value_name = "KEYFILE", requires = "url")]
    pub issue_with: Option<PathBuf>,
    /// Who issues it (the event's actor), with --issue-with.
    #[arg(long, default_value = "secretariat", requires = "issue_with")]
    pub issued_by: String,
}

/// `daicho backup`.
#[derive(Debug, Clone, Args)]
pub struct BackupConfig {
    /// The data directory of the ledger to back up (the service may be
    /// running on it).
    #[arg(long, env = "DAICHO_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The ledger's database, if not DIR/daicho.db: only `sqlite://…` is
    /// backed up here; a PostgreSQL ledger is backed up with `pg_dump`
    /// (docs/OPERATIONS.md).
    #[arg(long, env = "DAICHO_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The backup directory to create; it must not exist.
    #[arg(long)]
    pub out: PathBuf,
}

/// `daicho restore`.
#[derive(Debug, Clone, Args)]
pub struct RestoreConfig {
    /// The backup directory `daicho backup` wrote.
    #[arg(long)]
    pub from: PathBuf,
    /// The data directory to restore into: a new (or empty) one, or this
    /// ledger's own with --replace-database.
    #[arg(long, env = "DAICHO_DATA_DIR")]
    pub data_dir: PathBuf,
    /// A directory holding the ledger's private keys, `ledger.key` and
    /// `admin.key` (the copy of DIR/keys kept apart from the backups), to
    /// put into a new data directory; without it, copy them in by hand
    /// before starting the service.
    #[arg(long, value_name = "KEYS_DIR")]
    pub keys_from: Option<PathBuf>,
    /// Replace the database of an existing data directory of this ledger.
    /// The replaced files are kept beside it, renamed; the data directory's
    /// last-checkpoint files are kept, so that start-up refuses the restored
    /// database if the ledger had signed more than it holds.
    #[arg(long)]
    pub replace_database: bool,
}

/// `daicho demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoConfig {
    /// The data directory to create; it must not hold a ledger.
    #[arg(long, env = "DAICHO_DATA_DIR", default_value = "./demo")]
    pub data_dir: PathBuf,
    /// The seed everything generated derives from.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The fiscal year of the generated quarter.
    #[arg(long, default_value_t = 2026)]
    pub fy: i32,
    /// The quarter generated.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=4))]
    pub quarter: u8,
    /// Sections (課) of the generated organisation.
    #[arg(long, default_value_t = 12)]
    pub sections: usize,
}
