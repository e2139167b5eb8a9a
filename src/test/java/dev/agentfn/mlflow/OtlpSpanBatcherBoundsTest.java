package dev.agentfn.mlflow;

import static dev.agentfn.testing.StubHttp.respond;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.agentfn.mlflow.MlflowApi.OtlpExportResult;
import dev.agentfn.mlflow.entities.Trace;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Batches stay within their bounds: the traces queued behind a held request are cut by spans and by bytes. */
class OtlpSpanBatcherBoundsTest {
    static final int QUEUED = 5;
    HttpServer stub;
    final ExecutorService handlers = Executors.newCachedThreadPool();
    /** Traces (root spans) in each OTLP request, in order of arrival. */
    final List<Integer> tracesPerRequest = new CopyOnWriteArrayList<>();
    final Semaphore arrived = new Semaphore(0);
    final CountDownLatch release = new CountDownLatch(1);

    @BeforeEach
    void startStub() throws IOException {
        stub = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        stub.setExecutor(handlers);
        stub.createContext("/v1/traces", this::handle);
        stub.start();
    }

    @AfterEach
    void stopStub() {
        release.countDown();
        stub.stop(0);
        handlers.shutdownNow();
    }

    private void handle(HttpExchange ex) throws IOException {
        byte[] body = ex.getRequestBody().readAllBytes();
        if ("gzip".equals(ex.getRequestHeaders().getFirst("Content-Encoding"))) {
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
                body = in.readAllBytes();
            }
        }
        String text = new String(body, StandardCharsets.ISO_8859_1);
        tracesPerRequest.add(text.split("claude_code_conversation", -1).length - 1);
        arrived.release();
        try {
            release.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        respond(ex, 200, "");
    }

    MlflowTraceClient client() {
        return new MlflowTraceClient(MlflowRest.standalone(MlflowTarget.of("http://127.0.0.1:" + stub.getAddress().getPort())));
    }

    /** One trace in a held request, {@link #QUEUED} behind it, then all answered; the traces per request. */
    List<Integer> batches(OtlpSpanBatcher batcher) throws Exception {
        List<CompletableFuture<OtlpExportResult>> results = new ArrayList<>();
        results.add(batcher.submit("1", null, Fixtures.agentTrace("1").spans()));
        assertTrue(arrived.tryAcquire(30, TimeUnit.SECONDS));
        for (int i = 0; i < QUEUED; i++) {
            results.add(batcher.submit("1", null, Fixtures.agentTrace("1").spans()));
        }
        assertEquals(QUEUED, batcher.queued(), "queued behind the one request allowed in flight");
        release.countDown();
        for (CompletableFuture<OtlpExportResult> r : results) {
            assertEquals(OtlpExportResult.Outcome.OK, r.get(30, TimeUnit.SECONDS).outcome());
        }
        return tracesPerRequest;
    }

    @Test
    void batchesAreCutBySpans() throws Exception {
        // four spans per trace: two traces fit in eight spans, a third does not
        assertEquals(List.of(1, 2, 2, 1), batches(new OtlpSpanBatcher(client(), new OtlpBatchLimits(8, 1 << 20, 1))));
    }

    @Test
    void batchesAreCutByBytes() throws Exception {
        Trace t = Fixtures.agentTrace("1");
        int oneTrace = client().encodeSpans(t.spans()).length;
        // room for three traces of the same size (ids and numbers have fixed lengths), not four
        assertEquals(List.of(1, 3, 2), batches(new OtlpSpanBatcher(client(), new OtlpBatchLimits(1000, oneTrace * 3L + 10, 1))));
    }

    @Test
    void unlimitedButForTheSlotsAllQueuedTracesShareOneRequest() throws Exception {
        assertEquals(List.of(1, QUEUED), batches(new OtlpSpanBatcher(client(), OtlpBatchLimits.DEFAULT.withMaxRequestsInFlight(1))));
    }
}
