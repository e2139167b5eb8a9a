package dev.agentfn.gateway;

import dev.agentfn.LogText;
import dev.agentfn.tracing.Ids;

/**
 * A caller's value as the gateway's traces hold it in trace metadata and identifying attributes (session id, user,
 * model, Claude Code version and entrypoint, agent id): the request goes upstream unchanged, but MLflow 3.17.2
 * refuses a trace whose session id is over 250 characters ({@code validate_session_id}, on StartTraceV3 and on
 * span ingest alike), SQL backends store 250 (metadata) to 8000 characters, PostgreSQL refuses a NUL, and a
 * lone UTF-16 surrogate cannot be written as UTF-8 at all. So: control characters escaped as {@link LogText}
 * escapes them (a NUL becomes <code>\\u0000</code>), lone surrogates escaped the same way, and past {@link #MAX}
 * characters cut, ending in {@code …} and a digest of the whole value, so two long values that differ only past
 * the cut are still two values. A plain value (what Claude Code sends: UUIDs, {@code claude-cli/2.1.330}) is
 * kept exactly as it came.
 */
final class TracedText {
    /** MLflow's {@code MAX_CHARS_IN_TRACE_INFO_METADATA}: its session id limit and what every backend keeps. */
    static final int MAX = 250;
    /** {@code …} and 16 hex digits. */
    private static final int DIGEST = 17;

    private TracedText() {
    }

    static String of(String value) {
        if (value == null) {
            return null;
        }
        String escaped = LogText.escape(surrogatesEscaped(value));
        if (escaped.length() <= MAX) { // LogText cuts only past 1000 characters
            return escaped;
        }
        int cut = MAX - DIGEST;
        if (Character.isHighSurrogate(escaped.charAt(cut - 1))) {
            cut--;
        }
        return escaped.substring(0, cut) + "…" + Ids.derived(8, value);
    }

    private static String surrogatesEscaped(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean pair = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
            boolean lone = Character.isSurrogate(c) && !pair;
            if (lone && b == null) {
                b = new StringBuilder(s.length() + 8).append(s, 0, i);
            }
            if (b != null) {
                b.append(lone ? String.format("\\u%04x", (int) c) : String.valueOf(c));
                if (pair) {
                    b.append(s.charAt(++i));
                }
            } else if (pair) {
                i++;
            }
        }
        return b == null ? s : b.toString();
    }
}
