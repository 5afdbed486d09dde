# kubectl-medusa task runner. `.ci/run` calls `just ci`, recipe for recipe.

reference := env_var_or_default("MEDUSA_REFERENCE_CRDS", "../shared/reference/k8ssandra-operator/crds")

# List the recipes.
default:
    @just --list

# Build everything (debug).
build:
    cargo build --workspace --all-targets

# The main job, without a cluster: the webhook's rules on the sample manifests (a working setup,
# then with the common mistakes, each denied: that run exits 3), and a backup job for GitOps.
demo:
    cargo run -q -p kubectl-medusa -- validate -f manifests/examples/
    -cargo run -q -p kubectl-medusa -- validate -R -f manifests/examples/
    cargo run -q -p kubectl-medusa -- backup create --dc dc1 -n k8ssandra --dry-run=client

# Regenerate committed files: CRD YAML, docs/rbac.md and the README's session.
generate:
    cargo run -q -p medusa-crds --example crdgen
    UPDATE_DOCS=1 cargo test -q -p kubectl-medusa --test docs --test session

# Check formatting.
fmt-check:
    cargo fmt --all --check

# Lint every target; warnings are errors.
lint:
    cargo clippy --workspace --all-targets -- -D warnings

# Run every test (the e2e suite skips itself without an API server).
test:
    MEDUSA_REFERENCE_CRDS="{{reference}}" cargo test --workspace

# Benchmarks: the webhook's admission throughput, and the plugin's list against kubectl.
bench:
    cargo bench -p medusa-webhook --bench admission
    cargo bench -p kubectl-medusa --bench list

# What CI runs.
ci: fmt-check lint test
