"""The Dockerfiles cannot be built here (no container runtime), so this checks what a build would
trip over: every file a COPY takes from the build context exists in the repository and is not
left out by .dockerignore; what a COPY --from takes from a stage is what that stage's cargo build
makes; the ENTRYPOINT runs that binary (and, for Lapis, with the flags deploy/lapis/ gives it);
base images are pinned."""

import fnmatch
import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKERFILES = [REPO / "Dockerfile", *sorted(REPO.glob("crates/*-function/Dockerfile"))]


def instructions(path: Path) -> list:
    """(INSTRUCTION, rest) pairs, continuation lines joined and comments dropped."""
    out, current = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        word, _, rest = current.partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    assert not current, f"{path}: ends inside a continued line"
    return out


def args_of(rest: str) -> list:
    """Exec form (JSON array) or shell-style words."""
    return json.loads(rest) if rest.startswith("[") else shlex.split(rest)


def stages(path: Path) -> list:
    """One dict per FROM: image, name, workdir, runs, copies, entrypoint, user."""
    result = []
    for word, rest in instructions(path):
        if word == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            result.append({"image": parts[0], "name": name, "workdir": "/", "runs": [], "copies": [],
                           "entrypoint": None, "user": None})
            continue
        stage = result[-1]
        if word == "WORKDIR":
            stage["workdir"] = rest
        elif word == "RUN":
            stage["runs"].append(rest)
        elif word == "COPY":
            words = args_of(rest)
            flags = [w for w in words if w.startswith("--")]
            paths = [w for w in words if not w.startswith("--")]
            source_stage = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
            stage["copies"].append({"from": source_stage, "sources": paths[:-1], "dest": paths[-1]})
        elif word == "ENTRYPOINT":
            stage["entrypoint"] = args_of(rest)
        elif word == "USER":
            stage["user"] = rest
    return result


def dockerignore_excludes(rel: str) -> bool:
    """Whether .dockerignore leaves `rel` (or a folder holding it) out of the context."""
    patterns = [p.strip() for p in (REPO / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.strip().startswith("#")]
    assert not [p for p in patterns if p.startswith("!")], "negations are not handled here"
    parts = rel.strip("/").split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    for pattern in patterns:
        pattern = pattern.strip("/")
        if pattern.startswith("**/"):
            tail = pattern[3:]
            if any(fnmatch.fnmatchcase(part, tail) for part in parts):
                return True
        elif any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
            return True
    return False


def workspace_bins() -> dict:
    """package name -> binary names, for every member of the cargo workspace."""
    bins = {}
    for manifest in [*REPO.glob("crates/*/Cargo.toml"), REPO / "benches" / "Cargo.toml"]:
        data = tomllib.loads(manifest.read_text())
        name = data["package"]["name"]
        names = {b["name"] for b in data.get("bin", [])}
        if (manifest.parent / "src" / "main.rs").exists() and not data.get("bin"):
            names.add(name)
        bins[name] = names
    return bins


@pytest.fixture(params=DOCKERFILES, ids=lambda p: str(p.relative_to(REPO)))
def dockerfile(request):
    return request.param


def test_the_dockerfiles_exist():
    assert (REPO / "Dockerfile").exists()
    assert len(DOCKERFILES) == 3, DOCKERFILES


def test_context_sources_exist_and_are_not_ignored(dockerfile):
    copies = [c for s in stages(dockerfile) for c in s["copies"] if c["from"] is None]
    assert copies
    for copy in copies:
        for source in copy["sources"]:
            matches = list(REPO.glob(source.rstrip("/"))) if any(ch in source for ch in "*?[") else \
                [REPO / source]
            assert matches and all(m.exists() for m in matches), f"COPY {source}: not in the repository"
            assert not dockerignore_excludes(source.rstrip("/")), f"COPY {source}: left out by .dockerignore"


def test_the_workspace_is_complete_in_the_build_stage(dockerfile):
    # cargo loads every workspace member's manifest, so all of them must be copied.
    build = stages(dockerfile)[0]
    copied = {s.rstrip("/") for c in build["copies"] for s in c["sources"]}
    members = tomllib.loads((REPO / "Cargo.toml").read_text())["workspace"]["members"]
    for member in members:
        assert member.split("/")[0] in copied, f"workspace member {member} not copied"
    assert {"Cargo.toml", "Cargo.lock", ".cargo"} <= copied


def test_copied_binary_is_the_one_built_and_run(dockerfile):
    all_stages = stages(dockerfile)
    by_name = {s["name"]: s for s in all_stages if s["name"]}
    final = all_stages[-1]
    from_stage = [c for c in final["copies"] if c["from"] is not None]
    assert len(from_stage) == 1, from_stage
    copy = from_stage[0]
    build = by_name[copy["from"]]
    builds = [shlex.split(r) for r in build["runs"] if "cargo build" in r]
    assert len(builds) == 1, build["runs"]
    words = builds[0]
    assert "--locked" in words and "--release" in words
    package, binary = words[words.index("-p") + 1], words[words.index("--bin") + 1]
    assert binary in workspace_bins()[package], f"{package} has no binary {binary}"
    assert copy["sources"] == [f"{build['workdir'].rstrip('/')}/target/release/{binary}"]
    dest = copy["dest"]
    if dockerfile == REPO / "Dockerfile":
        assert final["entrypoint"][0] == dest, final["entrypoint"]
    else:
        # A Functions image: the host starts the handler named in host.json.
        app_copy = next(c for c in final["copies"] if c["from"] is None)
        host = json.loads((REPO / app_copy["sources"][0] / "host.json").read_text())
        executable = host["customHandler"]["description"]["defaultExecutablePath"]
        assert dest == f"{app_copy['dest'].rstrip('/')}/{executable}"


def test_base_images_are_pinned(dockerfile):
    for stage in stages(dockerfile):
        image = stage["image"]
        assert ":" in image.split("/")[-1] or "@sha256:" in image, f"{image}: no tag"
        assert not image.endswith(":latest"), image


def test_lapis_image_runs_as_non_root_with_the_deploy_flags():
    final = stages(REPO / "Dockerfile")[-1]
    uid, _, gid = final["user"].partition(":")
    assert uid.isdigit() and int(uid) != 0 and gid.isdigit() and int(gid) != 0, final["user"]
    deployment = yaml.safe_load((REPO / "deploy/lapis/base/deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsUser"] == int(uid) and pod["securityContext"]["runAsGroup"] == int(gid)
    # The manifest's command line is the image's ENTRYPOINT, written --flag=value.
    entry = final["entrypoint"]
    pairs = [f"{entry[i]}={entry[i + 1]}" for i in range(1, len(entry), 2)]
    assert container["command"] == entry[:1] and container["args"] == pairs
    ports = {p["containerPort"] for p in container["ports"]}
    exposed = {int(p) for w, rest in instructions(REPO / "Dockerfile") if w == "EXPOSE" for p in rest.split()}
    assert ports == exposed == {10000, 10001, 10002, 10010}
