package dev.agentfn.conversation.messages;

import java.util.function.BiConsumer;

/**
 * Incremental parser of a {@code text/event-stream}, fed line by line. Dispatches
 * {@code (event, data)} on each blank line; comments and unknown fields are ignored.
 * Not thread-safe: one parser per response.
 */
final class SseParser {
    private final BiConsumer<String, String> onEvent;
    private String event;
    private StringBuilder data;

    SseParser(BiConsumer<String, String> onEvent) {
        this.onEvent = onEvent;
    }

    void line(String line) {
        if (line.isEmpty()) {
            dispatch();
        } else if (line.startsWith("event:")) {
            event = value(line, 6);
        } else if (line.startsWith("data:")) {
            if (data == null) {
                data = new StringBuilder();
            } else {
                data.append('\n');
            }
            data.append(value(line, 5));
        }
    }

    /** Delivers an event left pending when the stream ended without its blank line. */
    void end() {
        dispatch();
    }

    private void dispatch() {
        if (data != null) {
            onEvent.accept(event == null ? "message" : event, data.toString());
        }
        event = null;
        data = null;
    }

    private static String value(String line, int from) {
        return line.length() > from && line.charAt(from) == ' ' ? line.substring(from + 1) : line.substring(from);
    }
}
