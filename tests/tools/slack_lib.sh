# slack_lib.sh - setup shared by tests/integration/slack_*.sh. Source it after
# tests/integration/lib.sh: . "$SRC_DIR/tests/tools/slack_lib.sh"
# (Kept out of tests/integration/ so CMake does not register it as a test.)
#
#   STANDIN                           the stand-in's path (for --report)
#   slack_standin [SUFFIX [ARGS...]]  starts tests/tools/slack_standin.py (ARGS: --plan ...),
#                                     port in $T/port$SUFFIX, posts recorded in
#                                     $T/slack$SUFFIX.jsonl; returns once it listens
#   slack_url [SUFFIX [TOKEN]]        the stand-in's webhook URL (a Slack-shaped path whose
#                                     last part is the secret; default SECRETxTOKENxQ7)
#   slack_conf_agent                  the [agent] section: was-1, $T/data, rescans at 250ms
#   slack_conf_web                    [input web]: $T/logs/access.log, nginx_combined
#   slack_conf_app [TIMEOUT]          [input app]: $T/logs/app.log, spring_boot, multiline =
#                                     java (and multiline.timeout = TIMEOUT when given)
STANDIN="$SRC_DIR/tests/tools/slack_standin.py"
slack_standin() {
    local sfx=${1:-}
    if [ $# -gt 0 ]; then shift; fi
    rm -f "$T/port$sfx"
    python3 "$STANDIN" --port-file "$T/port$sfx" \
        --record "$T/slack$sfx.jsonl" "$@" >/dev/null 2>&1 &
    LF_BG_PIDS="${LF_BG_PIDS:-} $!"
    wait_for "[ -s $T/port$sfx ]" 10 || fail "stand-in$sfx did not start"
}
slack_url() {
    echo "http://127.0.0.1:$(cat "$T/port${1:-}")/services/T0LF/B0LF/${2:-SECRETxTOKENxQ7}"
}
slack_conf_agent() {
    printf '[agent]\nname = was-1\ndata_dir = %s\nrescan_interval = 250ms\n' "$T/data"
}
slack_conf_web() {
    printf '[input web]\npaths = %s\nparser = nginx_combined\n' "$T/logs/access.log"
}
slack_conf_app() {
    printf '[input app]\npaths = %s\nparser = spring_boot\nmultiline = java\n' "$T/logs/app.log"
    [ -z "${1:-}" ] || printf 'multiline.timeout = %s\n' "$1"
}
