#!/bin/bash
# labels: es
# timeout: 90
#   refused_documents_go_to_dead_letter_file: documents the stand-in refuses with 400
#     mapper_parsing_exception (lines whose number ends in 7) are written with the reason to
#     data_dir/dead-letter/elasticsearch-elasticsearch.ndjson; together with the indexed ones
#     every line is there exactly once, and the warning is logged once;
#   too_large_requests_are_split: the stand-in answers 413 over 20 kB; bulk_max_bytes is
#     100 KiB, so requests are split until they fit and nothing is lost;
#   dead_lettered_lines_are_committed: after a restart nothing old is sent again (no 409s).
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/es_lib.sh"
lf_setup
es_start --reject-regex '^line \d*7 ' --max-bytes 20000
es_conf "$T/agent.conf" "bulk_max_bytes = 100KiB"
gen_lines "$T/logs/app.log" 1 2000
start_agent "$T/agent.conf"
dl=$T/data/dead-letter/elasticsearch-elasticsearch.ndjson
wait_for "[ \$(es_stat created) -ge 1800 ] && [ \$(count_events $dl) -ge 200 ]" 30 ||
    fail "expected 1800 created and 200 dead letters, got $(es_stat created) and $(count_events $dl)"
[ "$(es_stat too_large)" -gt 0 ] || fail "no 413 happened: the split was not exercised"
python3 - "$dl" "$T/es/all.ndjson" <<'PY' || fail "dead-letter file malformed"
import json, sys
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as out:
    for ln in f:
        d = json.loads(ln)
        assert d["status"] == 400 and d["error"]["type"] == "mapper_parsing_exception", d
        assert d["error"]["reason"] and d["_id"] and d["_index"].startswith("logs-")
        assert d["document"]["message"].split()[1].endswith("7"), d
        out.write(json.dumps(d["document"]) + "\n")
PY
cat "$T/es/store.ndjson" >>"$T/es/all.ndjson"
seq_check "$T/es/all.ndjson" 1 2000 || fail "indexed + dead-lettered is not every line exactly once"
n=$(grep -c "refused a document" "$T/agent.log")
[ "$n" = 1 ] || fail "the refusal was logged $n times, expected once per kind"
stop_agent
start_agent "$T/agent.conf"
gen_lines "$T/logs/app.log" 2001 2100
wait_for "[ \$(es_stat created) -ge 1890 ]" 30 || fail "new lines after restart not indexed"
stop_agent
[ "$(es_stat conflicts)" = 0 ] || fail "$(es_stat conflicts) old documents were sent again after the restart"
echo "PASS es_refusals"
