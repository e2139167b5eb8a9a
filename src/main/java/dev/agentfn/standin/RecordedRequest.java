package dev.agentfn.standin;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;

/**
 * One request the fake received (control calls under {@code /_fake} are not recorded).
 *
 * @param path          path including the query string, e.g. {@code /v1/messages?beta=true}
 * @param headers       lower-cased names; repeated headers joined with {@code ", "}
 * @param body          raw body as UTF-8 text ({@code ""} if none)
 * @param json          parsed body, or {@code null} if it was not JSON; treat as read-only
 * @param receivedAt    wall-clock receive time
 * @param receivedNanos {@link System#nanoTime()} at receipt, for latency measurements
 */
public record RecordedRequest(String method, String path, Map<String, String> headers, String body,
                              JsonNode json, Instant receivedAt, long receivedNanos) {

    public RecordedRequest {
        headers = Map.copyOf(headers);
    }

    /** Header value by case-insensitive name, or {@code null}. */
    public String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }

    /** The path without the query string. */
    public String pathOnly() {
        int q = path.indexOf('?');
        return q < 0 ? path : path.substring(0, q);
    }

    /** True for {@code POST /v1/messages} (any query), the calls that consume a turn. */
    public boolean isMessages() {
        return "POST".equals(method) && "/v1/messages".equals(pathOnly());
    }
}
