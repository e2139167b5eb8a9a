package dev.agentfn.conversation.messages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The SDKs' retry rules (claude-conversations spec 1.6), without HTTP: what is retried and how long to wait. */
class RetryPolicyTest {
    /** Jitter at its largest (25 % off), so the expected delays are exact. */
    final RetryPolicy policy = new RetryPolicy(2, Duration.ofSeconds(60), () -> 1.0);

    @ParameterizedTest(name = "HTTP {0} retried: {1}")
    @CsvSource({"0,true", "400,false", "401,false", "403,false", "404,false", "408,true", "409,true", "413,false",
        "429,true", "500,true", "502,true", "503,true", "529,true"})
    void statusesAreRetriedAsTheSdksRetryThem(int status, boolean retried) {
        assertEquals(retried, policy.retryable(status, null));
    }

    @Test
    void xShouldRetryWinsOverTheStatus() {
        assertFalse(policy.retryable(529, headers(Map.of("x-should-retry", "false"))));
        assertTrue(policy.retryable(400, headers(Map.of("x-should-retry", "true"))));
    }

    @Test
    void backoffDoublesFromHalfASecondUpToEightWithJitterOff() {
        assertEquals(Duration.ofMillis(375), policy.delay(1, null));
        assertEquals(Duration.ofMillis(750), policy.delay(2, null));
        assertEquals(Duration.ofMillis(6000), policy.delay(6, null), "capped at 8 s before jitter");
        RetryPolicy noJitter = new RetryPolicy(2, Duration.ofSeconds(60), () -> 0.0);
        assertEquals(Duration.ofMillis(500), noJitter.delay(1, null));
    }

    @Test
    void theServersHintIsHonouredWithinTheCap() {
        assertEquals(Duration.ofMillis(1500), policy.delay(1, headers(Map.of("retry-after-ms", "1500"))));
        assertEquals(Duration.ofSeconds(2), policy.delay(1, headers(Map.of("retry-after", "2"))));
        assertEquals(Duration.ofMillis(250), policy.delay(1, headers(Map.of("retry-after-ms", "250",
                "retry-after", "9"))), "retry-after-ms first");
        assertEquals(Duration.ofMillis(375), policy.delay(1, headers(Map.of("retry-after", "120"))),
                "past the 60 s cap: the SDKs' own backoff");
        assertEquals(Duration.ofMillis(375), policy.delay(1, headers(Map.of("retry-after", "soon"))));
        assertEquals(Duration.ofMillis(375), policy.delay(1, headers(Map.of("retry-after", "0"))));
        String inTenSeconds = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(10));
        Duration date = policy.delay(1, headers(Map.of("retry-after", inTenSeconds)));
        assertTrue(date.compareTo(Duration.ofSeconds(8)) > 0 && date.compareTo(Duration.ofSeconds(11)) < 0, date.toString());
    }

    private static HttpHeaders headers(Map<String, String> values) {
        Map<String, List<String>> m = new java.util.HashMap<>();
        values.forEach((k, v) -> m.put(k, List.of(v)));
        return HttpHeaders.of(m, (a, b) -> true);
    }
}
