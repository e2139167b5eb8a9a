package dev.agentfn.tracing;

import java.util.HexFormat;
import java.util.Optional;
import java.security.SecureRandom;
import java.util.regex.Pattern;

/** Trace and span ids (lowercase hex) and the W3C {@code traceparent} header. */
public final class Ids {
    private static final HexFormat HEX = HexFormat.of();
    private static final Pattern TRACEPARENT = Pattern.compile("^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$");
    private static final String ZERO_TRACE = "0".repeat(32);
    private static final String ZERO_SPAN = "0".repeat(16);
    /**
     * Not ThreadLocalRandom: its seed would be frozen into a Lambda SnapStart snapshot (or a CRaC
     * checkpoint), and every restored instance would then produce the same ids.
     */
    private static final SecureRandom RANDOM = new SecureRandom();

    private Ids() {
    }

    public static String newTraceId() {
        return random(16);
    }

    public static String newSpanId() {
        return random(8);
    }

    /** A caller's trace and span id, when the header is valid W3C trace context. */
    public record Parent(String traceId, String spanId) {
        public String traceparent() {
            return "00-" + traceId + "-" + spanId + "-01";
        }
    }

    public static Optional<Parent> parseTraceparent(String header) {
        if (header == null) {
            return Optional.empty();
        }
        var m = TRACEPARENT.matcher(header.trim().toLowerCase());
        if (!m.matches() || m.group(1).equals(ZERO_TRACE) || m.group(2).equals(ZERO_SPAN)) {
            return Optional.empty();
        }
        return Optional.of(new Parent(m.group(1), m.group(2)));
    }

    private static String random(int bytes) {
        byte[] b = new byte[bytes];
        do {
            RANDOM.nextBytes(b);
        } while (allZero(b));
        return HEX.formatHex(b);
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
