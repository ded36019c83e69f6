#!/usr/bin/env bash
# layers_test.sh: the tree keeps its layers (docs/design.md, "How it works"): common/ includes nothing of any
# other folder; the harness, the workloads and the agent include nothing of the mediator's, and the mediator
# nothing of the harness's; a header of the harness is included by its folder ("store/store.h"), never by a bare
# name; SQL stays in the store; only the commands and a run's (or a calibration's) last step reach the report;
# every C file names itself
# on its first line. Reads the sources only. Usage: layers_test.sh. Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/../../.." || exit 2
CHECK_NAME=layers
# shellcheck source=tests/lib/check.sh
. tests/lib/check.sh

harness_dirs='host|vm|configs|plan|run|store|analysis|report|util'
mediator_dirs='vhost|device|render|sched|display|process|loop'

# Every quoted include of the files given: "file: header" lines.
includes() { grep -H -o '^#include "[^"]*"' "$@" 2>/dev/null | sed 's/:#include "\(.*\)"$/: \1/'; }

own=$(cd common && ls -- *.h | sed 's/\./\\./g' | tr '\n' '|')
common_out=$(includes common/*.[ch] | grep -v -E ": (${own%|})\$")
check '[ -z "$common_out" ]' "common/ includes only common/: $common_out"

# The harness's own files (its subfolders' headers by folder, util.h, cli.h and doctor.h at its top), the
# workloads' and the agent's: none of the mediator's.
harness_files=$(find harness workloads guest-agent -name '*.[ch]')
# shellcheck disable=SC2086
up=$(includes $harness_files | grep -E ": ($mediator_dirs)/")
check '[ -z "$up" ]' "the harness, workloads and agent include nothing of the mediator's: $up"
mediator_files=$(find mediator -name '*.[ch]')
# shellcheck disable=SC2086
down=$(includes $mediator_files | grep -E ": (($harness_dirs)/|util\.h|cli\.h|doctor\.h)")
check '[ -z "$down" ]' "the mediator includes nothing of the harness's: $down"

# A harness header by a bare name would only compile from its own folder: it is named by its folder everywhere.
bare=""
for h in harness/*/*.h; do
	name=$(basename "$h")
	# shellcheck disable=SC2086
	hits=$(includes $harness_files tests/*/*.[ch] tests/unit/*/*.c tools/*.[ch] | grep -E ": $name\$")
	[ -n "$hits" ] && bare="$bare $hits"
done
check '[ -z "$bare" ]' "harness headers are included by their folder: $bare"

# The report is reached from the commands and from the last step of a run or a calibration, nothing else.
reach=$(grep -l -r '#include "report/report.h"' harness | grep -v '^harness/report/' | sort | tr '\n' ' ')
check '[ "$reach" = "harness/commands.c harness/run/calibrate.c harness/run/runner.c " ]' \
	"only the commands, a run's and a calibration's end reach the report (besides its own files): $reach"

# SQL only in the store: a database library's header in its back-ends (store/db/) alone, its SQL layer (db.h,
# sql.h) in the store alone.
lib_out=$(grep -l -r -E '#include <(sqlite3|libpq-fe)\.h>' harness workloads | grep -v '^harness/store/db/')
check '[ -z "$lib_out" ]' "only the store's back-ends include a database library: $lib_out"
sql_out=$(grep -l -r -E '#include "store/(db|sql)\.h"' harness workloads | grep -v '^harness/store/')
check '[ -z "$sql_out" ]' "only the store includes its SQL layer: $sql_out"

# Each C file says what it is at its top, under its own name (its path, or its program's name, will do).
unnamed=""
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]'); do
	b=$(basename "$f")
	head -2 "$f" | grep -q -E "^(/\*| \*) ([a-z_/]*/)?($b|${b%.*}):" || unnamed="$unnamed $f"
done
check '[ -z "$unnamed" ]' "every C file names itself at its top: $unnamed"

check_done
