#!/bin/sh
# Render nginx.conf.template into $1: each @@NAME@@ becomes the environment variable NAME. POSIX sh,
# so the nginx container image can run it too. The template asks for RUN_DIR, LISTEN and one
# <SERVICE>_UPSTREAM per service it routes to; the limits per client address (RATE_PER_SECOND,
# RATE_BURST) and per bearer token (TOKEN_RATE_PER_SECOND, TOKEN_RATE_BURST) have defaults.
# Every `#@@RESPONSE_HEADERS@@` line becomes the lines of headers.conf (nginx drops inherited
# add_header lines in a block that adds its own, so each such block repeats them).
set -eu
here="$(dirname "$0")"
template="$here/nginx.conf.template"
: "${RATE_PER_SECOND:=200}" "${RATE_BURST:=400}"
: "${TOKEN_RATE_PER_SECOND:=$RATE_PER_SECOND}" "${TOKEN_RATE_BURST:=$RATE_BURST}"
script=""
for name in $(grep -o '@@[A-Z_]*@@' "$template" | tr -d @ | sort -u); do
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
}" "$template" | sed -e "$script" >"$1"
if grep -q '@@[A-Z_]*@@' "$1"; then
  echo "render.sh: placeholders left in $1: $(grep -o '@@[A-Z_]*@@' "$1" | sort -u | tr '\n' ' ')" >&2
  exit 1
fi
