package dev.agentfn.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A redelivery pass stuck on a slow MLflow must not hold up the answers of live invocations. */
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
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, 100, new TraceCodec(new ObjectMapper()));
        Trace old = trace("spooled earlier");
        spool.put(old);
        exporter.hang(old.info().traceId());
        SpoolDrainer drainer = new SpoolDrainer(spool, exporter, 10, 1, Duration.ofHours(1), drainExecutor);
        drainer.nudge();
        exporter.awaitHanging();

        // a confirmed export answers without any executor, even one whose only thread is stuck
        TraceDelivery sharing = new TraceDelivery(exporter, spool, drainer, Duration.ofMillis(200), drainExecutor);
        assertEquals(ExportStatus.DELIVERED, sharing.deliver(trace("live")).get(10, TimeUnit.SECONDS));
        // spooling has its own threads (as TracingBeans wires it)
        TraceDelivery delivery = new TraceDelivery(exporter, spool, drainer, Duration.ofMillis(200), spoolExecutor);
        Trace slow = trace("live, MLflow slow");
        exporter.hang(slow.info().traceId());
        assertEquals(ExportStatus.SPOOLED, delivery.deliver(slow).get(10, TimeUnit.SECONDS));
    }

    private Trace trace(String prompt) {
        ActiveTrace t = tracer.start("agent_invocation", MlflowKeys.SpanType.AGENT, Optional.empty());
        t.root().inputs(Map.of("prompt", prompt));
        return t.finish();
    }

    /** Delivers at once, except the traces told to hang, whose export never completes. */
    static final class HangingExporter implements TraceExporter {
        private final Set<String> hanging = ConcurrentHashMap.newKeySet();
        private final CompletableFuture<Void> someoneHangs = new CompletableFuture<>();

        void hang(String traceId) {
            hanging.add(traceId);
        }

        void awaitHanging() throws Exception {
            someoneHangs.get(10, TimeUnit.SECONDS);
        }

        @Override
        public CompletableFuture<ExportResult> export(Trace trace) {
            if (hanging.contains(trace.info().traceId())) {
                someoneHangs.complete(null);
                return new CompletableFuture<>();
            }
            return CompletableFuture.completedFuture(ExportResult.success("ok"));
        }
    }
}
