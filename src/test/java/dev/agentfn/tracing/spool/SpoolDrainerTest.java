package dev.agentfn.tracing.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
        spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
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
    void twoWindowsInARowWithNothingDeliveredEndThePassAndKeepEverything() {
        ExportResult down = ExportResult.failure(true, "MLflow unreachable");
        exporter.thenAnswer(down, down, down);
        assertEquals(0, drainer().drainOnce());
        assertEquals(ids(a, b), exporter.attemptedTraceIds(), "a down server is not hammered");
        assertEquals(3, spool.size());
    }

    @Test
    void anOutageRotatesThroughTheSpoolAndSetsNothingAside() {
        ExportResult down = ExportResult.failure(true, "MLflow unreachable");
        for (int i = 0; i < 20; i++) {
            exporter.thenAnswer(down);
        }
        SpoolDrainer drainer = new SpoolDrainer(spool, exporter, new dev.agentfn.tracing.export.ExportOrder(Runnable::run, Duration.ofMillis(10)), 10, 1, 2, Duration.ofSeconds(1), Runnable::run);
        for (int pass = 0; pass < 5; pass++) {
            drainer.drainOnce();
        }
        assertEquals(ids(a, b, c, a, b, c, a, b, c, a), exporter.attemptedTraceIds(),
                "each pass starts with the traces that failed least, not the same ones again");
        assertEquals(3, spool.size(), "failures while nothing gets through set nothing aside");
        assertFalse(Files.exists(dir.resolve("rejected")));
    }

    @Test
    void aTraceMlflowTimesOutOnDoesNotHoldUpTheOnesBehindIt() throws Exception {
        HangsOn exporter = new HangsOn(a);
        SpoolDrainer drainer = new SpoolDrainer(spool, exporter, new dev.agentfn.tracing.export.ExportOrder(Runnable::run, Duration.ofMillis(10)), 10, 1, 5, Duration.ofMillis(50), Runnable::run);
        assertEquals(2, drainer.drainOnce(), "b and c are delivered in the same pass");
        assertEquals(ids(a), spool.oldest(10).stream().map(t -> t.trace().info().traceId()).toList());

        Trace d = traces.next("d");
        spool.put(d);
        assertEquals(1, drainer.drainOnce());
        assertEquals(List.of(a.info().traceId(), b.info().traceId(), c.info().traceId(), d.info().traceId(),
                a.info().traceId()), exporter.attempted, "the trace that failed goes after the others");
    }

    @Test
    void aTraceThatFailsWhileOthersAreStoredIsSetAsideAfterMaxAttemptsAndRedeliveredWhenMovedBack() throws Exception {
        HangsOn exporter = new HangsOn(a);
        SpoolDrainer drainer = new SpoolDrainer(spool, exporter, new dev.agentfn.tracing.export.ExportOrder(Runnable::run, Duration.ofMillis(10)), 10, 2, 2, Duration.ofMillis(50), Runnable::run);
        drainer.drainOnce(); // a fails while b and c are stored: 1 of 2
        assertEquals(1, spool.size());
        drainer.drainOnce(); // a alone fails: nothing stored in that pass, so it does not count
        assertEquals(1, spool.size());
        spool.put(traces.next("d"));
        drainer.drainOnce(); // a fails while d is stored: 2 of 2
        assertEquals(0, spool.size());
        Path rejected = dir.resolve("rejected");
        List<Path> aside;
        try (var files = Files.list(rejected)) {
            aside = files.toList();
        }
        assertEquals(1, aside.size());
        assertTrue(aside.get(0).getFileName().toString().contains(a.info().traceId()));

        // An operator moves it back while the process runs; the timer's pass sees it (no restart).
        exporter.hanging.clear();
        Path back = dir.resolve(aside.get(0).getFileName());
        Files.move(aside.get(0), back);
        assertFalse(spool.mayHoldTraces(), "the spool believes it is empty");
        drainer.nudge();
        assertTrue(Files.exists(back), "a nudge trusts the belief");
        drainer.tick();
        assertFalse(Files.exists(back), "the timer looks, and delivers it");
        assertEquals(a.info().traceId(), exporter.attempted.get(exporter.attempted.size() - 1));
    }

    @Test
    void aTraceOfAnotherDestinationIsNeitherSentNorMoved() throws Exception {
        DirectoryTraceSpool other = new DirectoryTraceSpool(dir, "http://elsewhere:5000 experiment_id=1", 10,
                SpoolTraces.CODEC);
        Trace theirs = traces.next("theirs");
        String handle = other.put(theirs);
        assertEquals(3, drainer(2).drainOnce());
        assertFalse(exporter.attemptedTraceIds().contains(theirs.info().traceId()));
        assertTrue(Files.exists(dir.resolve(handle)), "left where it is");
        assertFalse(Files.exists(dir.resolve("rejected")));
        assertFalse(Files.exists(dir.resolve("corrupt")));
        assertEquals(List.of(theirs.info().traceId()),
                other.oldest(10).stream().map(t -> t.trace().info().traceId()).toList(), "its own spool still has it");
    }

    @Test
    void aWholeBatchOfFailingTracesDoesNotHideTheOnesBehindIt() {
        HangsOn exporter = new HangsOn(a, b);
        SpoolDrainer drainer = new SpoolDrainer(spool, exporter, new dev.agentfn.tracing.export.ExportOrder(Runnable::run, Duration.ofMillis(10)), 2, 1, 5, Duration.ofMillis(50), Runnable::run);
        assertEquals(0, drainer.drainOnce(), "a and b, the whole batch, time out");
        assertEquals(1, drainer.drainOnce(), "the next pass looks past them and delivers c");
        assertEquals(ids(a, b), spool.oldest(10).stream().map(t -> t.trace().info().traceId()).toList());
    }

    /** Never answers for the traces it hangs on (MLflow working on a trace too large to store in time). */
    static final class HangsOn implements dev.agentfn.tracing.export.TraceExporter {
        final java.util.Set<String> hanging = java.util.concurrent.ConcurrentHashMap.newKeySet();
        final List<String> attempted = new java.util.concurrent.CopyOnWriteArrayList<>();

        HangsOn(Trace... ts) {
            for (Trace t : ts) {
                hanging.add(t.info().traceId());
            }
        }

        @Override
        public java.util.concurrent.CompletableFuture<ExportResult> export(Trace trace) {
            attempted.add(trace.info().traceId());
            return hanging.contains(trace.info().traceId()) ? new java.util.concurrent.CompletableFuture<>()
                    : java.util.concurrent.CompletableFuture.completedFuture(ExportResult.success("ok"));
        }

        @Override
        public String destination() {
            return SpoolTraces.DESTINATION;
        }
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
        SpoolDrainer drainer = new SpoolDrainer(spool, exporter, new dev.agentfn.tracing.export.ExportOrder(Runnable::run, Duration.ofMillis(10)), 10, 2, 5, Duration.ofSeconds(1), pass -> {
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
    void aWindowGoesOutTogetherAndAFailureInItKeepsOnlyWhatFailed() {
        exporter.thenAnswer(ExportResult.success("ok"), ExportResult.failure(true, "503"));
        assertEquals(2, drainer(2).drainOnce());
        assertEquals(ids(a, b, c), exporter.attemptedTraceIds(), "a window that delivered anything goes on");
        assertEquals(ids(b), spool.oldest(10).stream().map(t -> t.trace().info().traceId()).toList());
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
        return new SpoolDrainer(spool, exporter, new dev.agentfn.tracing.export.ExportOrder(Runnable::run, Duration.ofMillis(10)), 10, concurrency, 5, Duration.ofSeconds(1), Runnable::run);
    }

    private static List<String> ids(Trace... ts) {
        return List.of(ts).stream().map(t -> t.info().traceId()).toList();
    }
}
