package dev.agentfn.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.Executors;

/**
 * A fake OpenAI chat-completions endpoint ({@code POST /v1/chat/completions}) answering as OpenAI does:
 * a JSON completion with {@code choices[0].message.content}, {@code finish_reason} and {@code usage}, or an
 * error body {@code {"error":{"message","type","param","code"}}} with its status and headers. Answers are
 * scripted in order; with none left it answers a "yes" judgement. Every request is recorded as sent.
 */
public final class FakeOpenAiServer {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A scripted answer: a completion with {@code content}, or an error {@code body}. */
    public record Reply(int status, String content, String body, Map<String, String> headers) {
    }

    /** A request as received: path, headers (lower-case names) and body. */
    public record Recorded(String path, Map<String, String> headers, String body) {
        public ObjectNode json() {
            try {
                return (ObjectNode) JSON.readTree(body);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private final Queue<Reply> script = new ArrayDeque<>();
    private final List<Recorded> requests = new ArrayList<>();
    private HttpServer server;
    private int counter;

    public FakeOpenAiServer start() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
        return this;
    }

    /** The base URL as OpenAI's clients take it, version included. */
    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    public static Reply text(String content) {
        return new Reply(200, content, null, Map.of("content-type", "application/json"));
    }

    public static Reply error(int status, String type, String code, String message, Map<String, String> headers) {
        ObjectNode error = JSON.createObjectNode();
        error.putObject("error").put("message", message).put("type", type).putNull("param").put("code", code);
        Map<String, String> h = new TreeMap<>(headers);
        h.put("content-type", "application/json");
        return new Reply(status, null, error.toString(), h);
    }

    public synchronized void enqueue(Reply... replies) {
        script.addAll(List.of(replies));
    }

    public synchronized void reset() {
        script.clear();
        requests.clear();
    }

    public synchronized List<Recorded> requests() {
        return List.copyOf(requests);
    }

    private void handle(HttpExchange ex) throws IOException {
        String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        Map<String, String> headers = new TreeMap<>();
        ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), String.join(",", v)));
        Reply reply;
        int n;
        synchronized (this) {
            requests.add(new Recorded(ex.getRequestURI().getPath(), headers, body));
            reply = script.poll();
            n = ++counter;
        }
        if (!ex.getRequestMethod().equals("POST") || !ex.getRequestURI().getPath().equals("/v1/chat/completions")) {
            reply = error(404, "invalid_request_error", "unknown_url", "Unknown request URL: "
                    + ex.getRequestMethod() + " " + ex.getRequestURI().getPath(), Map.of());
        } else if (reply == null) {
            reply = text("{\"result\":\"yes\",\"rationale\":\"the fake's default judgement\"}");
        }
        String answer = reply.body() != null ? reply.body() : completion(reply, body, n);
        reply.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        StubHttp.respond(ex, reply.status(), answer);
    }

    /** The body of a 200: the scripted content in OpenAI's shape, the model echoed from the request. */
    private static String completion(Reply reply, String request, int n) throws IOException {
        String model = JSON.readTree(request).path("model").asText("unknown");
        String content = reply.content();
        ObjectNode doc = JSON.createObjectNode().put("id", "chatcmpl-fake" + n).put("object", "chat.completion")
                .put("created", System.currentTimeMillis() / 1000).put("model", model);
        ObjectNode choice = doc.putArray("choices").addObject().put("index", 0);
        choice.putObject("message").put("role", "assistant").put("content", content).putNull("refusal");
        choice.put("finish_reason", "stop");
        doc.putObject("usage").put("prompt_tokens", 42).put("completion_tokens", 7).put("total_tokens", 49);
        return doc.toString();
    }
}
