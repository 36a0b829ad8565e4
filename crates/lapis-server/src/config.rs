//! Command line, shaped like Azurite's so that existing scripts and habits carry over.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Parser;

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
TableEndpoint=http://127.0.0.1:10002/devstoreaccount1; (or simply UseDevelopmentStorage=true)"
)]
pub struct Config {
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
    /// Serve Blob, Queue and Table over HTTPS with this certificate: a PEM file (with `--key`)
    /// or a PKCS#12/PFX file (with `--pwd`). The admin listener stays plain http.
    #[arg(long = "cert")]
    pub cert: Option<PathBuf>,
    /// PEM private key of the `--cert` PEM certificate.
    #[arg(long = "key")]
    pub key: Option<PathBuf>,
    /// Password of the `--cert` PKCS#12/PFX file (empty when it has none).
    #[arg(long = "pwd")]
    pub pwd: Option<String>,
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
