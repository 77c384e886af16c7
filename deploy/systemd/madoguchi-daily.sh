#!/bin/sh
# madoguchi-daily: the daily routine (docs/operations.md "The daily routine").
# madoguchi-daily.timer starts it inside the export window, between the
# cut-off (crl_issue_time - crl_cutoff) and the CRL's issue time, so that a
# revocation told effectiveFrom the next issue time is on that CRL
# (madoguchi-admin crl schedule prints the window and the timer's time).
#   0. outside the export window: refuse, do nothing (--force: go on)
#   1. import the CRLs dropped into DROP, oldest first (imported ones are
#      moved to DROP/imported, refused ones to DROP/rejected)
#   2. crl status: every anchor name has a fresh CRL
#   3. log verify, against the head published last if there is one
#   4. log export --new --format index: EXPORTS/index-STAMP.txt for the CA
#   5. log head: PUBLISHED/head-STAMP.json, and PUBLISHED/head.json the latest
# A refused CRL or a stale one (1, 2) is reported and the routine goes on:
# revocations must reach the CA even while a CRL is late. A log that does
# not verify (3) stops it before anything is exported or published.
# Exit status: 0 all went well, 1 a step failed (the messages say which),
# 2 usage. --crl-only: steps 1 and 2 only, at any time
# (madoguchi-crl-import.service, when the CA drops a CRL).
set -u
config=${MADOGUCHI_CONFIG:-/etc/madoguchi/madoguchi.conf}
state=${MADOGUCHI_STATE:-/var/lib/madoguchi}
drop=${MADOGUCHI_CRL_DROP:-$state/crl-drop}
exports=${MADOGUCHI_EXPORTS:-$state/exports}
published=${MADOGUCHI_PUBLISHED:-$state/published}
admin=${MADOGUCHI_ADMIN:-madoguchi-admin}
force=${MADOGUCHI_DAILY_FORCE:-0}
crl_only=0
status=0

for arg in "$@"; do
	case "$arg" in
	--force) force=1 ;;
	--crl-only) crl_only=1 ;;
	*) echo "usage: madoguchi-daily [--force] [--crl-only]" >&2; exit 2 ;;
	esac
done

mdg() {
	"$admin" --config "$config" "$@"
}

# a new file every run: an earlier one is never overwritten
new_file() {
	f="$1-$stamp$2"
	n=1
	while [ -e "$f" ]; do
		n=$((n + 1))
		f="$1-$stamp-$n$2"
	done
	echo "$f"
}

# 0. the export window
if [ "$crl_only" = 0 ] && [ "$force" != 1 ] && ! mdg crl schedule --check; then
	echo "madoguchi-daily: outside the export window: nothing done (--force exports all the same)" >&2
	exit 1
fi
mkdir -p "$drop/imported" "$drop/rejected" "$exports" "$published" || exit 1

# 1. the CRLs dropped
for f in $(ls -tr "$drop" 2>/dev/null); do
	[ -f "$drop/$f" ] || continue
	case "$f" in
	*.crl|*.der|*.pem) ;;
	*) continue ;;
	esac
	if mdg crl import "$drop/$f"; then
		mv -f "$drop/$f" "$drop/imported/"
	else
		echo "madoguchi-daily: $f refused, moved to $drop/rejected" >&2
		mv -f "$drop/$f" "$drop/rejected/"
		status=1
	fi
done

# 2. every anchor name has a fresh CRL
if ! mdg crl status; then
	echo "madoguchi-daily: crl status: a CRL is stale or missing (above)" >&2
	status=1
fi
[ "$crl_only" = 1 ] && exit $status

# 3. the log is intact and holds everything published before
verified=0
if [ -f "$published/head.json" ]; then
	head=$(sed -n 's/.*"head":"\([0-9a-f]*\)".*/\1/p' "$published/head.json")
	mdg log verify --head "$head" && verified=1
else
	mdg log verify && verified=1
fi
if [ "$verified" = 0 ]; then
	echo "madoguchi-daily: log verify failed: nothing exported, no head published" >&2
	exit 1
fi

# 4. the acceptances not handed over yet, as the next batch, for the CA
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$(new_file "$exports/index" .txt)
if ! mdg log export --new --format index --out "$out"; then
	echo "madoguchi-daily: log export failed (above); the next run gives the batch again" >&2
	status=1
fi

# 5. today's head, to publish beside the CRL (every one is kept)
head_out=$(new_file "$published/head" .json)
if mdg log head --format json > "$head_out.tmp" && mv "$head_out.tmp" "$head_out" &&
	cp "$head_out" "$published/head.json.tmp" && mv "$published/head.json.tmp" "$published/head.json"; then
	echo "madoguchi-daily: head published in $head_out"
else
	echo "madoguchi-daily: log head failed (above)" >&2
	rm -f "$head_out.tmp" "$published/head.json.tmp"
	status=1
fi
exit $status
