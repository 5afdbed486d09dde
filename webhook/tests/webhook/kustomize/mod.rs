//! A minimal kustomize for the tests: what `manifests/` uses, rendered here (any other feature is
//! refused), and compared with `kubectl kustomize` where kubectl is installed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub fn manifests() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../manifests")
}

pub fn yaml_documents(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .unwrap()
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

/// A minimal kustomize: `resources` (files and directories), JSON 6902 `patches` and
/// `images` (new names and tags of container images).
pub fn render(dir: &Path) -> Vec<Value> {
    let kustomization: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap())
            .unwrap();
    for key in kustomization.as_object().unwrap().keys() {
        assert!(
            [
                "apiVersion",
                "kind",
                "resources",
                "components",
                "configMapGenerator",
                "patches",
                "images"
            ]
            .contains(&key.as_str()),
            "{}: `{key}` is not supported by the test renderer; keep the overlays simple",
            dir.display()
        );
    }
    let mut objects = Vec::new();
    for resource in kustomization["resources"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let path = dir.join(resource.as_str().unwrap());
        if path.is_dir() {
            objects.extend(render(&path));
        } else {
            objects.extend(yaml_documents(&std::fs::read_to_string(&path).unwrap()));
        }
    }
    objects.extend(generated_config_maps(
        dir,
        &kustomization["configMapGenerator"],
    ));
    for component in kustomization["components"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        objects.extend(render(&dir.join(component.as_str().unwrap())));
    }
    apply_patches(dir, &kustomization, &mut objects);
    apply_images(&kustomization, &mut objects);
    objects
}

fn kubectl_render(dir: &Path) -> Option<Vec<Value>> {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .ok()?;
    if !output.status.success() {
        panic!(
            "kubectl kustomize {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Some(yaml_documents(&String::from_utf8(output.stdout).unwrap()))
}

/// Renders `dir` here and, where kubectl is installed, checks that kubectl agrees.
pub fn render_checked(dir: &Path) -> Vec<Value> {
    let ours = render(dir);
    match kubectl_render(dir) {
        Some(theirs) => {
            let key = |objects: &[Value]| -> BTreeSet<String> {
                objects.iter().map(|o| o.to_string()).collect()
            };
            assert_eq!(
                key(&ours),
                key(&theirs),
                "the test renderer and kubectl kustomize disagree on {}",
                dir.display()
            );
        }
        None => println!(
            "kubectl not found: {} rendered by the test renderer only",
            dir.display()
        ),
    }
    ours
}

/// `configMapGenerator` entries with `files` (`key=path` or `path`), a namespace, labels and
/// `disableNameSuffixHash: true` (a hashed name is not rendered here).
fn generated_config_maps(dir: &Path, generators: &Value) -> Vec<Value> {
    let mut maps = Vec::new();
    for generator in generators.as_array().map(Vec::as_slice).unwrap_or_default() {
        assert_eq!(
            generator["options"]["disableNameSuffixHash"],
            Value::Bool(true),
            "{}: configMapGenerator without disableNameSuffixHash is not rendered here",
            dir.display()
        );
        let mut data = serde_json::Map::new();
        for file in generator["files"].as_array().unwrap() {
            let file = file.as_str().unwrap();
            let (key, path) = file
                .split_once('=')
                .unwrap_or((Path::new(file).file_name().unwrap().to_str().unwrap(), file));
            let content = std::fs::read_to_string(dir.join(path)).unwrap();
            data.insert(key.to_owned(), Value::String(content));
        }
        let mut metadata = serde_json::Map::new();
        if let Some(labels) = generator["options"].get("labels") {
            metadata.insert("labels".into(), labels.clone());
        }
        metadata.insert("name".into(), generator["name"].clone());
        if let Some(namespace) = generator.get("namespace") {
            metadata.insert("namespace".into(), namespace.clone());
        }
        maps.push(serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata,
            "data": data,
        }));
    }
    maps
}

/// JSON 6902 `patches`, each matching exactly one object by kind and name.
fn apply_patches(dir: &Path, kustomization: &Value, objects: &mut [Value]) {
    for patch in kustomization["patches"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let target = &patch["target"];
        let operations: json_patch::Patch = serde_json::from_value(
            serde_saphyr::from_str::<Value>(patch["patch"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        let mut matched = 0;
        for object in objects.iter_mut() {
            if object["kind"] == target["kind"] && object["metadata"]["name"] == target["name"] {
                json_patch::patch(object, &operations).unwrap();
                matched += 1;
            }
        }
        assert_eq!(
            matched,
            1,
            "{}: patch target {target} matched {matched} objects",
            dir.display()
        );
    }
}

/// `images`: new names and tags of container images.
fn apply_images(kustomization: &Value, objects: &mut [Value]) {
    for image in kustomization["images"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let name = image["name"].as_str().unwrap();
        for object in objects.iter_mut() {
            for container in object
                .pointer_mut("/spec/template/spec/containers")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                let current = container["image"].as_str().unwrap_or_default().to_owned();
                let (current_name, current_tag) = match current.rsplit_once(':') {
                    Some((n, t)) if !t.contains('/') => (n.to_owned(), Some(t.to_owned())),
                    _ => (current.clone(), None),
                };
                if current_name != name {
                    continue;
                }
                let new_name = image["newName"].as_str().unwrap_or(name);
                let tag = image["newTag"].as_str().map(str::to_owned).or(current_tag);
                container["image"] = match tag {
                    Some(tag) => Value::String(format!("{new_name}:{tag}")),
                    None => Value::String(new_name.to_owned()),
                };
            }
        }
    }
}
