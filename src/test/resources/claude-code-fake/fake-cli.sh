#!/bin/bash
# A stand-in for the Claude Code CLI that speaks just enough stream-json to drive CliRun into each ending.
# MODE (environment): malformed | exit | control | hang | crash-idle (dies after initialize, before any user turn).
read -r init
id=$(printf '%s' "$init" | sed -E 's/.*"request_id":"([^"]+)".*/\1/')
echo '{"type":"control_response","response":{"subtype":"success","request_id":"'"$id"'","response":{"claude_code_version":"2.1.330"}}}'
[ "$MODE" = crash-idle ] && { sleep "${CRASH_AFTER:-0}"; exit 4; }
read -r user
case "$MODE" in
  malformed)
    echo 'a log line that is skipped'
    echo '{"type": broken'
    sleep 30 ;;
  exit)
    echo "boom $ANTHROPIC_API_KEY" >&2
    exit 3 ;;
  control)
    echo '{"type":"control_request","request_id":"h1","request":{"subtype":"hook_callback","callback_id":"x","input":{}}}'
    read -r hook
    echo '{"type":"control_cancel_request","request_id":"c1"}'
    echo '{"type":"control_request","request_id":"m1","request":{"subtype":"mcp_message","server_name":"s","message":{}}}'
    read -r mcp
    echo '{"type":"control_request","request_id":"p1","request":{"subtype":"can_use_tool","tool_name":"Write","input":{"file_path":"/etc/x"},"tool_use_id":"t1"}}'
    read -r perm
    replies=$(printf '%s\n%s\n%s' "$hook" "$mcp" "$perm" | base64 -w0)
    echo '{"type":"result","subtype":"success","is_error":false,"result":"'"$replies"'","session_id":"s"}'
    read -r rest || true
    exit 0 ;;
  hang)
    sleep 300 &
    echo $! > "$PIDFILE"
    sleep 300 ;;
esac
