# pg_server.sh: a private PostgreSQL server for the tests, sourced by run-tests.sh and the shell tests that need
# one. pg_server_start makes a cluster with Debian's initdb in a new folder under /tmp, as an unprivileged user
# (postgres, or nobody; the tests' own user when that is not root), and starts it with pg_ctl on a free loopback
# port, trusting local connections but those of the role "vgpubench_pw", which must give its password
# (PG_TEST_PASSWORD) over TCP; it sets PG_TEST_CONNINFO (a libpq keyword string for the superuser "vgpubench"
# and the maintenance database) and PG_TEST_DIR. pg_server_stop stops it and removes the folder;
# pg_server_kill stops it at once, as a crash would, and pg_server_restart starts it again on the same port.
# Each prints why when it fails, and returns non-zero.

pg_server_bin() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
	[ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && echo "$d"
}

# Run a server program as the cluster's owner, from / (the tests' folder may be closed to that user).
pg_server_as() {
	if [ "$PG_TEST_USER" = "$(id -un)" ]; then
		"$@"
	else
		(cd / && runuser -u "$PG_TEST_USER" -- "$@")
	fi
}

pg_server_start() {
	local bin port try
	bin=$(pg_server_bin) || {
		echo "pg_server: no PostgreSQL server programs (Debian's postgresql package) under /usr/lib/postgresql"
		return 1
	}
	PG_TEST_BIN=$bin
	if [ "$(id -u)" = 0 ]; then
		PG_TEST_USER=postgres
		id -u postgres >/dev/null 2>&1 || PG_TEST_USER=nobody
	else
		PG_TEST_USER=$(id -un)
	fi
	PG_TEST_DIR=$(mktemp -d /tmp/vgpubench-pg-XXXXXX) || return 1
	chmod 755 "$PG_TEST_DIR"
	[ "$PG_TEST_USER" = "$(id -un)" ] || chown "$PG_TEST_USER" "$PG_TEST_DIR"
	if ! pg_server_as "$bin/initdb" -D "$PG_TEST_DIR/data" -U vgpubench -A trust --no-sync -E UTF8 \
		--locale=C.UTF-8 >"$PG_TEST_DIR/initdb.log" 2>&1; then
		echo "pg_server: initdb as $PG_TEST_USER failed: $(tail -3 "$PG_TEST_DIR/initdb.log")"
		rm -rf "$PG_TEST_DIR"
		return 1
	fi
	# The first line that matches wins: the password role is asked for its password, everyone else trusted.
	sed -i '1i host all vgpubench_pw 127.0.0.1/32 scram-sha-256' "$PG_TEST_DIR/data/pg_hba.conf"
	for try in 1 2 3 4 5; do
		port=$((20000 + (RANDOM % 20000)))
		if pg_server_as "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 30 \
			-o "-p $port -k $PG_TEST_DIR -c listen_addresses=127.0.0.1" start >/dev/null 2>&1; then
			PG_TEST_PORT=$port
			PG_TEST_CONNINFO="host=127.0.0.1 port=$port user=vgpubench dbname=postgres"
			PG_TEST_PASSWORD=right-$RANDOM$RANDOM
			export PG_TEST_CONNINFO PG_TEST_DIR PG_TEST_PORT PG_TEST_USER PG_TEST_BIN PG_TEST_PASSWORD
			psql "$PG_TEST_CONNINFO" -qc "CREATE ROLE vgpubench_pw LOGIN PASSWORD '$PG_TEST_PASSWORD'" && return 0
			echo "pg_server: cannot make the password role"
			pg_server_stop
			return 1
		fi
	done
	echo "pg_server: the server did not start on 5 ports: $(tail -3 "$PG_TEST_DIR/server.log" 2>/dev/null)"
	rm -rf "$PG_TEST_DIR"
	return 1
}

pg_server_kill() {
	pg_server_as "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate stop >/dev/null 2>&1
}

pg_server_restart() {
	pg_server_as "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 30 \
		-o "-p $PG_TEST_PORT -k $PG_TEST_DIR -c listen_addresses=127.0.0.1" start >/dev/null 2>&1
}

pg_server_stop() {
	[ -n "${PG_TEST_DIR:-}" ] && [ -d "$PG_TEST_DIR" ] || return 0
	pg_server_as "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m fast -w stop >/dev/null 2>&1
	rm -rf "$PG_TEST_DIR"
	unset PG_TEST_CONNINFO PG_TEST_DIR
}
