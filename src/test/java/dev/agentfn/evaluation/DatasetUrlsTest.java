package dev.agentfn.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** URL datasets against a loopback server: formats, line numbers, and every safety limit. */
class DatasetUrlsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String ROWS = "{\"inputs\":{\"prompt\":\"a\"},\"expectations\":{\"expected_response\":\"A\"}}\n\n"
            + "{\"inputs\":{\"prompt\":\"b\"}}\n";
    HttpServer server;
    String base;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        byte[] body = ROWS.getBytes(StandardCharsets.UTF_8);
        String type = "application/octet-stream";
        int status = 200;
        switch (path) {
            case "/rows.jsonl" -> { }
            case "/export" -> type = "application/x-ndjson; charset=utf-8";
            case "/table" -> {
                type = "text/csv";
                body = "prompt,expected_response\n\"two\nlines\",x\nb,y\n".getBytes(StandardCharsets.UTF_8);
            }
            case "/bad.jsonl" -> body = "{\"inputs\":{\"prompt\":\"a\"}}\n{\"inputs\":{\"prompt\":}\n"
                    .getBytes(StandardCharsets.UTF_8);
            case "/latin1.jsonl" -> body = "{\"inputs\":{\"prompt\":\"caf\u00e9\"}}\n".getBytes(StandardCharsets.ISO_8859_1);
            case "/big.jsonl" -> body = ("{\"inputs\":{\"prompt\":\"" + "x".repeat(5000) + "\"}}\n").getBytes(StandardCharsets.UTF_8);
            case "/same-host-redirect" -> {
                ex.getResponseHeaders().add("Location", "/rows.jsonl");
                status = 302;
                body = new byte[0];
            }
            case "/other-host-redirect" -> {
                ex.getResponseHeaders().add("Location", "http://localhost:" + server.getAddress().getPort() + "/rows.jsonl");
                status = 302;
                body = new byte[0];
            }
            case "/slow.jsonl" -> {
                try {
                    Thread.sleep(3000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            default -> {
                status = 404;
                body = "no".getBytes(StandardCharsets.UTF_8);
            }
        }
        ex.getResponseHeaders().add("Content-Type", type);
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (var out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    Datasets datasets(Set<String> hosts, boolean plainHttp, long maxBytes, Duration timeout) {
        return new Datasets(JSON, Optional.empty(), 100,
                new DatasetFetcher(hosts, plainHttp, maxBytes, timeout, DatasetFetcher.client()));
    }

    Datasets datasets() {
        return datasets(Set.of("127.0.0.1"), true, 4096, Duration.ofSeconds(10));
    }

    String fails(Datasets d, String url) {
        return assertThrows(EvaluationException.class, () -> d.url(url)).getMessage();
    }

    @Test
    void jsonlByExtensionAndByContentTypeCsvByContentType() {
        Dataset d = datasets().url(base + "/rows.jsonl?token=secret");
        assertEquals(2, d.rows().size());
        assertEquals("A", d.rows().get(0).expectations().get("expected_response").asText());
        assertEquals("line 3", d.rows().get(1).where());
        assertEquals(base + "/rows.jsonl", d.source(), "the query (may hold a token) is not kept");
        assertEquals("http", d.origin().sourceType());
        assertEquals("{\"url\":\"" + base + "/rows.jsonl\"}", d.origin().sourceJson());

        assertEquals(2, datasets().url(base + "/export").rows().size());
        Dataset csv = datasets().url(base + "/table");
        assertEquals("two\nlines", csv.rows().get(0).inputs().get("prompt").asText());
        assertEquals("line 4", csv.rows().get(1).where());
    }

    @Test
    void parseErrorsNameTheLineAsForFiles() {
        assertTrue(fails(datasets(), base + "/bad.jsonl").startsWith("line 2: malformed JSON"));
    }

    @Test
    void fetchErrorsSayWhatWentWrong() {
        assertEquals("dataset URL " + base + "/missing.jsonl answered HTTP 404", fails(datasets(), base + "/missing.jsonl"));
        assertEquals("dataset URL " + base + "/latin1.jsonl is not UTF-8", fails(datasets(), base + "/latin1.jsonl"));
        assertTrue(fails(datasets(), base + "/big.jsonl").contains("is larger than 4096 bytes (agentfn.evaluation.dataset-urls.max-size)"));
        String slow = fails(datasets(Set.of("127.0.0.1"), true, 4096, Duration.ofMillis(500)), base + "/slow.jsonl");
        assertTrue(slow.contains("did not download within PT0.5S (agentfn.evaluation.dataset-urls.timeout)"), slow);
        assertTrue(fails(datasets(), base + "/export.txt").contains("answered HTTP 404"));
    }

    @Test
    void redirectsAreFollowedOnlyOnTheSameHost() {
        assertEquals(2, datasets().url(base + "/same-host-redirect").rows().size());
        String e = fails(datasets(Set.of("127.0.0.1", "localhost"), true, 4096, Duration.ofSeconds(5)),
                base + "/other-host-redirect");
        assertTrue(e.contains("redirects to another host (localhost)"), e);
    }

    @Test
    void hostsAndSchemesAreTheDeployersChoice() {
        assertEquals("URL datasets are disabled; set agentfn.evaluation.dataset-urls.allowed-hosts",
                fails(new Datasets(JSON, Optional.empty(), 100), base + "/rows.jsonl"));
        assertEquals("URL datasets are disabled; set agentfn.evaluation.dataset-urls.allowed-hosts",
                fails(datasets(Set.of(), true, 4096, Duration.ofSeconds(5)), base + "/rows.jsonl"));
        assertEquals("dataset URL " + base + "/rows.jsonl: only https:// URLs are accepted",
                fails(datasets(Set.of("127.0.0.1"), false, 4096, Duration.ofSeconds(5)), base + "/rows.jsonl"));
        assertEquals("dataset URL host localhost is not in agentfn.evaluation.dataset-urls.allowed-hosts",
                fails(datasets(), "http://localhost:" + server.getAddress().getPort() + "/rows.jsonl"));
        assertTrue(fails(datasets(), "file:///etc/passwd").startsWith("dataset.url is not a URL with a host"));
    }
}
