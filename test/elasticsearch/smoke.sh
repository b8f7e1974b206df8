#!/usr/bin/env bash
# Checks with curl what the test node supports (see README.md). Needs a running node:
#   test/elasticsearch/es-node.sh start && test/elasticsearch/smoke.sh
# Argument: the node URL, or a file holding it (default: .run/es-8.18.8/url beside this script).
# Uses the index "es-smoke-test" and deletes it at the end. Exit 0 when all checks pass.
set -uo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
arg="${1:-$DIR/.run/es-8.18.8/url}"
if [ -f "$arg" ]; then U="$(tr -d '[:space:]' <"$arg")"; else U="$arg"; fi
[ -n "$U" ] || { echo "no URL" >&2; exit 2; }
I=es-smoke-test
JSON=(-H 'Content-Type: application/json')
COMPAT=(-H 'Accept: application/vnd.elasticsearch+json; compatible-with=8'
        -H 'Content-Type: application/vnd.elasticsearch+json; compatible-with=8')
pass=0 fail=0 BODY="" CODE=""

req() { # METHOD PATH [curl args...] -> sets CODE, BODY
  local m="$1" p="$2"; shift 2
  local out
  out="$(curl -sS -m 30 -X "$m" -w '\n%{http_code}' "$@" "$U$p" 2>&1)"
  CODE="${out##*$'\n'}"; BODY="${out%$'\n'*}"
}
ok() { pass=$((pass + 1)); echo "PASS  $1"; }
ko() { fail=$((fail + 1)); echo "FAIL  $1 [HTTP $CODE] ${BODY:0:300}"; }
# expect NAME CODE [REGEX]: the last request answered CODE and its body matches REGEX
expect() { if [ "$CODE" = "$2" ] && [[ -z "${3:-}" || "$BODY" =~ $3 ]]; then ok "$1"; else ko "$1"; fi; }
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" <<<"$BODY"; }

req DELETE "/$I"

req GET /_cluster/health
expect "cluster health" 200 '"status":"(green|yellow)"'

req PUT "/$I" "${JSON[@]}" -d '{"settings":{"number_of_shards":1,"number_of_replicas":0},
  "mappings":{"properties":{"@timestamp":{"type":"date"},"message":{"type":"object","dynamic":true}}}}'
expect "create index with mapping" 200 '"acknowledged":true'

bulk='' n=0
for ts in '"2021-05-05T09:27:12.529+0000"' '"2021-05-05T10:27:12.529Z"' '"2021-05-05T11:27:12.529+00:00"' \
          '1620214032529' '"2021-05-05T11:59:59+0000"' '"2021-05-05"'; do
  n=$((n + 1))
  bulk+=$'{"index":{}}\n'"{\"@timestamp\":$ts,\"message\":{\"level\":\"info\",\"n\":$n}}"$'\n'
done
req POST "/$I/_bulk?refresh=true" -H 'Content-Type: application/x-ndjson' --data-binary "$bulk"
expect "_bulk refresh=true; dates with +0000, Z, +00:00, epoch millis, no zone, date only" 200 '"errors":false'

req POST "/$I/_refresh"
expect "_refresh" 200 '"failed":0'

req POST "/$I/_count" "${JSON[@]}" -d '{"query":{"range":{"@timestamp":{"gte":"2021-05-05T09:27:12.529+0000","lt":"2021-05-05T11:00:00Z"}}}}'
expect "_count with range on @timestamp" 200 '"count":2'

req POST "/$I/_count" "${JSON[@]}" -d '{"query":{"range":{"@timestamp":{"gte":"2021-05-05T09:27:12.529Z","lte":1620214032529,"format":"strict_date_optional_time||epoch_millis"}}}}'
expect "_count with range mixing a string and a number bound (explicit format)" 200 '"count":4'

req POST "/$I/_search?filter_path=hits.hits.sort" "${JSON[@]}" -d '{"size":2,"sort":[{"@timestamp":"asc"}],"search_after":[1620206832529]}'
expect "_search sort on @timestamp + search_after" 200 '^\{"hits":\{"hits":\[\{"sort":\[1620210432529\]\},\{"sort":\[1620214032529\]\}\]\}\}$'

req POST "/$I/_pit?keep_alive=1m"
pit="$(field id)"
expect "open point in time" 200 '"id":'
req POST "/_search?filter_path=pit_id,hits.hits.sort" "${JSON[@]}" \
  -d "{\"size\":2,\"pit\":{\"id\":\"$pit\",\"keep_alive\":\"1m\"},\"sort\":[{\"@timestamp\":\"asc\"},{\"_shard_doc\":\"asc\"}],\"search_after\":[1620206832529,0]}"
expect "search with pit + _shard_doc tiebreaker + search_after" 200 '"sort":\[1620210432529,1\]'
req DELETE /_pit "${JSON[@]}" -d "{\"id\":\"$pit\"}"
expect "close point in time" 200 '"succeeded":true'

req POST "/$I/_search?scroll=1m&filter_path=_scroll_id,hits.hits._id" "${JSON[@]}" -d '{"size":4,"sort":["_doc"]}'
sid="$(field _scroll_id)"
expect "search with scroll=1m" 200 '"_scroll_id":'
req POST "/_search/scroll?filter_path=_scroll_id,hits.hits._id" "${JSON[@]}" -d "{\"scroll\":\"1m\",\"scroll_id\":\"$sid\"}"
expect "POST /_search/scroll (second page: 2 hits)" 200 '"hits":\[\{"_id":"[^"]*"\},\{"_id":"[^"]*"\}\]'
req DELETE /_search/scroll "${JSON[@]}" -d "{\"scroll_id\":\"$sid\"}"
expect "clear scroll" 200 '"succeeded":true'

req POST "/$I/_search?size=0&filter_path=aggregations" "${JSON[@]}" \
  -d '{"aggs":{"h":{"date_histogram":{"field":"@timestamp","fixed_interval":"1h"}}}}'
expect "date_histogram fixed_interval 1h" 200 '"key_as_string":"2021-05-05T11:00:00.000Z","key":1620212400000,"doc_count":3'

req POST "/$I/_search?size=0&filter_path=aggregations" "${JSON[@]}" \
  -d '{"aggs":{"t":{"terms":{"field":"message.level.keyword"}},"mn":{"min":{"field":"@timestamp"}},"c":{"composite":{"sources":[{"l":{"terms":{"field":"message.level.keyword"}}}]}}}}'
expect "terms, min, composite aggregations" 200 '"key":"info","doc_count":6'

req POST "/$I/_count" "${COMPAT[@]}" -d '{"query":{"match_all":{}}}'
expect "Accept/Content-Type compatible-with=8 (JS client 8.x)" 200 '"count":6'

req GET /_cluster/health -H 'Accept: application/vnd.elasticsearch+json; compatible-with=9'
expect "compatible-with=9 (JS client 9.x) is rejected" 400 'Accept version must be either version 8 or 7'

req GET /
expect "GET / is not available (no rest-root: client.info()/ping() fail)" 405

req DELETE "/$I"
expect "delete index" 200 '"acknowledged":true'
req GET "/$I/_count"
expect "deleted index is gone" 404

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
