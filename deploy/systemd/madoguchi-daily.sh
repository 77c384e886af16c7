#!/bin/sh
# madoguchi-daily: import the CRLs dropped into DROP (oldest first), then
# export the acceptances not exported yet. Run by madoguchi-daily.service.
# A CRL that imports is moved to DROP/imported, one refused to DROP/rejected;
# the exit status is 1 if any was refused or the export failed.
set -u
config=${MADOGUCHI_CONFIG:-/etc/madoguchi/madoguchi.conf}
state=${MADOGUCHI_STATE:-/var/lib/madoguchi}
drop=${MADOGUCHI_CRL_DROP:-$state/crl-drop}
exports=${MADOGUCHI_EXPORTS:-$state/exports}
admin=${MADOGUCHI_ADMIN:-madoguchi-admin}
status=0

mkdir -p "$drop/imported" "$drop/rejected" "$exports"
for f in $(ls -tr "$drop" 2>/dev/null); do
	[ -f "$drop/$f" ] || continue
	case "$f" in
	*.crl|*.der|*.pem) ;;
	*) continue ;;
	esac
	if "$admin" --config "$config" crl import "$drop/$f"; then
		mv -f "$drop/$f" "$drop/imported/"
	else
		echo "madoguchi-daily: $f refused, moved to $drop/rejected" >&2
		mv -f "$drop/$f" "$drop/rejected/"
		status=1
	fi
done

# a new file every run: an earlier export is never overwritten
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$exports/acceptances-$stamp.csv"
n=1
while [ -e "$out" ]; do
	n=$((n + 1))
	out="$exports/acceptances-$stamp-$n.csv"
done
if ! "$admin" --config "$config" log export --new --format csv --out "$out"; then
	echo "madoguchi-daily: log export --new failed" >&2
	status=1
fi
exit $status
