#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL 15 server for the tests.
#
#   bash scripts/postgres.sh start DIR    init a cluster in DIR/data (once), start it, print DIR/env
#   bash scripts/postgres.sh stop DIR     stop the server (pg_ctl -m fast) and remove DIR
#
# start creates DIR if needed, runs initdb in DIR/data if there is no cluster yet (superuser
# postgres, scram-sha-256 with a random 24-character [A-Za-z0-9] password, kept in DIR/password),
# and starts the server with pg_ctl, log in DIR/log. The server listens on 127.0.0.1 only, on a
# free port, and on a Unix socket in DIR. It then writes DIR/env (mode 600):
#
#   export PROMPT_EVENTS_TEST_POSTGRES_URL='postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres'
#   export PROMPT_EVENTS_TEST_POSTGRES_SOCKET_URL='postgres://postgres:PASSWORD@/postgres?host=DIR&port=PORT'
#
# and prints its path, the only thing written to stdout (progress goes to stderr), so a caller can
# `source "$(bash scripts/postgres.sh start "$dir")"`. A second start while the server runs only
# rewrites and prints the env file; a start after a crash reuses the cluster on a new port.
#
# stop is idempotent: a missing DIR is not an error. It never kills a process by name: only
# pg_ctl stops the server whose postmaster.pid is in DIR/data. DIR is removed only if this
# script created its content (marker file DIR/.prompt-events-postgres) or it is empty.
#
# PostgreSQL refuses to run as root, so as root initdb and pg_ctl run as the user postgres
# (runuser), DIR is chowned to it, and every parent of DIR must be searchable by it (mktemp -d
# under /tmp is). As any other user they run as that user.
#
# Environment: POSTGRES_BIN (default /usr/lib/postgresql/15/bin).
set -euo pipefail

BIN=${POSTGRES_BIN:-/usr/lib/postgresql/15/bin}
MARKER=.prompt-events-postgres

die() {
    echo "postgres.sh: $*" >&2
    exit 1
}
log() { echo "postgres.sh: $*" >&2; }

usage() {
    echo "usage: bash scripts/postgres.sh start|stop DIR" >&2
    exit 2
}

(($# == 2)) || usage
command=$1
case $command in start | stop) ;; *) usage ;; esac

# DIR is absolute from here on: it is the socket directory in the server options and the URL.
DIR=$2
[[ -n $DIR ]] || usage
[[ $DIR == /* ]] || DIR=$PWD/$DIR
while [[ $DIR == */ && $DIR != / ]]; do DIR=${DIR%/}; done
[[ $DIR != / ]] || die "refusing to use / as the directory"
# It goes unquoted into pg_ctl -o and unencoded into a URL: keep it to harmless characters.
[[ $DIR =~ ^[A-Za-z0-9/._+-]+$ ]] ||
    die "directory must consist of [A-Za-z0-9/._+-] only (it is a socket path in a URL): $DIR"

as_root=0
[[ $(id -u) == 0 ]] && as_root=1

# Runs a PostgreSQL tool as the user the server runs as, from a directory that user can read
# (initdb and pg_ctl warn if they cannot return to the current directory).
as_server() {
    if ((as_root)); then
        (cd "$DIR" && runuser -u postgres -- "$@")
    else
        (cd "$DIR" && "$@")
    fi
}

# 0 if process $1 has exited but its parent has not reaped it yet. A postmaster killed without a
# shutdown leaves postmaster.pid behind, and until the zombie is reaped (init may be slow to, in a
# container) kill -0 succeeds, so pg_ctl status, pg_ctl stop and a new postmaster think it runs.
zombie() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} == Z ]]
}

# 0 if the server of DIR/data runs (pg_ctl status reads postmaster.pid and checks the process).
running() {
    [[ -f $DIR/data/postmaster.pid ]] || return 1
    as_server "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1 || return 1
    ! zombie "$(sed -n 1p "$DIR/data/postmaster.pid")"
}

# Writes DIR/env for the running server (its port from postmaster.pid) and prints its path.
write_env() {
    local port password
    port=$(sed -n 4p "$DIR/data/postmaster.pid")
    [[ $port =~ ^[0-9]+$ ]] || die "no port in $DIR/data/postmaster.pid"
    [[ -f $DIR/password ]] || die "$DIR/password is missing: cannot write the URLs of the cluster"
    password=$(<"$DIR/password")
    [[ $password =~ ^[A-Za-z0-9]+$ ]] || die "$DIR/password is not [A-Za-z0-9]+"
    (
        umask 077
        {
            echo "export PROMPT_EVENTS_TEST_POSTGRES_URL='postgres://postgres:${password}@127.0.0.1:${port}/postgres'"
            echo "export PROMPT_EVENTS_TEST_POSTGRES_SOCKET_URL='postgres://postgres:${password}@/postgres?host=${DIR}&port=${port}'"
        } >"$DIR/env.tmp"
    )
    mv -f "$DIR/env.tmp" "$DIR/env"
    echo "$DIR/env"
}

# True if DIR holds nothing but what this script puts there (or nothing at all).
ours() {
    [[ -e $DIR/$MARKER ]] || [[ -z $(ls -A "$DIR") ]]
}

stop() {
    if [[ ! -e $DIR ]]; then
        log "$DIR does not exist: nothing to stop"
        return 0
    fi
    [[ -d $DIR ]] || die "$DIR is not a directory"
    ours || die "$DIR was not created by this script (no $MARKER): not touching it"
    if [[ -x $BIN/pg_ctl ]] && running; then
        log "stopping the server in $DIR/data"
        if ! as_server "$BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop >&2; then
            log "fast shutdown failed; trying an immediate one"
            as_server "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w -t 30 stop >&2 || true
        fi
        if running; then
            die "the server in $DIR/data is still running; $DIR is kept (log: $DIR/log)"
        fi
    elif [[ -f $DIR/data/postmaster.pid ]]; then
        log "stale $DIR/data/postmaster.pid: no server runs"
    fi
    rm -rf -- "$DIR"
    log "removed $DIR"
}

start() {
    [[ -x $BIN/initdb && -x $BIN/pg_ctl ]] ||
        die "PostgreSQL 15 is not installed: $BIN/initdb is missing (on Debian: apt-get install postgresql-15)"
    local version
    version=$("$BIN/initdb" --version)
    [[ $version == *" 15."* ]] || die "$BIN/initdb is not PostgreSQL 15: $version"
    command -v python3 >/dev/null || die "python3 is needed to pick a free port"
    if ((as_root)); then
        id postgres >/dev/null 2>&1 || die "running as root, but there is no user postgres to run the server as"
    fi

    if [[ -e $DIR ]]; then
        [[ -d $DIR ]] || die "$DIR is not a directory"
        ours || die "$DIR is neither empty nor created by this script (no $MARKER): not touching it"
    else
        mkdir -p -m 700 -- "$DIR"
    fi
    : >"$DIR/$MARKER"
    if ((as_root)); then
        chown postgres: "$DIR"
        chmod 700 "$DIR"
        runuser -u postgres -- test -w "$DIR" -a -x "$DIR" ||
            die "user postgres cannot reach $DIR (is a parent directory not searchable by it?)"
    fi
    # The socket path DIR/.s.PGSQL.PORT must fit in sun_path (107 bytes and a NUL).
    ((${#DIR} + 16 <= 107)) || die "$DIR is too long for a Unix socket path; use a shorter one"

    if running; then
        log "the server in $DIR/data already runs"
        write_env
        return 0
    fi

    if [[ ! -f $DIR/data/PG_VERSION ]]; then
        [[ ! -e $DIR/data ]] || die "$DIR/data exists but holds no cluster; remove it or use another directory"
        local password
        password=$(python3 -c 'import secrets, string
alphabet = string.ascii_letters + string.digits
print("".join(secrets.choice(alphabet) for _ in range(24)))')
        (
            umask 077
            printf '%s\n' "$password" >"$DIR/password"
        )
        ((as_root)) && chown postgres: "$DIR/password"
        log "initdb $DIR/data (superuser postgres, scram-sha-256, UTF8, locale C)"
        local output
        if ! output=$(as_server "$BIN/initdb" -D "$DIR/data" -U postgres -A scram-sha-256 \
            --pwfile="$DIR/password" --encoding=UTF8 --locale=C --no-sync 2>&1); then
            echo "$output" >&2
            rm -rf -- "$DIR/data"
            die "initdb failed"
        fi
    fi

    if [[ -f $DIR/data/postmaster.pid ]]; then
        # A server that crashed: the new postmaster refuses to start while the old PID exists.
        local pid waited=0
        pid=$(sed -n 1p "$DIR/data/postmaster.pid")
        log "stale $DIR/data/postmaster.pid (PID $pid): the last server did not shut down"
        while [[ $pid =~ ^[0-9]+$ ]] && zombie "$pid" && ((waited < 20)); do
            ((waited == 0)) && log "waiting for its exited PID $pid to be reaped"
            sleep 0.5
            waited=$((waited + 1))
        done
    fi

    # A port found free can be taken before the server binds it: try a few.
    local port attempt
    for attempt in 1 2 3; do
        port=$(python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()')
        log "starting PostgreSQL on 127.0.0.1:$port and $DIR/.s.PGSQL.$port (log: $DIR/log)"
        if as_server "$BIN/pg_ctl" -D "$DIR/data" -w -t 60 -l "$DIR/log" \
            -o "-p $port -k $DIR -c listen_addresses=127.0.0.1" start >&2; then
            write_env
            return 0
        fi
        if running; then
            # pg_ctl gave up waiting but the server is up after all: stop it rather than leak it.
            as_server "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >&2 || true
        fi
        log "start attempt $attempt failed; last lines of $DIR/log:"
        tail -n 20 "$DIR/log" >&2 2>/dev/null || true
    done
    die "could not start PostgreSQL (log: $DIR/log)"
}

"$command"
