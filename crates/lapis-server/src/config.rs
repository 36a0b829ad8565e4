//! Command line, shaped like Azurite's so that existing scripts and habits carry over.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "lapis",
    version,
    about = "Lapis: a durable, fast Azure Storage emulator (Blob, Queue and Table services)",
    long_about = "Lapis serves the Azure Blob, Queue and Table services on path-style URLs \
(http://HOST:10000/ACCOUNT/container/blob, http://HOST:10001/ACCOUNT/queue, http://HOST:10002/ACCOUNT/table) and keeps its data in a \
local folder (SQLite for metadata, append-only extent files for bytes).\n\n\
Standard output: the bound address of each listener, one per line, in this order: Blob, Table, \
admin (or `admin disabled`), Queue. Ports given as 0 are bound to free ports, so scripts read them there.\n\n\
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
    /// Address the Queue service listens on.
    #[arg(long = "queueHost", default_value = "127.0.0.1")]
    pub queue_host: IpAddr,
    /// Port of the Queue service; 0 binds a free port, printed as the fourth line of stdout.
    #[arg(long = "queuePort", default_value_t = 10001)]
    pub queue_port: u16,
    /// Address the Table service listens on.
    #[arg(long = "tableHost", default_value = "127.0.0.1")]
    pub table_host: IpAddr,
    /// Port of the Table service; 0 binds a free port, printed as the second line of stdout.
    #[arg(long = "tablePort", default_value_t = 10002)]
    pub table_port: u16,
    /// Address of the admin listener: Prometheus `/metrics`, `/healthz`, `/readyz`.
    #[arg(long = "adminHost", default_value = "127.0.0.1")]
    pub admin_host: IpAddr,
    /// Port of the admin listener; 0 binds a free port, printed as the third line of stdout.
    #[arg(long = "adminPort", default_value_t = 10010)]
    pub admin_port: u16,
    /// Data folder (created if missing).
    #[arg(short = 'l', long = "location", default_value = "./.lapis")]
    pub location: PathBuf,
    /// Keep everything in memory (same engine, memory-backed); nothing is written to disk.
    #[arg(long = "inMemoryPersistence")]
    pub in_memory: bool,
    /// Accepted for Azurite compatibility: Lapis ignores unknown headers and query parameters anyway.
    #[arg(long = "loose")]
    pub loose: bool,
    /// Accepted for Azurite compatibility: Lapis accepts every x-ms-version, known or newer, without it.
    #[arg(long = "skipApiVersionCheck")]
    pub skip_api_version_check: bool,
    /// Let copies (Copy Blob, the "From URL" operations) read a source on another host over
    /// http://. Off by default: Lapis then fetches nothing and refuses such a source with 401
    /// CannotVerifyCopySource.
    #[arg(long = "allowRemoteCopySources")]
    pub allow_remote_copy_sources: bool,
    /// No access log.
    #[arg(long = "silent")]
    pub silent: bool,
    /// Write a debug log to this file.
    #[arg(long = "debug")]
    pub debug: Option<PathBuf>,
    /// Log format of the access log on stderr: `text` for people, `json` for Loki.
    #[arg(long = "logFormat", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
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
