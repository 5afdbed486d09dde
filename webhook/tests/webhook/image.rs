//! The webhook's image as a cluster would pull it: `just image-check` builds it with buildah
//! (`just image`) and runs this with `MEDUSA_IMAGE` naming it. Without `MEDUSA_IMAGE` or
//! buildah, it says so in one line and judges nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

const LIMIT_BYTES: u64 = 40 * 1024 * 1024;

fn buildah(args: &[&str]) -> String {
    let output = Command::new("buildah")
        .arg("--storage-driver")
        .arg("vfs")
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "buildah {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Every file under `root` (not following links), with its size.
fn files(root: &Path) -> Vec<(PathBuf, u64)> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                pending.push(entry.path());
            } else {
                let size = entry.metadata().unwrap().len();
                found.push((entry.path().strip_prefix(root).unwrap().to_owned(), size));
            }
        }
    }
    found.sort();
    found
}

/// A container of the image, mounted, removed on drop.
struct Mounted {
    container: String,
    root: PathBuf,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("buildah")
            .args(["--storage-driver", "vfs", "umount", &self.container])
            .output();
        let _ = Command::new("buildah")
            .args(["--storage-driver", "vfs", "rm", &self.container])
            .output();
    }
}

#[test]
fn the_image_runs_the_webhook_as_65532_with_no_shell_in_under_40_mib() {
    let Some(image) = std::env::var("MEDUSA_IMAGE").ok() else {
        println!(
            "image: MEDUSA_IMAGE is not set: `just image-check` builds the image and checks it"
        );
        return;
    };
    if Command::new("buildah").arg("--version").output().is_err() {
        println!("image: buildah is not installed: {image} is not checked");
        return;
    }
    let inspect: serde_json::Value =
        serde_json::from_str(&buildah(&["inspect", "--type", "image", &image])).unwrap();
    let config = &inspect["OCIv1"]["config"];
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!(["/medusa-webhook"]),
        "{config}"
    );
    assert_eq!(config["User"], "65532:65532", "{config}");
    let labels = &config["Labels"];
    for label in [
        "org.opencontainers.image.source",
        "org.opencontainers.image.version",
        "org.opencontainers.image.licenses",
    ] {
        assert!(labels[label].is_string(), "label {label} missing: {labels}");
    }
    assert_eq!(labels["org.opencontainers.image.licenses"], "Apache-2.0");

    let container = buildah(&["from", &image]);
    let root = PathBuf::from(buildah(&["mount", &container]));
    let mounted = Mounted { container, root };
    let listing = files(&mounted.root);
    let names: Vec<String> = listing
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert!(names.contains(&"medusa-webhook".to_owned()), "{names:?}");
    assert!(
        !names.iter().any(|n| n.ends_with("/sh")
            || n == "sh"
            || n.ends_with("/bash")
            || n.ends_with("busybox")),
        "a shell in the image: {names:?}"
    );
    let total: u64 = listing.iter().map(|(_, size)| size).sum();
    assert!(total < LIMIT_BYTES, "{total} bytes: {listing:?}");
    println!(
        "image: {image}: {} files, {:.1} MiB",
        listing.len(),
        total as f64 / 1_048_576.0
    );

    // The binary runs in it, as user 65532, with only what the image holds.
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if is_root {
        let output = Command::new("chroot")
            .arg("--userspec=65532:65532")
            .arg(&mounted.root)
            .args(["/medusa-webhook", "--version"])
            .output()
            .unwrap();
        let version = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && version.starts_with("medusa-webhook "),
            "/medusa-webhook --version in the image: {version} {}",
            String::from_utf8_lossy(&output.stderr)
        );
    } else {
        println!("image: not root: the binary is not run inside the image");
    }
}
