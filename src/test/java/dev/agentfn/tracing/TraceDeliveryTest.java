package dev.agentfn.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.tracing.export.ExportResult;
import dev.agentfn.tracing.export.ExportStatus;
import dev.agentfn.tracing.export.TraceExporter;
import dev.agentfn.tracing.spool.DirectoryTraceSpool;
import dev.agentfn.tracing.spool.SpoolDrainer;
import dev.agentfn.tracing.spool.TraceCodec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Answers never wait on more than their own export: not on a stuck redelivery, not on a server already far behind. */
class TraceDeliveryTest {
    @TempDir
    Path dir;
    final Tracer tracer = new Tracer(SpanClock.SYSTEM, new AttributePolicy(true, 65536, List.of(), List.of()), false);
    final ExecutorService spoolExecutor = Executors.newFixedThreadPool(2);
    final ExecutorService drainExecutor = Executors.newSingleThreadExecutor();
    final HangingExporter exporter = new HangingExporter();

    @AfterEach
    void stop() {
        spoolExecutor.shutdownNow();
        drainExecutor.shutdownNow();
    }

    @Test
    void liveAnswersAreNotQueuedBehindAStuckRedelivery() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, "test destination", 100, new TraceCodec(new ObjectMapper()));
        Trace old = trace("spooled earlier");
        spool.put(old);
        exporter.hang(old.info().traceId());
        SpoolDrainer drainer = new SpoolDrainer(spool, exporter, 10, 1, 5, Duration.ofHours(1), drainExecutor);
        drainer.nudge();
        exporter.awaitHanging();

        // a confirmed export answers without any executor, even one whose only thread is stuck
        TraceDelivery sharing = new TraceDelivery(exporter, spool, drainer, Duration.ofMillis(200), drainExecutor, 0);
        assertEquals(ExportStatus.DELIVERED, sharing.deliver(trace("live")).get(10, TimeUnit.SECONDS));
        // spooling has its own threads (as TracingBeans wires it)
        TraceDelivery delivery = new TraceDelivery(exporter, spool, drainer, Duration.ofMillis(200), spoolExecutor, 0);
        Trace slow = trace("live, MLflow slow");
        exporter.hang(slow.info().traceId());
        assertEquals(ExportStatus.SPOOLED, delivery.deliver(slow).get(10, TimeUnit.SECONDS));
    }

    @Test
    void pastTheBoundOnExportsInFlightTracesAreSpooledWithoutWaiting() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, "test destination", 100, new TraceCodec(new ObjectMapper()));
        SpoolDrainer drainer = new SpoolDrainer(spool, exporter, 10, 1, 5, Duration.ofHours(1), drainExecutor);
        TraceDelivery delivery = new TraceDelivery(exporter, spool, drainer, Duration.ofHours(1), spoolExecutor, 2);
        Trace first = trace("first");
        Trace second = trace("second");
        exporter.hang(first.info().traceId());
        exporter.hang(second.info().traceId());
        CompletableFuture<ExportStatus> waiting1 = delivery.deliver(first);
        CompletableFuture<ExportStatus> waiting2 = delivery.deliver(second);

        // two exports open: the third trace is not sent, and its answer does not wait out the (1 h) timeout
        Trace third = trace("third");
        assertEquals(ExportStatus.SPOOLED, delivery.deliver(third).get(10, TimeUnit.SECONDS));
        assertEquals(List.of(first.info().traceId(), second.info().traceId()), exporter.attempted());
        assertEquals(List.of(third.info().traceId()), spool.oldest(10).stream().map(t -> t.trace().info().traceId()).toList());
        assertFalse(waiting1.isDone() || waiting2.isDone());

        // MLflow answers one of them: the next trace is exported again, and delivered
        exporter.release(first.info().traceId());
        assertEquals(ExportStatus.DELIVERED, waiting1.get(10, TimeUnit.SECONDS));
        assertEquals(ExportStatus.DELIVERED, delivery.deliver(trace("fourth")).get(10, TimeUnit.SECONDS));
    }

    private Trace trace(String prompt) {
        ActiveTrace t = tracer.start("agent_invocation", MlflowKeys.SpanType.AGENT, Optional.empty());
        t.root().inputs(Map.of("prompt", prompt));
        return t.finish();
    }

    /** Delivers at once, except the traces told to hang, whose export never completes. */
    static final class HangingExporter implements TraceExporter {
        @Override
        public String destination() {
            return "hanging";
        }

        private final Set<String> hanging = ConcurrentHashMap.newKeySet();
        private final Map<String, CompletableFuture<ExportResult>> open = new ConcurrentHashMap<>();
        private final List<String> attempts = new CopyOnWriteArrayList<>();
        private final CompletableFuture<Void> someoneHangs = new CompletableFuture<>();

        List<String> attempted() {
            return List.copyOf(attempts);
        }

        void release(String traceId) {
            open.get(traceId).complete(ExportResult.success("late"));
        }

        void hang(String traceId) {
            hanging.add(traceId);
        }

        void awaitHanging() throws Exception {
            someoneHangs.get(10, TimeUnit.SECONDS);
        }

        @Override
        public CompletableFuture<ExportResult> export(Trace trace) {
            attempts.add(trace.info().traceId());
            if (hanging.contains(trace.info().traceId())) {
                someoneHangs.complete(null);
                return open.computeIfAbsent(trace.info().traceId(), id -> new CompletableFuture<>());
            }
            return CompletableFuture.completedFuture(ExportResult.success("ok"));
        }
    }
}
