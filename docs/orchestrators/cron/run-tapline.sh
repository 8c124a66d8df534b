#!/bin/sh
# One scheduled `tapline run`, for cron: never two at once (flock), the exit code mapped to what
# cron should do with it, and each run's --summary-json line appended to a log for monitoring.
#   */15 * * * *  /opt/tapline/run-tapline.sh /srv/tapline --all
# (see crontab in this folder). Arguments: the project folder, then tapline run's arguments.
set -u
project="${1:?usage: run-tapline.sh PROJECT_DIR [tapline run arguments]}"
shift
cd "$project" || exit 3
mkdir -p logs

# A run still going when the next is due: skip this one (-n), quietly. tapline itself also refuses a
# second concurrent run of one pipeline (PostgreSQL state lock, DuckDB's single writer), but then
# the second would fail loudly instead of being skipped.
exec 9>.tapline-run.lock
if ! flock -n 9; then
  echo "$(date -u +%FT%TZ) previous run still going; skipped" >>logs/tapline.log
  exit 0
fi

tapline run "$@" --summary-json --log-format json >>logs/summary.jsonl 2>>logs/tapline.log
code=$?
case "$code" in
  0) ;;                                   # success
  6) code=0 ;;                            # partial: committed; the next run carries on (warning in the summary line)
  4 | 10 | 11 | 130) ;;                   # transient or one side failed: the next scheduled run retries; alert if it repeats
  *) echo "$(date -u +%FT%TZ) tapline exited $code: fix the configuration (see logs/tapline.log)" >&2 ;;
esac
# Anything cron sees on stderr is mailed (MAILTO); only codes a person must act on print there.
exit "$code"
