//! The krew manifest and the release script that fills it in.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha256};

const PLATFORMS: [&str; 5] = [
    "linux/amd64",
    "linux/arm64",
    "darwin/amd64",
    "darwin/arm64",
    "windows/amd64",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A small executable standing in for each platform's build (packing is what is tested; the
/// cross builds need toolchains this machine does not have).
fn stand_in(dir: &Path) -> PathBuf {
    let path = dir.join("kubectl-medusa");
    std::fs::write(&path, "#!/bin/sh\necho kubectl medusa\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}

/// Runs krew/release.sh with a stand-in binary for each platform.
fn release(platforms: &[&str], out: &Path) -> std::process::Output {
    let binary = stand_in(out);
    let mut command = Command::new("bash");
    command
        .arg(root().join("krew/release.sh"))
        .args(["--version", "1.2.3", "--out"])
        .arg(out)
        .args(["--targets", &platforms.join(" ")]);
    for platform in platforms {
        command
            .arg("--binary")
            .arg(format!("{platform}={}", binary.display()));
    }
    command.output().unwrap()
}

fn yaml(path: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_template_describes_every_platform_with_a_binary_and_the_license() {
    let text = std::fs::read_to_string(root().join("krew/medusa.yaml")).unwrap();
    let manifest: Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(
        manifest["apiVersion"],
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(manifest["kind"], "Plugin");
    assert_eq!(manifest["metadata"]["name"], "medusa");
    let platforms = manifest["spec"]["platforms"].as_array().unwrap();
    let selectors: Vec<String> = platforms
        .iter()
        .map(|p| {
            let labels = &p["selector"]["matchLabels"];
            format!(
                "{}/{}",
                labels["os"].as_str().unwrap(),
                labels["arch"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(selectors, PLATFORMS);
    for platform in platforms {
        let bin = platform["bin"].as_str().unwrap();
        let files: Vec<&str> = platform["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["from"].as_str().unwrap())
            .collect();
        assert_eq!(files, [bin, "LICENSE"]);
    }
    assert!(
        manifest["spec"]["caveats"]
            .as_str()
            .unwrap()
            .contains("completion kubectl-helper")
    );
}

#[test]
fn release_packs_every_platform_and_fills_in_version_and_checksums() {
    let out = tempfile::tempdir().unwrap();
    let output = release(&PLATFORMS, out.path());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest = yaml(&out.path().join("medusa.yaml"));
    assert_eq!(manifest["spec"]["version"], "v1.2.3");
    for platform in manifest["spec"]["platforms"].as_array().unwrap() {
        let uri = platform["uri"].as_str().unwrap();
        assert!(
            uri.starts_with(
                "https://github.com/k8ssandra/kubectl-medusa/releases/download/v1.2.3/"
            ),
            "{uri}"
        );
        let archive = out.path().join(uri.rsplit('/').next().unwrap());
        let digest = format!("{:x}", Sha256::digest(std::fs::read(&archive).unwrap()));
        assert_eq!(platform["sha256"].as_str().unwrap(), digest, "{uri}");
        let listing = if uri.ends_with(".zip") {
            Command::new("unzip")
                .arg("-Z1")
                .arg(&archive)
                .output()
                .unwrap()
        } else {
            Command::new("tar")
                .arg("-tzf")
                .arg(&archive)
                .output()
                .unwrap()
        };
        let mut names: Vec<String> = String::from_utf8_lossy(&listing.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["LICENSE", platform["bin"].as_str().unwrap()],
            "{uri}"
        );
    }
}

#[test]
fn archives_are_reproducible() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for out in [&a, &b] {
        assert!(release(&PLATFORMS, out.path()).status.success());
    }
    let name = "kubectl-medusa_v1.2.3_linux_amd64.tar.gz";
    assert_eq!(
        std::fs::read(a.path().join(name)).unwrap(),
        std::fs::read(b.path().join(name)).unwrap()
    );
}

#[test]
fn a_partial_release_fails_and_names_the_missing_platforms() {
    let out = tempfile::tempdir().unwrap();
    let output = release(&["linux/amd64"], out.path());
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.contains("no archive for ${SHA256_DARWIN_AMD64}"),
        "{error}"
    );
    assert!(!out.path().join("medusa.yaml").exists());
}

#[test]
fn the_description_and_caveats_are_wrapped_at_80_columns_as_krew_index_asks() {
    let manifest = yaml(&root().join("krew/medusa.yaml"));
    for field in ["description", "caveats"] {
        let text = manifest["spec"][field].as_str().unwrap();
        let long: Vec<(usize, &str)> = text
            .lines()
            .map(|l| (l.chars().count(), l))
            .filter(|(n, _)| *n > 80)
            .collect();
        assert!(long.is_empty(), "{field}: lines over 80 columns: {long:?}");
    }
    let short = manifest["spec"]["shortDescription"].as_str().unwrap();
    assert!(short.len() <= 80, "{short}");
}

/// krew-release-bot's template, from krew/medusa.yaml: the tag for the version, and its
/// `addURIAndSha` for each archive's URL and checksum.
fn krew_release_bot_template() -> String {
    let text = std::fs::read_to_string(root().join("krew/medusa.yaml")).unwrap();
    let mut out = String::from(
        "# krew-release-bot's template (.github/workflows/release.yml), generated from\n# krew/medusa.yaml by `just generate`: do not edit.\n",
    );
    // The template's leading comment is not part of the manifest.
    let body = &text[text.find("apiVersion:").unwrap()..];
    let mut lines = body.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(uri) = line.trim_start().strip_prefix("uri: ") {
            let indent = &line[..line.len() - line.trim_start().len()];
            let uri = uri.replace("v${VERSION}", "{{ .TagName }}");
            // The checksum line that follows is the bot's to fill.
            let next = lines.next().unwrap();
            assert!(next.trim_start().starts_with("sha256: "), "{next}");
            out.push_str(&format!(
                "{indent}{{{{addURIAndSha \"{uri}\" .TagName }}}}\n"
            ));
        } else {
            out.push_str(&line.replace("v${VERSION}", "{{ .TagName }}"));
            out.push('\n');
        }
    }
    out
}

#[test]
fn the_krew_release_bot_template_is_the_manifest_template() {
    let path = root().join("krew/.krew.yaml");
    let expected = krew_release_bot_template();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "krew/.krew.yaml is stale: run `just generate` (UPDATE_DOCS=1 cargo test -p kubectl-medusa --test plugin -- krew::)"
    );
    assert!(!actual.contains("${"), "{actual}");
}
