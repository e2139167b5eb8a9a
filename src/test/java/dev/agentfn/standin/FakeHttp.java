package dev.agentfn.standin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Plain java.net.http client helpers for the fake's tests, plus an SSE parser. */
final class FakeHttp {
    static final ObjectMapper MAPPER = new ObjectMapper();
    // HTTP/1.1 explicitly: the default would try an h2c upgrade, which the JDK server ignores.
    static final HttpClient CLIENT = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    /** One parsed SSE frame. */
    record SseEvent(String event, JsonNode data) {
    }

    private FakeHttp() {
    }

    /** A minimal valid Messages request with one user message. */
    static String body(boolean stream, String userText) {
        ObjectNode body = MAPPER.createObjectNode();
        body.put("model", "claude-test-1");
        body.put("max_tokens", 1024);
        body.putArray("messages").addObject().put("role", "user").put("content", userText);
        if (stream) {
            body.put("stream", true);
        }
        return body.toString();
    }

    static HttpRequest.Builder messagesRequest(FakeAnthropicServer fake, String pathAndQuery, String body) {
        return HttpRequest.newBuilder(URI.create(fake.baseUrl() + pathAndQuery))
                .timeout(Duration.ofSeconds(20))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }

    /** POST /v1/messages with valid credentials and version headers. */
    static HttpResponse<String> messages(FakeAnthropicServer fake, String body) {
        return send(messagesRequest(fake, "/v1/messages", body)
                .header("x-api-key", "test-key")
                .header("anthropic-version", "2023-06-01")
                .build());
    }

    static HttpResponse<String> send(HttpRequest request) {
        try {
            return CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static HttpResponse<String> get(FakeAnthropicServer fake, String path) {
        return send(HttpRequest.newBuilder(URI.create(fake.baseUrl() + path)).GET().build());
    }

    static HttpResponse<String> post(FakeAnthropicServer fake, String path, String body) {
        return send(HttpRequest.newBuilder(URI.create(fake.baseUrl() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    static JsonNode json(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Strict parser: every frame must be exactly {@code event:} then {@code data:} then a blank line. */
    static List<SseEvent> parseSse(String stream) {
        List<SseEvent> events = new ArrayList<>();
        for (String frame : stream.split("\n\n", -1)) {
            if (frame.isEmpty()) {
                continue;
            }
            String[] lines = frame.split("\n");
            if (lines.length != 2 || !lines[0].startsWith("event: ") || !lines[1].startsWith("data: ")) {
                throw new AssertionError("malformed SSE frame: " + frame);
            }
            events.add(new SseEvent(lines[0].substring(7), json(lines[1].substring(6))));
        }
        if (!stream.endsWith("\n\n")) {
            throw new AssertionError("stream does not end with a complete frame");
        }
        return events;
    }

    static List<String> types(List<SseEvent> events) {
        return events.stream().map(SseEvent::event).toList();
    }

    /** Concatenates text/partial_json/thinking deltas of one block, as a client would. */
    static String joinedDeltas(List<SseEvent> events, int index, String field) {
        StringBuilder out = new StringBuilder();
        for (SseEvent e : events) {
            if (e.event().equals("content_block_delta") && e.data().get("index").asInt() == index
                    && e.data().get("delta").has(field)) {
                out.append(e.data().get("delta").get(field).asText());
            }
        }
        return out.toString();
    }

    static ArrayNode array(String text) {
        return (ArrayNode) json(text);
    }
}
