#!/bin/sh
# Render nginx.conf.template into $1. POSIX sh, so the nginx container image can run it too.
# Needs: RUN_DIR LISTEN REQUESTS_UPSTREAM DISPATCH_UPSTREAM VOLUNTEERS_UPSTREAM RATINGS_UPSTREAM;
# optional: RATE_PER_SECOND RATE_BURST (per client address), TOKEN_RATE_PER_SECOND TOKEN_RATE_BURST
# (per bearer token). Every `#@@RESPONSE_HEADERS@@` line becomes the lines of headers.conf.
set -eu
here="$(dirname "$0")"
template="$here/nginx.conf.template"
sed -e "/#@@RESPONSE_HEADERS@@/{
r $here/headers.conf
d
}" "$template" | sed -e "s#@@RUN_DIR@@#$RUN_DIR#g" \
    -e "s#@@LISTEN@@#$LISTEN#g" \
    -e "s#@@REQUESTS_UPSTREAM@@#$REQUESTS_UPSTREAM#g" \
    -e "s#@@DISPATCH_UPSTREAM@@#$DISPATCH_UPSTREAM#g" \
    -e "s#@@VOLUNTEERS_UPSTREAM@@#$VOLUNTEERS_UPSTREAM#g" \
    -e "s#@@RATINGS_UPSTREAM@@#$RATINGS_UPSTREAM#g" \
    -e "s#@@RATE_PER_SECOND@@#${RATE_PER_SECOND:-200}#g" \
    -e "s#@@RATE_BURST@@#${RATE_BURST:-400}#g" \
    -e "s#@@TOKEN_RATE_PER_SECOND@@#${TOKEN_RATE_PER_SECOND:-${RATE_PER_SECOND:-200}}#g" \
    -e "s#@@TOKEN_RATE_BURST@@#${TOKEN_RATE_BURST:-${RATE_BURST:-400}}#g" \
    >"$1"
if grep -q '@@[A-Z_]*@@' "$1"; then
  echo "render.sh: placeholders left in $1: $(grep -o '@@[A-Z_]*@@' "$1" | sort -u | tr '\n' ' ')" >&2
  exit 1
fi
