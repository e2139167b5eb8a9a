package dev.agentfn;

import java.util.function.UnaryOperator;

/**
 * Text from outside (a caller's field, an upstream message, an exception that quotes either) made safe for
 * one log line: control characters are escaped, so a value cannot forge a log line, hide in a terminal or
 * put a NUL into a log file; backslashes are doubled so an escape is never ambiguous; long text is cut.
 * Every log statement that can carry such text passes it through here.
 */
public final class LogText {
    /** Enough to recognise a value; a caller cannot flood the log with a megabyte per line. */
    static final int MAX_CHARS = 1000;

    private LogText() {
    }

    public static String escape(Object value) {
        String s = String.valueOf(value);
        int n = Math.min(s.length(), MAX_CHARS);
        StringBuilder b = null;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            String e = escaped(c);
            if (e != null && b == null) {
                b = new StringBuilder(n + 16).append(s, 0, i);
            }
            if (b != null) {
                b.append(e != null ? e : String.valueOf(c));
            }
        }
        String out = b == null ? s.substring(0, n) : b.toString();
        return s.length() > n ? out + "…(" + (s.length() - n) + " more chars)" : out;
    }

    /**
     * A throwable for a log statement's stack trace: the same frames and causes, with every message escaped.
     * Exception messages often quote the input that failed (a JSON parser's, a URI's), and the log prints them raw.
     */
    public static Throwable escape(Throwable t) {
        return rewrite(t, LogText::escape);
    }

    /** A throwable for a log statement: the same frames and causes, each {@code class: message} line rewritten. */
    public static Throwable rewrite(Throwable t, UnaryOperator<String> text) {
        return t == null ? null : new Escaped(t, text, 0);
    }

    private static String escaped(char c) {
        return switch (c) {
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            case '\\' -> "\\\\";
            // C0, DEL, C1 and the Unicode line separators: each can end or rewrite a line somewhere.
            default -> Character.isISOControl(c) || c == '\u2028' || c == '\u2029'
                    ? String.format("\\u%04x", (int) c) : null;
        };
    }

    /** Prints as the original would ({@code class: message}), rewritten; the frames are the original's. */
    private static final class Escaped extends RuntimeException {
        private final String text;

        Escaped(Throwable original, UnaryOperator<String> rewrite, int depth) {
            super(null, original.getCause() == null || original.getCause() == original || depth >= 8 ? null
                    : new Escaped(original.getCause(), rewrite, depth + 1), false, true);
            this.text = rewrite.apply(original.toString());
            setStackTrace(original.getStackTrace());
        }

        @Override
        public String toString() {
            return text;
        }

        @Override
        public String getMessage() {
            return text;
        }
    }
}
