package dev.agentfn.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two deployments on one host with the default spool setting (one {@code java.io.tmpdir}, so one spool root), each
 * tracing to its own MLflow server. One server is down while both answer invocations; the other deployment's drainer
 * runs every second meanwhile. Once the server is back, each MLflow holds exactly its own deployment's traces: none
 * of the other's, none lost, none duplicated. The packaged jar runs as two real processes (failsafe, after package).
 */
class SharedSpoolIT {
    static final Path JAR = MlflowServer.projectDir().resolve("target/quarkus-app/quarkus-run.jar");
    static final String EXPERIMENT = "shared-spool-it";
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static FakeAnthropicServer fake;
    static MlflowServer mlflowA;
    static MlflowServer mlflowB;
    static Path work;
    static final List<Process> apps = new ArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        assertTrue(Files.isRegularFile(JAR), JAR + " is missing: run the IT after `package` (./mvnw verify)");
        fake = new FakeAnthropicServer().start(0);
        mlflowA = MlflowServer.startSqlite();
        mlflowB = MlflowServer.startSqlite();
        work = Files.createTempDirectory(MlflowServer.projectDir().resolve("target"), "shared-spool-it-");
        Files.createDirectories(work.resolve("tmp"));
    }

    @AfterAll
    static void stop() {
        apps.forEach(Process::destroyForcibly);
        Stream.of(mlflowA, mlflowB).filter(s -> s != null).forEach(MlflowServer::close);
        if (fake != null) {
            fake.close();
        }
    }

    @Test
    void eachMlflowGetsExactlyItsOwnTracesAfterAnOutage() throws Exception {
        int portA = freePort();
        int portB = freePort();
        apps.add(app("a", portA, mlflowA));
        apps.add(app("b", portB, mlflowB));
        awaitReady(portA);
        awaitReady(portB);
        Set<String> ofA = new TreeSet<>();
        Set<String> ofB = new TreeSet<>();
        ofA.add(traceOf(invoke(portA, "a-before"), "delivered"));
        ofB.add(traceOf(invoke(portB, "b-before"), "delivered"));

        mlflowB.stop();
        for (int i = 0; i < 3; i++) {
            ofA.add(traceOf(invoke(portA, "a" + i), "delivered"));
            ofB.add(traceOf(invoke(portB, "b" + i), "spooled"));
        }
        // A's drainer has passed over the shared spool root several times while B's traces waited in it.
        Thread.sleep(4_000);
        assertEquals(ofA, traceIds(mlflowA), "A's MLflow holds A's traces and none of B's");

        mlflowB.start();
        Instant deadline = Instant.now().plusSeconds(60);
        while (!traceIds(mlflowB).equals(ofB) && Instant.now().isBefore(deadline)) {
            Thread.sleep(1_000);
        }
        assertEquals(ofB, traceIds(mlflowB), "B's MLflow holds B's traces (redelivered) and none of A's");
        assertEquals(ofA, traceIds(mlflowA), "still none of B's in A's MLflow");
        assertEquals(2, spoolDirectories().size(), "one spool directory per destination below the shared root");
        for (Path dir : spoolDirectories()) {
            try (Stream<Path> left = Files.list(dir)) {
                assertEquals(List.of("destination.txt"), left.map(p -> p.getFileName().toString()).toList(),
                        "nothing left, set aside or corrupt in " + dir);
            }
        }
    }

    private static String traceOf(JsonNode answer, String export) {
        assertEquals(export, answer.path("trace").path("export").asText(), answer.toString());
        return answer.path("trace").path("id").asText();
    }

    private static List<Path> spoolDirectories() throws IOException {
        try (Stream<Path> dirs = Files.list(work.resolve("tmp/agentfn-spool"))) {
            return dirs.filter(Files::isDirectory).toList();
        }
    }

    private static Set<String> traceIds(MlflowServer server) {
        JsonNode ids = new MlflowPython(server).json("""
                import mlflow, json
                exp = mlflow.get_experiment_by_name("%s")
                traces = mlflow.search_traces(locations=[exp.experiment_id], return_type="list") if exp else []
                print(json.dumps([t.info.trace_id for t in traces]))
                """.formatted(EXPERIMENT));
        Set<String> out = new TreeSet<>();
        ids.forEach(id -> out.add(id.asText()));
        assertEquals(ids.size(), out.size(), "no trace twice");
        return out;
    }

    private static Process app(String name, int port, MlflowServer mlflow) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + work.resolve("tmp"), "-jar", JAR.toString())
                .directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(work.resolve(name + ".log").toFile());
        var env = pb.environment();
        env.put("PORT", Integer.toString(port));
        env.put("ANTHROPIC_API_KEY", FakeAnthropicResource.TEST_API_KEY);
        env.put("ANTHROPIC_BASE_URL", fake.baseUrl());
        env.put("MLFLOW_TRACKING_URI", mlflow.uri().toString());
        env.put("MLFLOW_EXPERIMENT_NAME", EXPERIMENT); // the same name on both servers: likely the same id too
        env.put("AGENTFN_TRACING_SPOOL_DRAIN_INTERVAL", "1s");
        env.put("AGENTFN_TRACING_EXPORT_TIMEOUT", "3s");
        env.put("AGENTFN_MLFLOW_REQUEST_TIMEOUT", "3s");
        env.remove("AGENTFN_TRACING_SPOOL_DIRECTORY");
        return pb.start();
    }

    private static JsonNode invoke(int port, String prompt) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/invocations"))
                .header("content-type", "application/json").timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"" + prompt + "\"}")).build();
        HttpResponse<String> res = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, res.statusCode(), res.body());
        return JSON.readTree(res.body());
    }

    private static void awaitReady(int port) throws Exception {
        Instant deadline = Instant.now().plusSeconds(60);
        while (Instant.now().isBefore(deadline)) {
            try {
                HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/health/ready"))
                        .timeout(Duration.ofSeconds(2)).build();
                if (HTTP.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(300);
        }
        assertFalse(true, "agentfn on port " + port + " did not become ready; logs in " + work);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
