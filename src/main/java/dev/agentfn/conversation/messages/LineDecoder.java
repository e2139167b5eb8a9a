package dev.agentfn.conversation.messages;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Splits a byte stream into UTF-8 lines ending in LF, CR or CRLF (the SSE rule), whatever the chunk
 * boundaries. Splitting bytes before decoding is safe: no UTF-8 multi-byte sequence contains CR or LF.
 * Not thread-safe: one decoder per response.
 */
final class LineDecoder {
    private final Consumer<String> onLine;
    private byte[] pending = new byte[512];
    private int pendingLength;
    private boolean afterCr;

    LineDecoder(Consumer<String> onLine) {
        this.onLine = onLine;
    }

    void feed(byte[] chunk) {
        int start = 0;
        for (int i = 0; i < chunk.length; i++) {
            byte b = chunk[i];
            if (b == '\n' && afterCr) {
                afterCr = false;
                start = i + 1;
            } else if (b == '\n' || b == '\r') {
                line(chunk, start, i);
                start = i + 1;
                afterCr = b == '\r';
            } else {
                afterCr = false;
            }
        }
        keep(chunk, start, chunk.length);
    }

    /** Delivers a last line that had no terminator. */
    void end() {
        if (pendingLength > 0) {
            line(pending, 0, 0);
        }
    }

    private void line(byte[] chunk, int from, int to) {
        if (pendingLength == 0) {
            onLine.accept(new String(chunk, from, to - from, StandardCharsets.UTF_8));
            return;
        }
        if (chunk != pending) {
            keep(chunk, from, to);
        }
        String line = new String(pending, 0, pendingLength, StandardCharsets.UTF_8);
        pendingLength = 0;
        onLine.accept(line);
    }

    private void keep(byte[] chunk, int from, int to) {
        int n = to - from;
        if (n <= 0) {
            return;
        }
        if (pendingLength + n > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + n));
        }
        System.arraycopy(chunk, from, pending, pendingLength, n);
        pendingLength += n;
    }
}
