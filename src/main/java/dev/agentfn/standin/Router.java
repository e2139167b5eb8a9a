package dev.agentfn.standin;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The single JDK handler: records the request, then routes by method and path. */
final class Router implements HttpHandler {
    private final FakeAnthropicServer server;
    private final MessagesEndpoint messages;
    private final ControlEndpoint control;

    Router(FakeAnthropicServer server) {
        this.server = server;
        this.messages = new MessagesEndpoint(server);
        this.control = new ControlEndpoint(server);
    }

    /**
     * IOExceptions and {@link AbortConnection} propagate on purpose: the JDK server then closes
     * the socket, which is the right reaction to a gone client and the point of a scripted drop.
     */
    @Override
    public void handle(HttpExchange ex) throws IOException {
        Instant receivedAt = Instant.now();
        long receivedNanos = System.nanoTime();
        Exchanges.assignRequestId(ex);
        try {
            if (!route(ex, receivedAt, receivedNanos)) {
                return; // answered later, off this thread (a turn's latency)
            }
        } catch (RuntimeException e) {
            if (e instanceof AbortConnection) {
                throw e;
            }
            internalError(ex, e);
        }
        ex.close();
    }

    /** @return {@code false} when the endpoint answers later and closes the exchange itself */
    private boolean route(HttpExchange ex, Instant receivedAt, long receivedNanos) throws IOException {
        String body = readBody(ex);
        String path = ex.getRequestURI().getRawPath();
        String method = ex.getRequestMethod();
        if (path.startsWith("/_fake/")) {
            control.handle(ex, method + " " + path, body);
            return true;
        }
        RecordedRequest req = record(ex, body, receivedAt, receivedNanos);
        switch (method + " " + path) {
            case "POST /v1/messages" -> {
                return messages.messages(ex, req);
            }
            case "POST /v1/messages/count_tokens" -> messages.countTokens(ex, req);
            case "HEAD /api/hello", "GET /api/hello" -> Exchanges.sendJson(ex, 200, hello());
            default -> Exchanges.sendError(ex, 404, "not_found_error", "Not found: " + method + " " + path);
        }
        return true;
    }

    private RecordedRequest record(HttpExchange ex, String body, Instant receivedAt, long receivedNanos) {
        String query = ex.getRequestURI().getRawQuery();
        String path = ex.getRequestURI().getRawPath() + (query == null ? "" : "?" + query);
        RecordedRequest req = new RecordedRequest(ex.getRequestMethod(), path, headers(ex), body,
                parseOrNull(body), receivedAt, receivedNanos);
        server.record(req);
        return req;
    }

    private static Map<String, String> headers(HttpExchange ex) {
        Map<String, String> out = new LinkedHashMap<>();
        ex.getRequestHeaders().forEach((name, values) ->
                out.merge(name.toLowerCase(Locale.ROOT), String.join(", ", values), (a, b) -> a + ", " + b));
        return out;
    }

    private static String readBody(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static JsonNode parseOrNull(String body) {
        if (body.isBlank()) {
            return null;
        }
        try {
            return MessageJson.MAPPER.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    private static JsonNode hello() {
        return MessageJson.MAPPER.createObjectNode().put("message", "hello");
    }

    /** A bug in the fake shows up as a 500 api_error, or as a dropped stream once the 200 is out. */
    static void internalError(HttpExchange ex, RuntimeException e) throws IOException {
        if (ex.getResponseCode() != -1) {
            throw e;
        }
        Exchanges.sendError(ex, 500, "api_error", "fake server failure: " + e);
    }
}
