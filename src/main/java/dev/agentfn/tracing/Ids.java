package dev.agentfn.tracing;

import java.util.HexFormat;
import java.util.Optional;
import java.security.SecureRandom;
import java.util.regex.Pattern;

/** Trace and span ids (lowercase hex) and the W3C {@code traceparent} header. */
public final class Ids {
    private static final HexFormat HEX = HexFormat.of();
    /**
     * W3C Trace Context, strictly: lowercase hex only, version {@code ff} invalid, version {@code 00} exactly
     * 55 characters, a later version at least that and anything more only after a dash (fields it adds).
     */
    private static final Pattern TRACEPARENT = Pattern.compile(
            "(?!ff)([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-.*)?", Pattern.DOTALL);
    private static final String ZERO_TRACE = "0".repeat(32);
    private static final String ZERO_SPAN = "0".repeat(16);
    /**
     * Not ThreadLocalRandom: its seed would be frozen into a Lambda SnapStart snapshot (or a CRaC
     * checkpoint), and every restored instance would then produce the same ids.
     */
    private static final SecureRandom RANDOM = new SecureRandom();
    /**
     * Cloned for each id: {@code MessageDigest.getInstance} searches the security providers on every call, which
     * cost more than the hashing itself (a gateway request derives several ids).
     */
    private static final java.security.MessageDigest SHA_256 = sha256();

    private Ids() {
    }

    public static String newTraceId() {
        return random(16);
    }

    public static String newSpanId() {
        return random(8);
    }

    /** A caller's trace and span id, when the header is valid W3C trace context: the parent of an invocation. */
    public record Parent(String traceId, String spanId) {
    }

    /** The W3C {@code traceparent} header (version 00, sampled) naming this trace and span. */
    public static String traceparent(String otelTraceId, String spanId) {
        return "00-" + otelTraceId + "-" + spanId + "-01";
    }

    /**
     * The caller's context, or empty when the header is absent or malformed: W3C says a receiver that cannot
     * parse {@code traceparent} starts a new trace, so a bad header is ignored rather than refused.
     */
    public static Optional<Parent> parseTraceparent(String header) {
        if (header == null) {
            return Optional.empty();
        }
        var m = TRACEPARENT.matcher(header.strip());
        if (!m.matches() || (m.group(1).equals("00") && m.group(4) != null)
                || m.group(2).equals(ZERO_TRACE) || m.group(3).equals(ZERO_SPAN)) {
            return Optional.empty();
        }
        return Optional.of(new Parent(m.group(2), m.group(3)));
    }

    /**
     * An id of {@code bytes} bytes derived from its parts (SHA-256): the same parts give the same id in every
     * process, so requests of one gateway turn served by different instances write one trace.
     */
    public static String derived(int bytes, String... parts) {
        java.security.MessageDigest sha = copy(SHA_256);
        for (String p : parts) {
            byte[] b = p.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            sha.update((byte) (b.length >>> 24));
            sha.update((byte) (b.length >>> 16));
            sha.update((byte) (b.length >>> 8));
            sha.update((byte) b.length);
            sha.update(b);
        }
        byte[] d = java.util.Arrays.copyOf(sha.digest(), bytes);
        if (allZero(d)) {
            d[bytes - 1] = 1;
        }
        return HEX.formatHex(d);
    }

    private static java.security.MessageDigest sha256() {
        try {
            return java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A fresh digest in the prototype's (initial) state; the JDK's SHA-256 is cloneable. */
    private static java.security.MessageDigest copy(java.security.MessageDigest prototype) {
        try {
            return (java.security.MessageDigest) prototype.clone();
        } catch (CloneNotSupportedException e) {
            return sha256();
        }
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
