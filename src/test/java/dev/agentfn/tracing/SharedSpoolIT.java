package dev.agentfn.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.standin.FakeAnthropicServer;
import dev.agentfn.testing.AgentfnJar;
import dev.agentfn.testing.FakeAnthropicResource;
import dev.agentfn.testing.MlflowPython;
import dev.agentfn.testing.MlflowServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
        AgentfnJar.Started a = app("a", mlflowA);
        AgentfnJar.Started b = app("b", mlflowB);
        int portA = a.awaitReady().port();
        int portB = b.awaitReady().port();
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
                assertEquals(List.of("destination.txt"), left.map(p -> p.getFileName().toString())
                                .filter(name -> !name.startsWith(".ahead-")).toList(),
                        "nothing left, set aside or corrupt in " + dir);
            }
            assertNoSlotHoldsACopy(dir);
        }
    }

    /** A live process's slot directory ({@code .ahead-<uuid>}) stays while it runs; none of its slots holds a copy. */
    private static void assertNoSlotHoldsACopy(Path dir) throws IOException {
        try (Stream<Path> slotDirs = Files.list(dir)) {
            for (Path slots : slotDirs.filter(p -> p.getFileName().toString().startsWith(".ahead-")).toList()) {
                try (Stream<Path> files = Files.list(slots)) {
                    for (Path slot : files.filter(p -> p.getFileName().toString().startsWith("slot-")).toList()) {
                        byte[] head = Arrays.copyOf(Files.readAllBytes(slot), 4);
                        assertFalse(Arrays.equals("AFA1".getBytes(StandardCharsets.US_ASCII), head),
                                slot + " still holds a copy");
                    }
                }
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

    private static AgentfnJar.Started app(String name, MlflowServer mlflow) throws IOException {
        Map<String, String> env = new HashMap<>();
        env.put("ANTHROPIC_API_KEY", FakeAnthropicResource.TEST_API_KEY);
        env.put("ANTHROPIC_BASE_URL", fake.baseUrl());
        env.put("MLFLOW_TRACKING_URI", mlflow.uri().toString());
        env.put("MLFLOW_EXPERIMENT_NAME", EXPERIMENT); // the same name on both servers: likely the same id too
        env.put("AGENTFN_TRACING_SPOOL_DRAIN_INTERVAL", "1s");
        env.put("AGENTFN_TRACING_EXPORT_TIMEOUT", "3s");
        env.put("AGENTFN_MLFLOW_REQUEST_TIMEOUT", "3s");
        env.put("AGENTFN_TRACING_SPOOL_DIRECTORY", null); // the default: one spool root below the shared tmpdir
        AgentfnJar.Started started = AgentfnJar.start(work, name, work.resolve("tmp"), env);
        apps.add(started.process());
        return started;
    }

    private static JsonNode invoke(int port, String prompt) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/invocations"))
                .header("content-type", "application/json").timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"" + prompt + "\"}")).build();
        HttpResponse<String> res = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, res.statusCode(), res.body());
        return JSON.readTree(res.body());
    }

}
