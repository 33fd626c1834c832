#!/bin/sh
# Render nginx.conf.template into $1: each @@NAME@@ becomes the environment variable NAME. POSIX sh,
# so the nginx container image can run it too. The template asks for RUN_DIR, LISTEN and one
# <SERVICE>_UPSTREAM per service it routes to; the limits per client address (RATE_PER_SECOND,
# RATE_BURST) and per bearer token (TOKEN_RATE_PER_SECOND, TOKEN_RATE_BURST) have defaults.
# Every `#@@RESPONSE_HEADERS@@` line becomes the lines of headers.conf (nginx drops inherited
# add_header lines in a block that adds its own, so each such block repeats them). The console's pages
# get `#@@CONSOLE_HEADERS@@` (console-headers.conf: a policy that lets its own files run) and are read
# from CONSOLE_ROOT (default /console, where a container mounts them); their import map's SHA-256 is
# computed here from index.html, so the policy allows exactly that inline script and no other.
set -eu
here="$(dirname "$0")"
template="$here/nginx.conf.template"
: "${RATE_PER_SECOND:=200}" "${RATE_BURST:=400}"
: "${TOKEN_RATE_PER_SECOND:=$RATE_PER_SECOND}" "${TOKEN_RATE_BURST:=$RATE_BURST}"
: "${CONSOLE_ROOT:=/console}"
if [ -z "${CONSOLE_IMPORTMAP_HASH:-}" ]; then
  CONSOLE_IMPORTMAP_HASH=$("$here/importmap-hash.sh" "$here/../../console/index.html" 2>/dev/null ||
    "$here/importmap-hash.sh" "$CONSOLE_ROOT/index.html" 2>/dev/null || echo none)
fi
script=""
for name in $(cat "$template" "$here/headers.conf" "$here/console-headers.conf" 2>/dev/null |
  grep -o '@@[A-Z_]*@@' | tr -d @ | sort -u); do
  # An unset name stays a placeholder, and the check below names it.
  eval "known=\${$name+yes}"
  [ -n "$known" ] || continue
  eval "value=\$$name"
  value=$(printf '%s' "$value" | sed 's/[#&\\]/\\&/g')
  script="$script s#@@$name@@#$value#g;"
done
sed -e "/#@@RESPONSE_HEADERS@@/{
r $here/headers.conf
d
}" -e "/#@@CONSOLE_HEADERS@@/{
r $here/console-headers.conf
d
}" "$template" | sed -e "$script" >"$1"
if grep -q '@@[A-Z_]*@@' "$1"; then
  echo "render.sh: placeholders left in $1: $(grep -o '@@[A-Z_]*@@' "$1" | sort -u | tr '\n' ' ')" >&2
  exit 1
fi
