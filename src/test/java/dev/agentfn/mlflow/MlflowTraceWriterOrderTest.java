package dev.agentfn.mlflow;

import static dev.agentfn.testing.StubHttp.respond;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.agentfn.mlflow.json.JsonValues;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Path A's two requests: together while few writes are in flight, StartTraceV3 first from
 * {@link MlflowTraceWriter#SEQUENTIAL_FROM} on. The stub answers StartTraceV3 slowly, so spans sent
 * together with it arrive before that answer, and spans sent in order after it.
 */
class MlflowTraceWriterOrderTest {
    HttpServer stub;
    final ExecutorService handlers = Executors.newCachedThreadPool();
    /** "otlp-arrived" and "start-answered", in the order they happened. */
    final List<String> events = new CopyOnWriteArrayList<>();

    @BeforeEach
    void startStub() throws IOException {
        stub = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        stub.setExecutor(handlers);
        stub.createContext("/", this::handle);
        stub.start();
    }

    @AfterEach
    void stopStub() {
        stub.stop(0);
        handlers.shutdownNow();
    }

    private void handle(HttpExchange ex) throws IOException {
        byte[] body = ex.getRequestBody().readAllBytes();
        String path = ex.getRequestURI().getRawPath();
        if (path.equals("/v1/traces")) {
            events.add("otlp-arrived");
            respond(ex, 200, "");
        } else if (path.equals("/api/3.0/mlflow/traces")) {
            ObjectNode echoed = (ObjectNode) JsonValues.parse(body);
            sleep(300);
            events.add("start-answered");
            respond(ex, 200, JsonValues.write(echoed));
        } else {
            respond(ex, 500, "unexpected " + path);
        }
    }

    private MlflowTraceWriter writer(int sequentialFrom) {
        MlflowClient client = new MlflowClient(MlflowTarget.of("http://127.0.0.1:" + stub.getAddress().getPort()));
        return new MlflowTraceWriter(client, Duration.ofMinutes(10), System::nanoTime, sequentialFrom);
    }

    @Test
    void aloneTheSpansDoNotWaitForStartTrace() throws Exception {
        WriteOutcome outcome = writer(MlflowTraceWriter.SEQUENTIAL_FROM).write(Fixtures.agentTrace("1"))
                .get(30, TimeUnit.SECONDS);

        assertTrue(outcome.delivered(), outcome.reason());
        assertEquals(List.of("otlp-arrived", "start-answered"), events);
    }

    @Test
    void inOrderTheSpansFollowTheAnsweredStartTrace() throws Exception {
        WriteOutcome outcome = writer(1).write(Fixtures.agentTrace("1")).get(30, TimeUnit.SECONDS);

        assertTrue(outcome.delivered(), outcome.reason());
        assertEquals(List.of("start-answered", "otlp-arrived"), events);
    }

    @Test
    void theWriteThatReachesTheThresholdSendsInOrder() throws Exception {
        MlflowTraceWriter writer = writer(MlflowTraceWriter.SEQUENTIAL_FROM);
        List<CompletableFuture<WriteOutcome>> writes = new ArrayList<>();
        for (int i = 0; i < MlflowTraceWriter.SEQUENTIAL_FROM; i++) {
            writes.add(writer.write(Fixtures.agentTrace("1")));
        }
        for (CompletableFuture<WriteOutcome> w : writes) {
            WriteOutcome o = w.get(30, TimeUnit.SECONDS);
            assertTrue(o.delivered(), o.reason());
        }

        // The writes below the threshold sent their spans at once, before any StartTraceV3 was
        // answered; the one that reached it sent its spans only after its answer.
        assertEquals(MlflowTraceWriter.SEQUENTIAL_FROM - 1, events.indexOf("start-answered"), events.toString());
        assertEquals("otlp-arrived", events.get(events.size() - 1), events.toString());
        assertEquals(2 * MlflowTraceWriter.SEQUENTIAL_FROM, events.size());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
