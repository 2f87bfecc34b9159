#!/usr/bin/env bash
# make demo: build, start tfe-emulator, and let Terraform create an organization, an OAuth client and two
# VCS-linked workspaces, then queue, confirm and await a run in each; show the child reading the parent's
# output; then destroy it all.
#
#   1. cargo build (debug) of terraform-provider-tfe and tfe-emulator
#   2. start tfe-emulator on a free port over HTTPS; its CA goes to .demo/emulator-ca.pem; plans and applies
#      take ~1.5 s each, and every apply writes the output cluster_endpoint (the emulator stands in for the
#      workspaces' configurations)
#   3. terraform apply of examples/demo/main.tf with dev_overrides -> target/debug
#   4. terraform apply of examples/demo/child/main.tf: the child's configuration reads parent-ws's output with
#      tfe_outputs and with Terraform's terraform_remote_state; both must give the parent's endpoint
#   5. terraform destroy of examples/demo/main.tf
#   6. print every run the emulator saw; stop the emulator whatever happened
#
# The emulator's web page (runs, timelines, logs, Confirm & apply) is at the printed address; open it in a
# browser on this machine to watch the runs (it trusts loopback clients; accept the emulator's certificate or
# import .demo/emulator-ca.pem). DEMO_KEEP=1 on a terminal waits for Enter after the apply (the runs are on the page)
# and again at the end, with the emulator still up.
#
# Needs cargo, terraform, python3 and curl on PATH. Everything it writes goes to .demo/ (git-ignored).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
demo_dir="$repo/.demo"
example_dir="$repo/examples/demo"
bin_dir=${CARGO_TARGET_DIR:-$repo/target}/debug
token="demo-token-$RANDOM$RANDOM"
phase_ms=${DEMO_PHASE_MS:-1500}

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'demo failed: %s\n' "$*" >&2; exit 1; }

for tool in cargo terraform python3 curl; do
  command -v "$tool" >/dev/null || fail "'$tool' is not on PATH"
done

step "Building terraform-provider-tfe and tfe-emulator (debug)"
# On a terminal cargo shows one progress line; elsewhere it would list every crate, so keep it quiet.
cargo_flags=(build --workspace --bins)
[[ -t 2 ]] || cargo_flags+=(--quiet)
(cd "$repo" && cargo "${cargo_flags[@]}") || fail "cargo build failed"

rm -rf "$demo_dir"
mkdir -p "$demo_dir/terraform" "$demo_dir/child"
cp "$example_dir/main.tf" "$demo_dir/terraform/"
cp "$example_dir/child/main.tf" "$demo_dir/child/"

step "Starting tfe-emulator"
emulator_pid=
stop_emulator() {
  if [[ -n "$emulator_pid" ]] && kill -0 "$emulator_pid" 2>/dev/null; then
    kill -TERM "$emulator_pid" && wait "$emulator_pid" || true
  fi
}
trap stop_emulator EXIT
trap 'exit 130' INT TERM
"$bin_dir/tfe-emulator" --listen 127.0.0.1:0 --token "$token" --ca-file "$demo_dir/emulator-ca.pem" \
  >"$demo_dir/emulator.out" 2>"$demo_dir/emulator.log" &
emulator_pid=$!
for _ in $(seq 100); do
  grep -q '^tfe-emulator ready at ' "$demo_dir/emulator.out" && break
  kill -0 "$emulator_pid" 2>/dev/null || fail "tfe-emulator exited: $(cat "$demo_dir/emulator.log")"
  sleep 0.1
done
url=$(sed -n 's/^tfe-emulator ready at //p' "$demo_dir/emulator.out")
[[ -n "$url" ]] || fail "tfe-emulator printed no ready line within 10 s"
echo "    $url (CA: .demo/emulator-ca.pem, log: .demo/emulator.log)"
echo "    web page: $url/  (runs, timelines, logs; DEMO_KEEP=1 waits for Enter after the apply and at the end)"

export EMULATOR_URL=$url EMULATOR_CA=$demo_dir/emulator-ca.pem
admin() { curl --silent --show-error --fail --cacert "$EMULATOR_CA" -H 'content-type: application/json' "$@"; }

# What parent-ws's configuration would output: the endpoint of the cluster it builds.
parent_endpoint="https://cluster.parent-ws.example:6443"
admin -X PUT "$url/_emulator/knobs" \
  -d "{\"plan_ms\": $phase_ms, \"apply_ms\": $phase_ms, \"outputs\": {\"cluster_endpoint\": \"$parent_endpoint\"}}" >/dev/null
echo "    plans and applies take $phase_ms ms; each apply writes the output cluster_endpoint"

# Terraform talks to the emulator exactly as it would to app.terraform.io, through the locally built provider.
# Terraform's own remote-state reader takes the token from the CLI configuration's credentials for the host
# (a TF_TOKEN_... variable cannot name a host with a port).
cat >"$demo_dir/dev.tfrc" <<TFRC
provider_installation {
  dev_overrides {
    "hashicorp/tfe" = "$bin_dir"
  }
  direct {}
}
credentials "${url#https://}" {
  token = "$token"
}
TFRC
export TF_CLI_CONFIG_FILE=$demo_dir/dev.tfrc TF_IN_AUTOMATION=1 TF_INPUT=0
export SSL_CERT_FILE=$EMULATOR_CA TFE_HOSTNAME=${url#https://} TFE_TOKEN=$token

# Shows Terraform's progress lines as they come; the whole output is kept in .demo/NAME.log. DIR is the
# working directory under .demo/.
terraform_step() {
  local name=$1 dir=$2
  shift 2
  local status
  set +e
  terraform -chdir="$demo_dir/$dir" "$@" -auto-approve -no-color 2>&1 | tee "$demo_dir/$name.log" |
    grep --line-buffered -E '(Creating|Creation complete|Read complete|Destroying|Destruction complete|Still |complete!|Error)' |
    sed -u 's/^/    /'
  status=${PIPESTATUS[0]}
  set -e
  if [[ $status -ne 0 ]]; then
    printf '\n--- last lines of .demo/%s.log ---\n' "$name" >&2
    tail -n 25 "$demo_dir/$name.log" >&2
    return "$status"
  fi
}

# DEMO_KEEP=1 on a terminal: wait for Enter (the destroy deletes the organization, and its runs leave the page).
keep_until_enter() {
  [[ ${DEMO_KEEP:-} == 1 ]] || return 0
  if [[ -t 0 ]]; then
    printf '\n==> %s: open %s/ (press Enter to %s)\n' "$1" "$url" "$2"
    read -r _ || true
  else
    echo "    DEMO_KEEP=1 needs a terminal on standard input to wait for Enter; going on"
  fi
}

# The child's configuration reads parent-ws's output two ways; both must be the parent's endpoint.
child_reads() {
  terraform_step child child apply -var "hostname=${url#https://}" || return 1
  local from_outputs from_state
  from_outputs=$(terraform -chdir="$demo_dir/child" output -raw cluster_endpoint_from_tfe_outputs)
  from_state=$(terraform -chdir="$demo_dir/child" output -raw cluster_endpoint_from_remote_state)
  echo "    parent-ws's cluster_endpoint, read by the child's configuration:"
  echo "      through tfe_outputs (this provider):                $from_outputs"
  echo "      through terraform_remote_state (Terraform's own):   $from_state"
  [[ $from_outputs == "$parent_endpoint" && $from_state == "$parent_endpoint" ]] ||
    { echo "    expected $parent_endpoint both times" >&2; return 1; }
}

failed=0
step "terraform apply: organization, OAuth client, workspaces parent-ws and child-ws, then a run in each"
terraform_step apply terraform apply || failed=1
if [[ $failed -eq 0 ]]; then
  step "The child reads the parent's output: tfe_outputs and terraform_remote_state (examples/demo/child)"
  child_reads || failed=1
fi
keep_until_enter "The applied runs are on the web page before the destroy" "go on"
step "terraform destroy: a destroy run in child-ws, then in parent-ws, then delete it all"
terraform_step destroy terraform destroy || failed=1

step "Runs seen by tfe-emulator"
python3 "$example_dir/emulator_admin.py" report 4 || failed=1

keep_until_enter "The emulator keeps running" "stop it"

if [[ $failed -ne 0 ]]; then
  fail "see the messages above and the logs in .demo/"
fi
printf '\nDemo finished: every run was queued, confirmed and applied, and the child read the output of parent-ws.\n'
