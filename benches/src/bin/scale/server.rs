//! The `lapis` release binary under test (and Azurite, for the queue figures it is compared on):
//! started on free loopback ports in a fresh data folder, watched through `/proc`, stopped at the
//! end.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The account of the lapis under test whose blobs are versioned (the dev key's too).
pub const VERSIONED_ACCOUNT: &str = "lapisversions";

pub struct Server {
    /// "lapis" or "azurite", as the figures name it.
    pub name: &'static str,
    child: Child,
    /// `http://127.0.0.1:PORT` of the Blob service.
    pub blob: String,
    /// `http://127.0.0.1:PORT` of the Table service.
    pub table: String,
    /// `http://127.0.0.1:PORT` of the Queue service.
    pub queue: String,
    /// The data folder; removed when this is dropped.
    pub dir: TempDir,
}

/// `release/lapis` in the target folder this program was built in (`target/` or wherever
/// `CARGO_TARGET_DIR` or cargo's configuration put it), built there first if it is missing.
pub fn release_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let (target_dir, binary) = lapis_in_target_dir_of(&exe).ok_or_else(|| {
        format!(
            "{} is not in a target folder (<target>/<profile>/scale)",
            exe.display()
        )
    })?;
    if !binary.exists() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .ok_or("the benches crate has no parent folder")?;
        eprintln!("scale: {} is missing, building it", binary.display());
        let status = Command::new("cargo")
            .args(["build", "--release", "-p", "lapis-server", "--target-dir"])
            .arg(&target_dir)
            .current_dir(root)
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Err("cargo build --release -p lapis-server failed".into());
        }
    }
    Ok(binary)
}

/// For `<target dir>/<profile>/scale`: the target folder and its `release/lapis`.
fn lapis_in_target_dir_of(exe: &Path) -> Option<(PathBuf, PathBuf)> {
    let target_dir = exe.parent()?.parent()?;
    let binary = target_dir
        .join("release")
        .join(format!("lapis{}", std::env::consts::EXE_SUFFIX));
    Some((target_dir.to_path_buf(), binary))
}

impl Server {
    /// Starts `binary` with every port 0 and reads the bound URLs from its first stdout lines.
    pub fn start(binary: &Path) -> Result<Server, String> {
        let dir = tempfile::Builder::new()
            .prefix("lapis-scale-")
            .tempdir()
            .map_err(|e| format!("temp folder: {e}"))?;
        // A second account, with blob versioning on, for the listing of many versions.
        let config = dir.path().join("accounts.json");
        std::fs::write(
            &config,
            format!(r#"{{"accounts": {{"{VERSIONED_ACCOUNT}": {{"blobVersioning": true}}}}}}"#),
        )
        .map_err(|e| format!("account config: {e}"))?;
        let key = lapis_auth::DEV_KEY;
        let mut child = Command::new(binary)
            .env(
                "AZURITE_ACCOUNTS",
                format!(
                    "{}:{key};{VERSIONED_ACCOUNT}:{key}",
                    lapis_auth::DEV_ACCOUNT
                ),
            )
            .arg("--accountConfig")
            .arg(&config)
            .arg("--location")
            .arg(dir.path().join("data"))
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
        // Blob, Table, admin, Queue.
        let urls: Result<Vec<String>, String> = (0..4).map(|_| next_url()).collect();
        let urls = match urls {
            Ok(urls) => urls,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        // Drain whatever else it prints so it never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let [blob, table, _admin, queue] = <[String; 4]>::try_from(urls).expect("four URLs");
        Ok(Server {
            name: "lapis",
            child,
            blob,
            table,
            queue,
            dir,
        })
    }

    /// Starts Azurite (`node_modules/.bin/azurite`) on disk with every port 0, and reads the bound
    /// URLs from its "... service is successfully listening at URL" lines.
    pub fn start_azurite(binary: &Path) -> Result<Server, String> {
        let dir = tempfile::Builder::new()
            .prefix("azurite-scale-")
            .tempdir()
            .map_err(|e| format!("temp folder: {e}"))?;
        let mut child = Command::new(binary)
            .arg("--location")
            .arg(dir.path())
            .args(["--blobPort", "0", "--queuePort", "0", "--tablePort", "0"])
            .args([
                "--silent",
                "--skipApiVersionCheck",
                "--loose",
                "--disableTelemetry",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let (mut blob, mut table, mut queue) = (None, None, None);
        while blob.is_none() || table.is_none() || queue.is_none() {
            let mut line = String::new();
            if stdout.read_line(&mut line).map_or(true, |n| n == 0) {
                let _ = child.kill();
                let _ = child.wait();
                return Err("Azurite stopped before it listened on every port".into());
            }
            let Some((head, url)) = line
                .trim_end()
                .split_once(" service is successfully listening at ")
            else {
                continue;
            };
            let slot = match head {
                "Azurite Blob" => &mut blob,
                "Azurite Table" => &mut table,
                "Azurite Queue" => &mut queue,
                _ => continue,
            };
            *slot = Some(url.to_owned());
        }
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Ok(Server {
            name: "azurite",
            child,
            blob: blob.unwrap_or_default(),
            table: table.unwrap_or_default(),
            queue: queue.unwrap_or_default(),
            dir,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM (a clean shutdown that closes the store), then SIGKILL after 30 s. Azurite dies of
    /// the signal (exit 143); only lapis must exit with 0.
    pub fn stop(&mut self) -> Result<(), String> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() || self.name == "azurite" => return Ok(()),
                Ok(Some(status)) => return Err(format!("{} exited with {status}", self.name)),
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => return Err(format!("waiting for {}: {e}", self.name)),
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Err(format!(
            "{} did not stop within 30 s of SIGTERM; killed",
            self.name
        ))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lapis_binary_is_looked_for_in_this_programs_target_folder() {
        let lapis = format!("lapis{}", std::env::consts::EXE_SUFFIX);
        for exe in [
            "/w/custom-target/release/scale",
            "/w/custom-target/debug/scale",
        ] {
            let (dir, binary) = lapis_in_target_dir_of(Path::new(exe)).unwrap();
            assert_eq!(dir, Path::new("/w/custom-target"));
            assert_eq!(binary, Path::new("/w/custom-target/release").join(&lapis));
        }
        assert_eq!(lapis_in_target_dir_of(Path::new("scale")), None);
    }
}
