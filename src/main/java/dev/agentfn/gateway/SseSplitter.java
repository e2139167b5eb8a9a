package dev.agentfn.gateway;

import io.vertx.core.buffer.Buffer;
import java.util.function.Consumer;

/**
 * Cuts a {@code text/event-stream} into its events, each as the exact bytes that came (the blank line that ends it
 * included), so the relay forwards byte for byte and can still hold one event back. Lines end in LF or CRLF.
 * Not thread-safe: one per response.
 */
final class SseSplitter {
    private final Consumer<Buffer> onEvent;
    private Buffer pending = Buffer.buffer();
    /** Where the current line starts in {@link #pending}. */
    private int lineStart;
    /** How far {@link #pending} was scanned. */
    private int scanned;

    SseSplitter(Consumer<Buffer> onEvent) {
        this.onEvent = onEvent;
    }

    void feed(Buffer chunk) {
        pending.appendBuffer(chunk);
        int eventStart = 0;
        for (int i = scanned; i < pending.length(); i++) {
            if (pending.getByte(i) != '\n') {
                continue;
            }
            int lineLength = i - lineStart;
            boolean blank = lineLength == 0 || lineLength == 1 && pending.getByte(lineStart) == '\r';
            lineStart = i + 1;
            if (blank && i + 1 > eventStart) {
                onEvent.accept(pending.getBuffer(eventStart, i + 1));
                eventStart = i + 1;
            }
        }
        if (eventStart > 0) {
            pending = pending.getBuffer(eventStart, pending.length());
            lineStart -= eventStart;
        }
        scanned = pending.length();
    }

    /** What is left when the stream ends without a closing blank line, if anything. */
    void end() {
        if (pending.length() > 0) {
            onEvent.accept(pending);
            pending = Buffer.buffer();
        }
    }

    /** The {@code event:} name and {@code data:} payload of one event's bytes ({@code data} null when none). */
    record Parsed(String event, String data) {
        static Parsed of(Buffer raw) {
            String event = null;
            StringBuilder data = null;
            String text = raw.toString(java.nio.charset.StandardCharsets.UTF_8);
            // lines cut by hand: String.split("\r?\n") compiles its regex anew for every event of every answer
            for (int start = 0; start < text.length(); ) {
                int nl = text.indexOf('\n', start);
                int next = nl < 0 ? text.length() : nl + 1;
                int end = nl < 0 ? text.length() : nl > start && text.charAt(nl - 1) == '\r' ? nl - 1 : nl;
                if (text.startsWith("event:", start)) {
                    event = value(text, start + 6, end);
                } else if (text.startsWith("data:", start)) {
                    data = data == null ? new StringBuilder() : data.append('\n');
                    data.append(value(text, start + 5, end));
                }
                start = next;
            }
            return new Parsed(event == null ? "message" : event, data == null ? null : data.toString());
        }

        /** The field's value: from {@code from} to {@code end}, one leading space left out. */
        private static String value(String text, int from, int end) {
            return from < end && text.charAt(from) == ' ' ? text.substring(from + 1, end) : text.substring(from, end);
        }
    }
}
