package dev.agentfn.testing;

import com.sun.net.httpserver.HttpServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A local HTTP server behind the deployment's HTTP tools: {@code weather} answers after 300 ms,
 * {@code clock} after 300 ms, {@code broken} with HTTP 500. Each call is recorded with its timing.
 */
public class ToolServerResource implements QuarkusTestResourceLifecycleManager {
    /** One tool call as the server saw it. */
    public record Call(String path, String body, long startNanos, long endNanos) {
    }

    public static final List<Call> CALLS = new CopyOnWriteArrayList<>();
    private static HttpServer server;

    @Override
    public synchronized Map<String, String> start() {
        if (server == null) {
            server = create();
        }
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        return Map.ofEntries(
                Map.entry("agentfn.tools.http.weather.url", base + "/weather"),
                Map.entry("agentfn.tools.http.weather.description", "Current weather for a city"),
                Map.entry("agentfn.tools.http.weather.input-schema",
                        "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}"),
                Map.entry("agentfn.tools.http.clock.url", base + "/clock"),
                Map.entry("agentfn.tools.http.clock.description", "Current time in a city"),
                Map.entry("agentfn.tools.http.broken.url", base + "/broken"),
                Map.entry("agentfn.tools.http.broken.description", "Always fails"),
                Map.entry("agentfn.tools.allowed-hosts", "127.0.0.1"));
    }

    @Override
    public void stop() {
        // shared by every test class of the JVM
    }

    private static HttpServer create() {
        try {
            HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            s.setExecutor(Executors.newFixedThreadPool(8));
            s.createContext("/", exchange -> {
                long start = System.nanoTime();
                String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                String path = exchange.getRequestURI().getPath();
                sleep(300);
                int status = path.equals("/broken") ? 500 : 200;
                String answer = switch (path) {
                    case "/weather" -> "{\"temp_c\":21,\"sky\":\"clear\",\"input\":" + body + "}";
                    case "/clock" -> "{\"time\":\"12:00\"}";
                    default -> "internal failure";
                };
                byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(status, bytes.length);
                exchange.getResponseBody().write(bytes);
                exchange.close();
                CALLS.add(new Call(path, body, start, System.nanoTime()));
            });
            s.start();
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
