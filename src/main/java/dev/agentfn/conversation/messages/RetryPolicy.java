package dev.agentfn.conversation.messages;

import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.function.DoubleSupplier;

/**
 * The official SDKs' retry policy (claude-conversations spec 1.6): {@code x-should-retry} first;
 * 408, 409, 429 and 5xx retried; a server-given delay honoured when 0 &lt; delay &le; the cap
 * (60 s, as Python bounds it); otherwise {@code min(0.5·2^(n−1), 8)} s with up to 25 % jitter.
 */
public final class RetryPolicy {
    private final int maxRetries;
    private final Duration maxServerDelay;
    private final DoubleSupplier random;

    public RetryPolicy(int maxRetries, Duration maxServerDelay, DoubleSupplier random) {
        this.maxRetries = maxRetries;
        this.maxServerDelay = maxServerDelay;
        this.random = random;
    }

    public int maxRetries() {
        return maxRetries;
    }

    /** @param status 0 for a connection error or a stream that broke before any delta was relayed */
    public boolean retryable(int status, HttpHeaders headers) {
        Optional<String> should = headers == null ? Optional.empty() : headers.firstValue("x-should-retry");
        if (should.isPresent()) {
            return should.get().equalsIgnoreCase("true");
        }
        return status == 0 || status == 408 || status == 409 || status == 429 || status >= 500;
    }

    /** Delay before retry number {@code retry} (1-based). */
    public Duration delay(int retry, HttpHeaders headers) {
        return serverDelay(headers).orElseGet(() -> backoff(retry));
    }

    Duration backoff(int retry) {
        double seconds = Math.min(0.5 * Math.pow(2, retry - 1), 8.0);
        double jitter = 1 - 0.25 * random.getAsDouble();
        return Duration.ofNanos((long) (seconds * jitter * 1e9));
    }

    /** The server's hint, from {@code retry-after-ms}, else {@code retry-after} (seconds or an HTTP date). */
    Optional<Duration> serverDelay(HttpHeaders headers) {
        if (headers == null) {
            return Optional.empty();
        }
        Optional<Duration> hint = headers.firstValue("retry-after-ms").flatMap(RetryPolicy::millis)
                .or(() -> headers.firstValue("retry-after").flatMap(RetryPolicy::secondsOrDate));
        return hint.filter(d -> !d.isNegative() && !d.isZero() && d.compareTo(maxServerDelay) <= 0);
    }

    private static Optional<Duration> millis(String v) {
        try {
            return Optional.of(Duration.ofNanos((long) (Double.parseDouble(v.trim()) * 1e6)));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Optional<Duration> secondsOrDate(String v) {
        try {
            return Optional.of(Duration.ofNanos((long) (Double.parseDouble(v.trim()) * 1e9)));
        } catch (NumberFormatException e) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(v.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
                return Optional.of(Duration.between(ZonedDateTime.now(at.getZone()), at));
            } catch (RuntimeException e2) {
                return Optional.empty();
            }
        }
    }
}
