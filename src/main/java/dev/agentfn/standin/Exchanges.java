package dev.agentfn.standin;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Response helpers; every response carries {@code request-id} and {@code content-type}. */
final class Exchanges {
    static final String JSON = "application/json";
    static final String SSE = "text/event-stream";
    private static final String REQUEST_ID = "dev.agentfn.standin.request-id";

    private Exchanges() {
    }

    /** Assigns the request id before anything else so even failures can report it. */
    static String assignRequestId(HttpExchange ex) {
        String id = Ids.request();
        ex.setAttribute(REQUEST_ID, id);
        ex.getResponseHeaders().set("request-id", id);
        return id;
    }

    static String requestId(HttpExchange ex) {
        return (String) ex.getAttribute(REQUEST_ID);
    }

    static void sendJson(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("content-type", JSON);
        if ("HEAD".equals(ex.getRequestMethod())) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    static void sendError(HttpExchange ex, FakeTurn.HttpError error) throws IOException {
        error.headers().forEach((name, value) -> ex.getResponseHeaders().set(name, value));
        sendJson(ex, error.status(), MessageJson.errorBody(error.type(), error.message(), requestId(ex)));
    }

    static void sendError(HttpExchange ex, int status, String type, String message) throws IOException {
        sendError(ex, FakeTurn.error(status, type, message, Map.of()));
    }

    /** Starts a chunked 200 SSE response; each later flush becomes one chunk on the wire. */
    static SseStream startSse(HttpExchange ex) throws IOException {
        ex.getResponseHeaders().set("content-type", SSE);
        ex.getResponseHeaders().set("cache-control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        return new SseStream(ex.getResponseBody());
    }
}
