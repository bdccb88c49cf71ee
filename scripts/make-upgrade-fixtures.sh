#!/usr/bin/env bash
# Makes the upgrade fixtures in crates/apisync/tests/fixtures/upgrade: databases written by an
# earlier apisync, which crates/apisync/tests/upgrade.rs opens with the current build to show
# that an upgrade in place loses nothing.
#
#   scripts/make-upgrade-fixtures.sh [REV]     (default REV: 10a62bd, the release they stand for)
#
# It builds `apisync` at REV in a temporary git worktree with its own target directory
# (FIXTURE_TARGET_DIR reuses one), then runs one scenario through that binary's CLI twice: on
# `apisync serve` with a fresh data directory (embedded SQLite) and on a fresh PostgreSQL database
# (`--database-url`). The scenario: ann signs up on a laptop and signs in on a desktop, bob signs
# up; the laptop imports a Postman collection and environment, makes a collection by hand, edits
# and deletes in it; ann makes a team, bob accepts her invitation, a workspace is shared with the
# team and both write in it; the laptop and the desktop edit one field offline (a conflict on the
# desktop); the desktop then makes edits offline that stay in its outbox. The servers are stopped
# cleanly, and saved are: the SQLite server's apisync.db, a plain `pg_dump --no-owner` of the
# PostgreSQL database, the desktop's profile database, and manifest.json with what each holds.
#
# PostgreSQL: FIXTURE_DATABASE_URL, else APISYNC_TEST_DATABASE_URL, else
# postgres://postgres@127.0.0.1:5432/test names a database on the server to connect to; a database
# apisync_fixture_<pid> is made beside it and dropped after. pg_dump must have the server's major
# version: when it is missing it is installed with apt-get (as scripts/install-test-deps.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
rev=${1:-10a62bd}
out=$repo/crates/apisync/tests/fixtures/upgrade
admin_url=${FIXTURE_DATABASE_URL:-${APISYNC_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}}
password="correct horse battery"
fixtures=$repo/tests/fixtures/postman/newman

say() { echo "make-upgrade-fixtures: $*" >&2; }
fail() { say "$*"; exit 1; }

command -v jq >/dev/null || fail "jq is needed (apt-get install jq)"
commit=$(git rev-parse --verify --quiet "$rev^{commit}") || fail "no commit '$rev' in this repository"

# pg_dump of the server's major version (a newer one writes what the server's psql cannot read,
# an older one refuses to dump).
if ! command -v pg_dump >/dev/null || ! command -v psql >/dev/null; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        say "apt-get install postgresql-client"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-client </dev/null >/dev/null
    else
        fail "pg_dump and psql are needed: sudo apt-get install postgresql-client"
    fi
fi
server_major=$(psql "$admin_url" -XAtc "SELECT current_setting('server_version_num')::int / 10000") ||
    fail "cannot reach PostgreSQL at $admin_url (set FIXTURE_DATABASE_URL)"
dump_major=$(pg_dump --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/')
[[ "$server_major" == "$dump_major" ]] ||
    fail "pg_dump is version $dump_major but the server is $server_major: install postgresql-client-$server_major"

tmp=$(mktemp -d)
server_pid=
fixture_db=apisync_fixture_$$
cleanup() {
    if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; fi
    psql "$admin_url" -XqAtc "DROP DATABASE IF EXISTS $fixture_db WITH (FORCE)" >/dev/null 2>&1 || true
    git -C "$repo" worktree remove --force "$tmp/src" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

say "building apisync at ${commit:0:7}"
git worktree add --quiet --detach "$tmp/src" "$commit"
target=${FIXTURE_TARGET_DIR:-$tmp/target}
(cd "$tmp/src" && CARGO_TARGET_DIR=$target cargo build --quiet --locked -p apisync --bin apisync)
bin=$target/debug/apisync

# Starts `apisync serve` on a free port: start_server DATA_DIR [DATABASE_URL]; sets $url.
start_server() {
    local extra=()
    [[ -n ${2:-} ]] && extra=(--database-url "$2")
    APISYNC_LOG=warn "$bin" serve --addr 127.0.0.1:0 --data-dir "$1" "${extra[@]}" >"$1.out" 2>"$1.err" &
    server_pid=$!
    url=
    for _ in $(seq 200); do
        url=$(grep -o 'http://[0-9.:]*' "$1.out" 2>/dev/null | head -1 || true)
        [[ -n $url ]] && return
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    fail "apisync serve did not start: $(cat "$1.err")"
}

# Stops it as an operator would; a clean stop leaves apisync.db complete.
stop_server() {
    kill -TERM "$server_pid"
    wait "$server_pid" || fail "apisync serve did not stop cleanly"
    server_pid=
}

# A device: dev NAME ARGS... runs the CLI on profile $base/NAME.
dev() {
    local who=$1
    shift
    env -u APISYNC_HOME -u APISYNC_OFFLINE APISYNC_PASSWORD="$password" "$bin" --profile "$base/$who" "$@" </dev/null
}
id_of() { jq -er .id; }

# Every synced workspace NAME's device holds, with its documents as `ls --json` prints them.
workspaces() {
    local all='[]' id name docs
    dev "$1" sync >/dev/null
    while IFS=$'\t' read -r id name; do
        docs=$(dev "$1" --offline --json ls -w "$id")
        all=$(jq --arg id "$id" --arg name "$name" --argjson docs "$docs" '. + [{id: $id, name: $name, documents: $docs}]' <<<"$all")
    done < <(dev "$1" --offline --json workspaces | jq -r '.[] | select(.local_only | not) | [.id, .name] | @tsv')
    echo "$all"
}

# The scenario, on the server at $url, with profiles under $base.
scenario() {
    dev laptop signup --server "$url" --email ann@example.com --username ann --device-name laptop >/dev/null
    dev desktop login --server "$url" --user ann --device-name desktop >/dev/null
    dev bob signup --server "$url" --email bob@example.com --username bob --device-name bob-laptop >/dev/null

    dev laptop import "$fixtures/multi-level-folders-v2.postman_collection.json" \
        "$fixtures/globals-env-data-files.postman_environment.json" >/dev/null
    local col list make gone shared
    col=$(dev laptop --json create collection --set name=Orders --set "description=Made by hand" | id_of)
    list=$(dev laptop --json create request --parent "$col" --set name=List --set method=GET \
        --set url=https://api.example.com/orders | id_of)
    make=$(dev laptop --json create request --parent "$col" --set name=Create --set method=POST \
        --set url=https://api.example.com/orders --set 'body={"mode":"raw","raw":"{\"item\": 1}"}' | id_of)
    gone=$(dev laptop --json create request --parent "$col" --set name=Obsolete | id_of)
    dev laptop set "$list" "description=Every order, newest first" >/dev/null
    dev laptop rm "$gone" >/dev/null

    dev laptop team create Platform >/dev/null
    dev laptop team invite Platform bob >/dev/null
    dev bob team accept Platform >/dev/null
    dev laptop workspace create "Team APIs" >/dev/null
    dev laptop workspace share --team Platform "Team APIs" >/dev/null
    shared=$(dev laptop --json create collection -w "Team APIs" --set name=Shared | id_of)
    dev bob sync >/dev/null
    dev bob --json create request -w "Team APIs" --parent "$shared" --set "name=From bob" --set method=GET \
        --set url=https://api.example.com/health >/dev/null

    # The same field edited offline on both devices: the desktop, syncing second, holds a conflict.
    dev desktop sync >/dev/null
    dev laptop --offline set "$make" "name=Create (laptop)" >/dev/null
    dev desktop --offline set "$make" "name=Create (desktop)" >/dev/null
    dev laptop sync >/dev/null
    dev desktop sync >/dev/null
    [[ $(dev desktop --offline --json conflicts | jq length) == 1 ]] || fail "the scenario made no conflict"

    server_side=$(workspaces laptop)

    # Edits the desktop has not sent yet: they wait in its outbox.
    dev desktop --offline create request --parent "$col" --set name=Unsent --set method=DELETE \
        --set url=https://api.example.com/orders/1 >/dev/null
    dev desktop --offline set "$list" url=https://api.example.com/v2/orders >/dev/null
}

mkdir -p "$out"

say "scenario on SQLite"
base=$tmp/sqlite
mkdir -p "$base"
start_server "$base/server"
scenario
sqlite_side=$server_side
device=$(jq -n --argjson status "$(dev desktop --json status --cached)" \
    --argjson conflicts "$(dev desktop --offline --json conflicts)" \
    --argjson documents "$(dev desktop --offline --json ls)" \
    '{pending: $status.pending, conflicts: $conflicts, documents: $documents}')
stop_server
[[ ! -s $base/server/apisync.db-wal && ! -s $base/desktop/apisync.db-wal ]] || fail "a database was left with a WAL"
gzip -9nc "$base/server/apisync.db" >"$out/server-sqlite.db.gz"
gzip -9nc "$base/desktop/apisync.db" >"$out/device.db.gz"

say "scenario on PostgreSQL"
base=$tmp/postgres
mkdir -p "$base"
psql "$admin_url" -XqAtc "CREATE DATABASE $fixture_db" >/dev/null
db_url=${admin_url%/*}/$fixture_db
start_server "$base/server" "$db_url"
scenario
postgres_side=$server_side
stop_server
pg_dump --no-owner --no-privileges --inserts --file="$out/server-postgres.sql" "$db_url"

jq -n --arg commit "$commit" --arg password "$password" --argjson sqlite "$sqlite_side" \
    --argjson postgres "$postgres_side" --argjson device "$device" \
    '{commit: $commit, account: {username: "ann", email: "ann@example.com", password: $password},
      sqlite: {workspaces: $sqlite, device: $device}, postgres: {workspaces: $postgres}}' >"$out/manifest.json"

cat >"$out/README.md" <<EOF
# Upgrade fixtures

Databases written by apisync at commit \`$commit\`, made by \`scripts/make-upgrade-fixtures.sh\`
(run it again to remake them: \`scripts/make-upgrade-fixtures.sh [REV]\`). \`crates/apisync/tests/upgrade.rs\`
opens copies of them with the current build and checks that nothing is lost.

- \`server-sqlite.db.gz\`: a server data directory's \`apisync.db\` (gzip), after a clean stop.
- \`server-postgres.sql\`: \`pg_dump --no-owner --no-privileges --inserts\` of a server's PostgreSQL database (PostgreSQL $server_major).
- \`device.db.gz\`: the profile database of ann's desktop (gzip), which synced with the SQLite server above:
  one unresolved conflict, and edits still in its outbox.
- \`manifest.json\`: what they hold: the account (password included: a test account), every
  workspace with its documents as \`apisync ls --json\` printed them (\`sqlite\`, \`postgres\`), and
  the desktop's pending count, conflicts and documents (\`sqlite.device\`).

The scenario: ann signs up on a laptop and signs in on a desktop, bob signs up; the laptop imports
a Postman collection and environment, makes a collection by hand, edits and deletes in it; ann
makes a team, bob accepts her invitation, a workspace is shared with the team and both write in it;
both of ann's devices edit one field offline (a conflict on the desktop); the desktop then makes
edits offline that stay in its outbox.
EOF
du -h "$out"/* >&2
say "done: fixtures of ${commit:0:7} in ${out#"$repo"/}"
