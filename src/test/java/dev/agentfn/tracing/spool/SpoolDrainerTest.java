package dev.agentfn.tracing.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.tracing.export.ExportResult;
import dev.agentfn.tracing.export.InMemoryTraceExporter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolDrainerTest {
    @TempDir
    Path dir;
    final SpoolTraces traces = new SpoolTraces();
    final InMemoryTraceExporter exporter = new InMemoryTraceExporter();
    DirectoryTraceSpool spool;
    Trace a;
    Trace b;
    Trace c;

    @BeforeEach
    void spoolThree() throws Exception {
        spool = new DirectoryTraceSpool(dir, 10, SpoolTraces.CODEC);
        a = traces.next("a");
        b = traces.next("b");
        c = traces.next("c");
        for (Trace t : List.of(a, b, c)) {
            spool.put(t);
        }
    }

    @Test
    void deliversOldestFirstAndEmptiesTheSpool() {
        assertEquals(3, drainer().drainOnce());
        assertEquals(ids(a, b, c), exporter.attemptedTraceIds());
        assertEquals(0, spool.size());
    }

    @Test
    void aRetryableFailureEndsThePassAndKeepsEverything() {
        exporter.thenAnswer(ExportResult.failure(true, "MLflow unreachable"));
        assertEquals(0, drainer().drainOnce());
        assertEquals(ids(a), exporter.attemptedTraceIds(), "a down server is not hammered");
        assertEquals(3, spool.size());
    }

    @Test
    void aTraceRefusedForGoodDoesNotBlockTheOnesBehindIt() throws Exception {
        exporter.thenAnswer(ExportResult.failure(false, "400 INVALID_PARAMETER_VALUE"));
        assertEquals(2, drainer().drainOnce());
        assertEquals(ids(a, b, c), exporter.attemptedTraceIds());
        assertEquals(0, spool.size());
        try (var rejected = Files.list(dir.resolve("rejected"))) {
            assertTrue(rejected.anyMatch(p -> p.getFileName().toString().contains(a.info().traceId())));
        }
    }

    @Test
    void aNudgeSkipsTheSpoolOnceAPassFoundItEmptyUntilATraceIsStoredAgain() throws Exception {
        java.util.concurrent.atomic.AtomicInteger passes = new java.util.concurrent.atomic.AtomicInteger();
        SpoolDrainer drainer = new SpoolDrainer(spool, exporter, 10, 2, Duration.ofSeconds(1), pass -> {
            passes.incrementAndGet();
            pass.run();
        });
        drainer.nudge();
        assertEquals(1, passes.get());
        assertEquals(0, spool.size());

        drainer.nudge();
        assertEquals(1, passes.get(), "known empty: no pass, no directory listing");

        Trace d = traces.next("d");
        spool.put(d);
        drainer.nudge();
        assertEquals(2, passes.get());
        assertEquals(ids(a, b, c, d), exporter.attemptedTraceIds());
    }

    @Test
    void aWindowGoesOutTogetherAndAFailureInItEndsThePassKeepingOnlyWhatFailed() {
        exporter.thenAnswer(ExportResult.success("ok"), ExportResult.failure(true, "503"));
        assertEquals(1, drainer(2).drainOnce());
        assertEquals(ids(a, b), exporter.attemptedTraceIds(), "c waits for the next pass");
        assertEquals(2, spool.size());
        assertEquals(ids(b, c), spool.oldest(10).stream().map(t -> t.trace().info().traceId()).toList());
    }

    @Test
    void windowsFollowEachOtherOldestFirst() {
        assertEquals(3, drainer(2).drainOnce());
        assertEquals(ids(a, b, c), exporter.attemptedTraceIds());
        assertEquals(0, spool.size());
    }

    private SpoolDrainer drainer() {
        return drainer(1);
    }

    private SpoolDrainer drainer(int concurrency) {
        return new SpoolDrainer(spool, exporter, 10, concurrency, Duration.ofSeconds(1), Runnable::run);
    }

    private static List<String> ids(Trace... ts) {
        return List.of(ts).stream().map(t -> t.info().traceId()).toList();
    }
}
