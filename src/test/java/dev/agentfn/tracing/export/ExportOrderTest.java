package dev.agentfn.tracing.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A trace's exports one at a time, in the order asked; a redelivery only while none is on its way. */
class ExportOrderTest {
    final List<String> started = new CopyOnWriteArrayList<>();

    @Test
    void exportsOfOneTraceStartOneAfterTheOtherAndOtherTracesDoNotWait() {
        ExportOrder order = new ExportOrder(Runnable::run, Duration.ofHours(1));
        CompletableFuture<ExportResult> first = new CompletableFuture<>();
        order.next("t", () -> begin("t1", first));
        CompletableFuture<ExportResult> second = order.next("t", () -> begin("t2", CompletableFuture.completedFuture(ok())));
        order.next("u", () -> begin("u1", CompletableFuture.completedFuture(ok())));
        assertEquals(List.of("t1", "u1"), started);
        assertTrue(order.ifIdle("t", () -> begin("redelivery", new CompletableFuture<>())).isEmpty(), "t is busy");

        first.complete(ok());
        assertEquals(List.of("t1", "u1", "t2"), started);
        assertTrue(second.isDone());
        assertFalse(order.busy("t"));
        assertTrue(order.ifIdle("t", () -> begin("redelivery", new CompletableFuture<>())).isPresent());
        assertTrue(order.busy("t"), "a redelivery holds the place too");
    }

    /**
     * An export that never ends (an exporter bug) holds its trace's place for maxWait from its own start, so the
     * writes queued behind it start one maxWait apart, never together.
     */
    @Test
    void anExportThatNeverEndsHoldsItsPlaceForMaxWaitFromItsOwnStart() throws Exception {
        ExportOrder order = new ExportOrder(Runnable::run, Duration.ofMillis(200));
        long[] at = new long[3];
        for (int i = 0; i < 3; i++) {
            int k = i;
            order.next("t", () -> {
                at[k] = System.nanoTime();
                return begin("w" + k, new CompletableFuture<>());
            });
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (started.size() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(List.of("w0", "w1", "w2"), started);
        assertTrue(at[2] - at[1] >= TimeUnit.MILLISECONDS.toNanos(150),
                "the third waited out the second's own place: " + (at[2] - at[1]) / 1_000_000 + " ms");
    }

    @Test
    void anExporterThatThrowsCountsAsARetryableFailure() throws Exception {
        ExportOrder order = new ExportOrder(Runnable::run, Duration.ofHours(1));
        ExportResult r = order.next("t", () -> {
            throw new IllegalStateException("bug");
        }).get(1, TimeUnit.SECONDS);
        assertFalse(r.delivered());
        assertTrue(r.retryable());
        assertFalse(order.busy("t"));
    }

    private CompletableFuture<ExportResult> begin(String name, CompletableFuture<ExportResult> result) {
        started.add(name);
        return result;
    }

    private static ExportResult ok() {
        return ExportResult.success("ok");
    }
}
