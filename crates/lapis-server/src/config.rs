//! Command line, shaped like Azurite's so that existing scripts and habits carry over: every flag
//! of Azurite 3.37 (`azurite`, `azurite-blob`, `azurite-queue`, `azurite-table`) is accepted with
//! the same spelling and short form. A flag this build cannot honour is named once at start-up
//! with the reason ([`Config::no_effect_notices`]).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgAction, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::ServiceKind;

/// How long a connection may wait for its next request's headers, idle keep-alive time included,
/// unless `--blobKeepAliveTimeout` and its siblings say otherwise.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Parser)]
#[command(
    name = "lapis",
    version,
    disable_version_flag = true,
    disable_help_subcommand = true,
    about = "Lapis: a durable, fast Azure Storage emulator (Blob, Queue and Table services)",
    long_about = "Lapis serves the Azure Blob, Queue and Table services on path-style URLs \
(http://HOST:10000/ACCOUNT/container/blob, http://HOST:10001/ACCOUNT/queue, http://HOST:10002/ACCOUNT/table), with --webPort each account's static website \
(http://HOST:PORT/ACCOUNT/path), and keeps its data in a local folder (SQLite for metadata, append-only extent files for bytes).\n\n\
Standard output: the bound address of each listener, one per line, in this order: Blob, Table, \
admin (or `admin disabled`), Queue, then the static website endpoint (or `web disabled`; \
--webPort turns it on). Ports given as 0 are bound to free ports, so scripts read them there. \
Every listener is bound and the data folder checked before anything is written to it: a start that \
fails on a busy port or an unusable folder leaves no folder, database or reserve behind.\n\n\
Every flag of Azurite 3.37 is accepted with the same spelling, short forms included. Those that \
cannot apply here (--oauth; --extentMemoryLimit without --inMemoryPersistence; \
--location with --inMemoryPersistence) are named once on stderr at start, with the reason.\n\n\
Accounts: devstoreaccount1 with the well-known development key, unless the AZURITE_ACCOUNTS environment \
variable is set (\"name1:key1[:key2];name2:key1\", keys in base64), which then replaces it, as in Azurite.\n\n\
Connection string for the SDKs: \
DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;\
AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;\
BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;\
QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;\
TableEndpoint=http://127.0.0.1:10002/devstoreaccount1; (or simply UseDevelopmentStorage=true)\n\n\
Without a subcommand, `lapis` serves; `lapis import-azurite AZURITE_FOLDER` moves an Azurite data \
folder into the Lapis data folder instead."
)]
pub struct Config {
    /// What to do instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Address the Blob service listens on.
    #[arg(long = "blobHost", default_value = "127.0.0.1")]
    pub blob_host: IpAddr,
    /// Port of the Blob service; 0 binds a free port and prints `http://HOST:PORT` as the first line of stdout.
    #[arg(long = "blobPort", default_value_t = 10000)]
    pub blob_port: u16,
    /// Seconds an idle keep-alive connection to the Blob service stays open (the wait for the next
    /// request's headers); 30 unless given, 0 or less keeps that default, as in Azurite.
    #[arg(long = "blobKeepAliveTimeout", value_name = "SECONDS", value_parser = decimal, allow_negative_numbers = true)]
    pub blob_keep_alive_timeout: Option<f64>,
    /// Address the Queue service listens on.
    #[arg(long = "queueHost", default_value = "127.0.0.1")]
    pub queue_host: IpAddr,
    /// Port of the Queue service; 0 binds a free port, printed as the fourth line of stdout.
    #[arg(long = "queuePort", default_value_t = 10001)]
    pub queue_port: u16,
    /// Seconds an idle keep-alive connection to the Queue service stays open; as --blobKeepAliveTimeout.
    #[arg(long = "queueKeepAliveTimeout", value_name = "SECONDS", value_parser = decimal, allow_negative_numbers = true)]
    pub queue_keep_alive_timeout: Option<f64>,
    /// Address the Table service listens on.
    #[arg(long = "tableHost", default_value = "127.0.0.1")]
    pub table_host: IpAddr,
    /// Port of the Table service; 0 binds a free port, printed as the second line of stdout.
    #[arg(long = "tablePort", default_value_t = 10002)]
    pub table_port: u16,
    /// Seconds an idle keep-alive connection to the Table service stays open; as --blobKeepAliveTimeout.
    #[arg(long = "tableKeepAliveTimeout", value_name = "SECONDS", value_parser = decimal, allow_negative_numbers = true)]
    pub table_keep_alive_timeout: Option<f64>,
    /// Address of the admin listener: Prometheus `/metrics`, `/healthz`, `/readyz`. Given
    /// explicitly, it must be bound or Lapis does not start (see --adminPort).
    #[arg(long = "adminHost", default_value = "127.0.0.1")]
    pub admin_host: IpAddr,
    /// Port of the admin listener; 0 binds a free port, printed as the third line of stdout.
    /// Given explicitly (--adminPort or --adminHost), a port that cannot be bound stops the start
    /// (exit 1), like the service ports. Left at the default and busy (a second server beside a
    /// first), Lapis serves Blob, Queue and Table without /metrics, /healthz and /readyz: it warns
    /// on stderr and prints `admin disabled` as the third line of stdout.
    #[arg(long = "adminPort", default_value_t = 10010)]
    pub admin_port: u16,
    /// Address of the static website endpoint (see --webPort).
    #[arg(long = "webHost", default_value = "127.0.0.1")]
    pub web_host: IpAddr,
    /// Port of the static website endpoint: http://HOST:PORT/ACCOUNT/PATH serves the account's
    /// $web container anonymously, as Azure's ACCOUNT.z13.web.core.windows.net does, for an
    /// account whose Blob service properties enable StaticWebsite. Off unless given; 0 binds a
    /// free port. Printed as the fifth line of stdout (`web disabled` without it).
    #[arg(long = "webPort", value_name = "PORT")]
    pub web_port: Option<u16>,
    /// Data folder (created if missing; nothing is written to it when the start fails).
    #[arg(short = 'l', long = "location", default_value = "./.lapis")]
    pub location: PathBuf,
    /// Keep everything in memory (same engine, memory-backed); nothing is written to disk, and
    /// --location has no effect.
    #[arg(long = "inMemoryPersistence")]
    pub in_memory: bool,
    /// With --inMemoryPersistence: the most blob bytes kept in memory (the extents; blobs of up
    /// to 64 KiB live with the metadata and are not counted), in megabytes, decimals allowed.
    /// Past it, writes of blob bytes fail with 503 ServerBusy, as on a full disk. Unbounded
    /// unless given (Azurite: half the RAM); a negative value keeps that default.
    #[arg(long = "extentMemoryLimit", value_name = "MEGABYTES", value_parser = decimal, allow_negative_numbers = true)]
    pub extent_memory_limit: Option<f64>,
    /// Accepted for Azurite compatibility: Lapis ignores unknown headers and query parameters anyway.
    #[arg(short = 'L', long = "loose")]
    pub loose: bool,
    /// Accepted for Azurite compatibility: Lapis accepts every x-ms-version, known or newer, without it.
    #[arg(long = "skipApiVersionCheck")]
    pub skip_api_version_check: bool,
    /// Accepted for Azurite compatibility: Lapis always takes the account from the first path
    /// segment (path-style URLs), never from the host name.
    #[arg(long = "disableProductStyleUrl")]
    pub disable_product_style_url: bool,
    /// Accepted for Azurite compatibility: Lapis collects no telemetry and sends nothing anywhere.
    #[arg(long = "disableTelemetry")]
    pub disable_telemetry: bool,
    /// Azurite's OAuth level (`basic`). No effect yet: Lapis does not verify bearer tokens, so a
    /// request authorized with `Authorization: Bearer` is refused (403 AuthenticationFailed).
    #[arg(long = "oauth", value_name = "LEVEL")]
    pub oauth: Option<String>,
    /// Per-account switches Azure keeps in its management plane (blob versioning, container
    /// soft delete, the roles of token identities) and the keys bearer tokens are verified
    /// against: a JSON file, described in docs/operations.md ("Account configuration").
    #[arg(long = "accountConfig", value_name = "FILE")]
    pub account_config: Option<PathBuf>,
    /// Let copies (Copy Blob, the "From URL" operations) read a source on another host over
    /// http://. Off by default: Lapis then fetches nothing and refuses such a source with 401
    /// CannotVerifyCopySource.
    #[arg(long = "allowRemoteCopySources")]
    pub allow_remote_copy_sources: bool,
    /// Serve Blob, Queue and Table over HTTPS with this certificate: a PEM file (with `--key`)
    /// or a PKCS#12/PFX file (with `--pwd`). The admin listener stays plain http.
    #[arg(long = "cert", value_name = "PATH")]
    pub cert: Option<PathBuf>,
    /// PEM private key of the `--cert` PEM certificate.
    #[arg(long = "key", value_name = "PATH")]
    pub key: Option<PathBuf>,
    /// Password of the `--cert` PKCS#12/PFX file (empty when it has none).
    #[arg(long = "pwd", value_name = "PASSWORD")]
    pub pwd: Option<String>,
    /// No access log (warnings and errors still go to stderr).
    #[arg(short = 's', long = "silent")]
    pub silent: bool,
    /// Write a debug log to this file.
    #[arg(short = 'd', long = "debug", value_name = "FILE")]
    pub debug: Option<PathBuf>,
    /// Log format of the access log on stderr: `text` for people, `json` for Loki.
    #[arg(long = "logFormat", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// Print version (`-V` also works).
    #[arg(short = 'v', long = "version", short_alias = 'V', action = ArgAction::Version)]
    pub version: (),
    /// Whether --adminPort or --adminHost was given: then the admin listener is required.
    #[arg(skip)]
    pub admin_explicit: bool,
    /// Whether --location was given (rather than defaulted).
    #[arg(skip)]
    pub location_explicit: bool,
}

/// A decimal number, as Azurite reads its numeric flags (`parseFloat`): seconds for the
/// keep-alive timeouts, megabytes for `--extentMemoryLimit`.
fn decimal(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() < 1e12 => Ok(v),
        _ => Err(format!("`{s}` is not a decimal number")),
    }
}

impl Config {
    /// Parses the process's arguments; exits with clap's message and code on a bad command
    /// line, and after printing the help or the version when asked.
    pub fn from_command_line() -> Config {
        Self::try_from_args(std::env::args_os()).unwrap_or_else(|e| e.exit())
    }

    /// Parses `args` (the first is the program name), noting which flags were given explicitly.
    /// The `help` and `version` commands print and exit, as --help and --version do.
    pub fn try_from_args<I, T>(args: I) -> Result<Config, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let mut command = Self::command();
        let matches = command.try_get_matches_from_mut(args)?;
        match matches.subcommand_name() {
            Some("help") => {
                let _ = command.print_long_help();
                std::process::exit(0);
            }
            Some("version") => {
                print!("{}", command.render_version());
                std::process::exit(0);
            }
            _ => {}
        }
        let mut config = Self::from_arg_matches(&matches)?;
        let given = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
        config.admin_explicit = given("admin_port") || given("admin_host");
        config.location_explicit = given("location");
        Ok(config)
    }

    /// The idle keep-alive timeout of a service, from its `--*KeepAliveTimeout` flag.
    pub fn keep_alive(&self, kind: ServiceKind) -> Duration {
        let flag = match kind {
            // The web endpoint reads blobs: the Blob service's timeout applies.
            ServiceKind::Blob | ServiceKind::Web => self.blob_keep_alive_timeout,
            ServiceKind::Queue => self.queue_keep_alive_timeout,
            ServiceKind::Table => self.table_keep_alive_timeout,
        };
        match flag {
            Some(s) if s > 0.0 => Duration::from_secs_f64(s),
            _ => DEFAULT_KEEP_ALIVE,
        }
    }

    /// `--extentMemoryLimit` in bytes, when it bounds anything.
    pub fn memory_capacity(&self) -> Option<u64> {
        match self.extent_memory_limit {
            Some(mb) if mb >= 0.0 => Some((mb * 1024.0 * 1024.0) as u64),
            _ => None,
        }
    }

    /// One sentence per flag that was given but cannot take effect, with the reason: said once
    /// at start-up, so that nobody believes a flag is honoured when it is not.
    pub fn no_effect_notices(&self) -> Vec<String> {
        let mut notices = Vec::new();
        if let Some(level) = &self.oauth {
            notices.push(format!(
                "--oauth {level} has no effect: Lapis does not verify OAuth bearer tokens yet, and \
                 refuses a request authorized with one (403 AuthenticationFailed); use Shared Key or SAS"
            ));
        }
        if self.extent_memory_limit.is_some() && !self.in_memory {
            notices.push(
                "--extentMemoryLimit has no effect without --inMemoryPersistence: it bounds the \
                 in-memory store"
                    .to_string(),
            );
        }
        if self.location_explicit && self.in_memory {
            notices.push(format!(
                "--location {} has no effect with --inMemoryPersistence: nothing is written to disk",
                self.location.display()
            ));
        }
        notices
    }
}

/// The subcommands; none means serve.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Move an Azurite data folder (its --location) into a Lapis data folder
    ///
    /// Containers, blobs of every type with their snapshots, blocks, tags and leases, tables and
    /// entities, queues and messages, service properties, under every account found. Azurite's
    /// folder is only read. Running it again changes nothing that is already there. Stop Azurite
    /// first (it saves its databases on exit); a Lapis running on the target folder is refused.
    #[command(name = "import-azurite")]
    ImportAzurite(ImportAzurite),
    /// Print the version, as --version does (Azurite's `version` command)
    #[command(name = "version")]
    Version,
    /// Print this help, as --help does (Azurite's `help` command)
    #[command(name = "help")]
    Help,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ImportAzurite {
    /// Azurite's data folder: the one holding __azurite_db_blob__.json, __blobstorage__ ...
    #[arg(value_name = "AZURITE_FOLDER")]
    pub source: PathBuf,
    /// The Lapis data folder to import into (created if missing); default: the --location
    /// given before the subcommand, ./.lapis if none.
    #[arg(short = 'l', long = "location", value_name = "LAPIS_FOLDER")]
    pub location: Option<PathBuf>,
    /// When the Azurite folder is damaged (a database cut short, a missing extent file),
    /// import everything else and list what was left out, instead of importing nothing.
    #[arg(long = "best-effort")]
    pub best_effort: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        Config::try_from_args(std::iter::once("lapis").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Config::command().debug_assert();
    }

    #[test]
    fn defaults_are_not_explicit() {
        let c = parse(&[]);
        assert!(!c.admin_explicit && !c.location_explicit);
        assert_eq!(c.admin_port, 10010);
        assert!(c.no_effect_notices().is_empty());
        assert_eq!(c.keep_alive(ServiceKind::Blob), DEFAULT_KEEP_ALIVE);
        assert_eq!(c.memory_capacity(), None);
        assert_eq!(c.web_port, None);
    }

    #[test]
    fn the_web_endpoint_is_off_unless_asked() {
        let c = parse(&["--webPort", "0", "--webHost", "0.0.0.0"]);
        assert_eq!(c.web_port, Some(0));
        assert_eq!(c.web_host, "0.0.0.0".parse::<IpAddr>().unwrap());
        assert_eq!(c.keep_alive(ServiceKind::Web), DEFAULT_KEEP_ALIVE);
    }

    #[test]
    fn explicit_flags_are_noted() {
        assert!(parse(&["--adminPort", "10010"]).admin_explicit);
        assert!(parse(&["--adminHost", "127.0.0.1"]).admin_explicit);
        assert!(parse(&["-l", "x"]).location_explicit);
    }

    #[test]
    fn short_forms_are_azurites() {
        let c = parse(&["-s", "-L", "-d", "debug.log", "-l", "data"]);
        assert!(c.silent && c.loose);
        assert_eq!(c.debug, Some(PathBuf::from("debug.log")));
        assert_eq!(c.location, PathBuf::from("data"));
    }

    #[test]
    fn keep_alive_and_memory_limits() {
        let c = parse(&[
            "--blobKeepAliveTimeout",
            "1.5",
            "--queueKeepAliveTimeout",
            "0",
            "--tableKeepAliveTimeout",
            "-1",
            "--extentMemoryLimit",
            "0.5",
            "--inMemoryPersistence",
        ]);
        assert_eq!(c.keep_alive(ServiceKind::Blob), Duration::from_millis(1500));
        assert_eq!(c.keep_alive(ServiceKind::Queue), DEFAULT_KEEP_ALIVE);
        assert_eq!(c.keep_alive(ServiceKind::Table), DEFAULT_KEEP_ALIVE);
        assert_eq!(c.memory_capacity(), Some(512 * 1024));
        assert_eq!(
            parse(&["--extentMemoryLimit", "-1"]).memory_capacity(),
            None
        );
        assert!(Config::command()
            .try_get_matches_from(["lapis", "--blobKeepAliveTimeout", "soon"])
            .is_err());
    }

    #[test]
    fn https_flags_are_kept_and_oauth_is_named() {
        let c = parse(&[
            "--cert", "c.pem", "--key", "k.pem", "--pwd", "secret", "--oauth", "basic",
        ]);
        assert_eq!(c.cert, Some(PathBuf::from("c.pem")));
        assert_eq!(c.key, Some(PathBuf::from("k.pem")));
        assert_eq!(c.pwd.as_deref(), Some("secret"));
        assert_eq!(c.oauth.as_deref(), Some("basic"));
        let notices = c.no_effect_notices().join("\n");
        assert!(notices.contains("--oauth"), "{notices}");
        for flag in ["--cert", "--key", "--pwd"] {
            assert!(!notices.contains(flag), "{flag} takes effect: {notices}");
        }
        assert!(!notices.contains("secret"), "the password is never shown");
    }

    #[test]
    fn without_a_subcommand_the_flags_serve_as_before() {
        let c = Config::try_parse_from([
            "lapis",
            "--blobPort",
            "0",
            "--tablePort",
            "0",
            "--location",
            "/data",
            "--silent",
        ])
        .unwrap();
        assert!(c.command.is_none());
        assert_eq!((c.blob_port, c.table_port), (0, 0));
        assert_eq!(c.location, PathBuf::from("/data"));
        assert!(c.silent);
        let defaults = Config::try_parse_from(["lapis"]).unwrap();
        assert!(defaults.command.is_none());
        assert_eq!(defaults.location, PathBuf::from("./.lapis"));
        assert!(Config::try_parse_from(["lapis", "stray"]).is_err());
    }

    #[test]
    fn import_azurite_takes_its_folder_and_options() {
        let c = Config::try_parse_from([
            "lapis",
            "import-azurite",
            "/azurite",
            "--location",
            "/lapis",
            "--best-effort",
        ])
        .unwrap();
        let Some(Command::ImportAzurite(args)) = c.command else {
            panic!("no subcommand");
        };
        assert_eq!(args.source, PathBuf::from("/azurite"));
        assert_eq!(args.location, Some(PathBuf::from("/lapis")));
        assert!(args.best_effort);
        // The folder may also be given before the subcommand, as for serving.
        let c = Config::try_parse_from(["lapis", "-l", "/lapis", "import-azurite", "/azurite"])
            .unwrap();
        let Some(Command::ImportAzurite(args)) = c.command else {
            panic!("no subcommand");
        };
        assert_eq!((args.location, c.location), (None, PathBuf::from("/lapis")));
        assert!(!args.best_effort);
        assert!(Config::try_parse_from(["lapis", "import-azurite"]).is_err());
    }
}
