//! The `lapis` release binary under test: started on free loopback ports in a fresh data folder,
//! watched through `/proc`, stopped at the end.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT` of the Blob service.
    pub blob: String,
    /// `http://127.0.0.1:PORT` of the Table service.
    pub table: String,
    /// The data folder; removed when this is dropped.
    pub dir: TempDir,
}

/// `target/release/lapis` of this workspace, built first if it is missing.
pub fn release_binary() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("the benches crate has no parent folder")?;
    let binary = root.join("target/release/lapis");
    if !binary.exists() {
        eprintln!("scale: {} is missing, building it", binary.display());
        let status = Command::new("cargo")
            .args(["build", "--release", "-p", "lapis-server"])
            .current_dir(root)
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Err("cargo build --release -p lapis-server failed".into());
        }
    }
    Ok(binary)
}

impl Server {
    /// Starts `binary` with every port 0 and reads the bound URLs from its first stdout lines.
    pub fn start(binary: &Path) -> Result<Server, String> {
        let dir = tempfile::Builder::new()
            .prefix("lapis-scale-")
            .tempdir()
            .map_err(|e| format!("temp folder: {e}"))?;
        let mut child = Command::new(binary)
            .arg("--location")
            .arg(dir.path())
            .args(["--silent", "--blobPort", "0", "--tablePort", "0"])
            .args(["--adminPort", "0", "--queuePort", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut next_url = || {
            let mut line = String::new();
            match stdout.read_line(&mut line) {
                Ok(_) if line.starts_with("http://") => Ok(line.trim_end().to_owned()),
                other => Err(format!(
                    "expected a URL on lapis's stdout, got {other:?} {line:?}"
                )),
            }
        };
        let urls = (next_url(), next_url(), next_url());
        let (blob, table, _admin) = match urls {
            (Ok(b), Ok(t), Ok(a)) => (b, t, a),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        // Drain whatever else it prints so it never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Ok(Server {
            child,
            blob,
            table,
            dir,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM (a clean shutdown that closes the store), then SIGKILL after 30 s.
    pub fn stop(&mut self) -> Result<(), String> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => return Err(format!("lapis exited with {status}")),
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => return Err(format!("waiting for lapis: {e}")),
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Err("lapis did not stop within 30 s of SIGTERM; killed".into())
    }
}

/// A field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`), or `None` once the process is gone.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let mut text = String::new();
    std::fs::File::open(format!("/proc/{pid}/status"))
        .ok()?
        .read_to_string(&mut text)
        .ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The sum of the sizes of every file under `path`.
pub fn folder_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => folder_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
