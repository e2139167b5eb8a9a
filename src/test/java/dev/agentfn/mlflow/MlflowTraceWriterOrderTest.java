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
    /** "otlp-arrived" and "start-answered", each followed by the write's experiment id, in the order they happened. */
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
            events.add("otlp-arrived " + ex.getRequestHeaders().getFirst(MlflowKeys.Header.EXPERIMENT_ID));
            respond(ex, 200, "");
        } else if (path.equals("/api/3.0/mlflow/traces")) {
            ObjectNode echoed = (ObjectNode) JsonValues.parse(body);
            sleep(300);
            events.add("start-answered " + echoed.findValue("experiment_id").asText());
            respond(ex, 200, JsonValues.write(echoed));
        } else {
            respond(ex, 500, "unexpected " + path);
        }
    }

    private MlflowTraceWriter writer(int sequentialFrom) {
        MlflowTraceClient traces = new MlflowTraceClient(MlflowRest.standalone(MlflowTarget.of("http://127.0.0.1:" + stub.getAddress().getPort())));
        return new MlflowTraceWriter(traces, Duration.ofMinutes(10), System::nanoTime, sequentialFrom);
    }

    @Test
    void aloneTheSpansDoNotWaitForStartTrace() throws Exception {
        WriteOutcome outcome = writer(MlflowTraceWriter.SEQUENTIAL_FROM).write(Fixtures.agentTrace("1"))
                .get(30, TimeUnit.SECONDS);

        assertTrue(outcome.delivered(), outcome.reason());
        assertEquals(List.of("otlp-arrived 1", "start-answered 1"), events);
    }

    @Test
    void inOrderTheSpansFollowTheAnsweredStartTrace() throws Exception {
        WriteOutcome outcome = writer(1).write(Fixtures.agentTrace("1")).get(30, TimeUnit.SECONDS);

        assertTrue(outcome.delivered(), outcome.reason());
        assertEquals(List.of("start-answered 1", "otlp-arrived 1"), events);
    }

    @Test
    void theWriteThatReachesTheThresholdSendsInOrder() throws Exception {
        MlflowTraceWriter writer = writer(MlflowTraceWriter.SEQUENTIAL_FROM);
        List<CompletableFuture<WriteOutcome>> writes = new ArrayList<>();
        for (int i = 1; i <= MlflowTraceWriter.SEQUENTIAL_FROM; i++) {
            writes.add(writer.write(Fixtures.agentTrace(String.valueOf(i))));
        }
        for (CompletableFuture<WriteOutcome> w : writes) {
            WriteOutcome o = w.get(30, TimeUnit.SECONDS);
            assertTrue(o.delivered(), o.reason());
        }

        // Each write is told apart by its experiment id: those below the threshold sent their
        // spans before their StartTraceV3 was answered; the one that reached it, only after. (Across
        // writes there is no order to assert: the stub's handlers start when their connection does.)
        assertEquals(2 * MlflowTraceWriter.SEQUENTIAL_FROM, events.size(), events.toString());
        for (int i = 1; i <= MlflowTraceWriter.SEQUENTIAL_FROM; i++) {
            boolean inOrder = i == MlflowTraceWriter.SEQUENTIAL_FROM;
            int spans = events.indexOf("otlp-arrived " + i);
            int started = events.indexOf("start-answered " + i);
            assertTrue(spans >= 0 && started >= 0, events.toString());
            assertEquals(inOrder, started < spans, "write " + i + ": " + events);
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
