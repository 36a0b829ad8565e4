//! Checks of a Functions app's files that need no Docker and no Functions host: the Dockerfile
//! copies what exists (and what .dockerignore lets through) and installs the binary under the
//! name host.json runs. Included with `#[path]` by each app's `tests/layout.rs`.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The repository root, from the including crate's manifest directory (`crates/<app>`).
pub fn repo_root(manifest_dir: &str) -> PathBuf {
    Path::new(manifest_dir)
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The instructions of a Dockerfile: keyword (upper case) and its words, continuation lines
/// joined and comments dropped.
pub fn instructions(dockerfile: &Path) -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(dockerfile)
        .unwrap_or_else(|e| panic!("{}: {e}", dockerfile.display()));
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(line);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    joined
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut words = l.split_whitespace().map(str::to_owned);
            let keyword = words.next().unwrap().to_uppercase();
            (keyword, words.collect())
        })
        .collect()
}

/// What .dockerignore leaves out, as plain patterns (this repository's file uses no negation).
fn ignored(root: &Path) -> Vec<String> {
    std::fs::read_to_string(root.join(".dockerignore"))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_start_matches("**/").trim_end_matches('/').to_owned())
        .collect()
}

/// Checks `crates/<app>/Dockerfile` against the repository and the app's host.json; answers
/// the executable name it installs.
pub fn check_dockerfile(root: &Path, app_dir: &str, package: &str) -> String {
    let dockerfile = root.join(app_dir).join("Dockerfile");
    let steps = instructions(&dockerfile);
    let ignored = ignored(root);
    let host = read_json(&root.join(app_dir).join("app/host.json"));
    let executable = host["customHandler"]["description"]["defaultExecutablePath"]
        .as_str()
        .expect("host.json names customHandler.description.defaultExecutablePath")
        .to_owned();

    let froms: Vec<&Vec<String>> = steps
        .iter()
        .filter(|(k, _)| k == "FROM")
        .map(|(_, w)| w)
        .collect();
    assert_eq!(froms.len(), 2, "a build stage and the Functions stage");
    assert!(
        froms[1][0].starts_with("mcr.microsoft.com/azure-functions/"),
        "{:?}",
        froms[1]
    );
    assert!(
        froms.iter().all(|w| w[0].contains(':')),
        "every base image has a tag: {froms:?}"
    );

    let build = steps
        .iter()
        .find(|(k, w)| k == "RUN" && w.join(" ").contains("cargo build"))
        .map(|(_, w)| w.join(" "))
        .expect("a RUN cargo build");
    assert!(
        build.contains("--release") && build.contains("--locked"),
        "{build}"
    );
    assert!(build.contains(&format!("-p {package}")), "{build}");
    assert!(
        build.contains(&format!("--bin {executable}")),
        "builds the binary host.json runs: {build}"
    );
    let manifest = std::fs::read_to_string(root.join(app_dir).join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!("name = \"{executable}\"")),
        "{package} declares bin {executable}"
    );

    let mut installs_binary = false;
    let mut installs_app = false;
    for (keyword, words) in &steps {
        if keyword != "COPY" {
            continue;
        }
        let (flags, paths): (Vec<&String>, Vec<&String>) =
            words.iter().partition(|w| w.starts_with("--"));
        let (destination, sources) = paths.split_last().expect("COPY has a destination");
        if flags.iter().any(|f| f.starts_with("--from=")) {
            for source in sources {
                if destination.as_str() == format!("/home/site/wwwroot/{executable}") {
                    assert!(
                        source.ends_with(&format!("/release/{executable}")),
                        "{source}"
                    );
                    installs_binary = true;
                }
            }
            continue;
        }
        for source in sources {
            let path = root.join(source.trim_end_matches('/'));
            assert!(
                path.exists(),
                "{}: COPY {source}: no such file in the repository",
                dockerfile.display()
            );
            let first = Path::new(source)
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .into_owned();
            assert!(
                !ignored.contains(&first),
                "COPY {source}, but .dockerignore leaves {first} out"
            );
        }
        if sources
            .iter()
            .any(|s| s.trim_end_matches('/') == format!("{app_dir}/app"))
            && destination.trim_end_matches('/') == "/home/site/wwwroot"
        {
            installs_app = true;
        }
    }
    assert!(
        installs_binary,
        "the binary is copied to /home/site/wwwroot/{executable}"
    );
    assert!(
        installs_app,
        "{app_dir}/app is copied to /home/site/wwwroot"
    );
    let env = steps
        .iter()
        .filter(|(k, _)| k == "ENV")
        .flat_map(|(_, w)| w.clone())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        env.contains("AzureWebJobsScriptRoot=/home/site/wwwroot"),
        "{env}"
    );
    executable
}

/// The binding named `name` of a function.json.
pub fn binding<'a>(function: &'a Value, name: &str) -> &'a Value {
    function["bindings"]
        .as_array()
        .expect("bindings is an array")
        .iter()
        .find(|b| b["name"] == name)
        .unwrap_or_else(|| panic!("no binding named {name} in {function}"))
}
