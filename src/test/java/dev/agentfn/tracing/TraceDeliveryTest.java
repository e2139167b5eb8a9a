package dev.agentfn.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.mlflow.entities.TraceState;
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
import java.util.concurrent.Executor;
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
        SpoolDrainer drainer = new SpoolDrainer(spool, exporter, new dev.agentfn.tracing.export.ExportOrder(Runnable::run, Duration.ofHours(1)), 10, 1, 5, Duration.ofHours(1), drainExecutor);
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
        DirectoryTraceSpool spool = newSpool();
        SpoolDrainer drainer = drainerOf(spool);
        TraceDelivery delivery = deliveryOf(spool, drainer, 2);
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

    /**
     * Two writes of one trace (a gateway turn's intermediate and final write): the second reaches MLflow only after
     * the first's export ended, so a slow earlier write can never land over the finished trace. Other traces do not
     * wait.
     */
    @Test
    void writesOfOneTraceAreExportedOneAfterTheOther() throws Exception {
        DirectoryTraceSpool spool = newSpool();
        TraceDelivery delivery = deliveryOf(spool, drainerOf(spool), 0);
        Trace first = trace("a turn, its first call");
        String id = first.info().traceId();
        Trace second = new Trace(first.info(), first.spans(), false);
        exporter.hang(id);
        CompletableFuture<ExportStatus> earlier = delivery.deliver(first);
        exporter.awaitHanging();

        CompletableFuture<ExportStatus> later = delivery.deliver(second);
        Trace other = trace("another turn");
        assertEquals(ExportStatus.DELIVERED, delivery.deliver(other).get(10, TimeUnit.SECONDS), "another trace does not wait");
        assertEquals(List.of(id, other.info().traceId()), exporter.attempted(), "the later write is not sent yet");
        assertFalse(later.isDone());

        exporter.release(id);
        assertEquals(ExportStatus.DELIVERED, earlier.get(10, TimeUnit.SECONDS));
        assertEquals(ExportStatus.DELIVERED, later.get(10, TimeUnit.SECONDS));
        assertEquals(List.of(id, other.info().traceId(), id), exporter.attempted());
    }

    /**
     * MLflow down for a whole turn: both writes are spooled, each holding only what its call ended, and the drainer
     * sends them as one trace with every span and the final root.
     */
    @Test
    void theSpooledWritesOfOneTraceAreRedeliveredAsOne() throws Exception {
        DirectoryTraceSpool spool = newSpool();
        SpoolDrainer drainer = drainerOf(spool);
        TraceDelivery delivery = deliveryOf(spool, drainer, 0);
        List<Trace> writes = TURN;
        String id = writes.get(0).info().traceId();
        for (Trace w : writes) {
            exporter.hang(id);
            CompletableFuture<ExportStatus> answer = delivery.deliver(w);
            exporter.awaitHanging();
            awaitAttempts(id, writes.indexOf(w) + 1);
            exporter.fail(id);
            assertEquals(ExportStatus.SPOOLED, answer.get(10, TimeUnit.SECONDS));
        }

        assertEquals(1, drainer.drainOnce());
        Trace redelivered = exporter.sent().get(exporter.sent().size() - 1);
        assertEquals(3, redelivered.spans().size(), "both calls and the root");
        assertEquals(root(writes.get(1)), root(redelivered));
        assertEquals(List.of(), spooledIds(spool));
    }

    /**
     * MLflow refuses a turn's first write and takes its second: the confirmed second write is kept beside the first
     * in the spool, so the redelivery ends with the finished root instead of setting the turn back to IN_PROGRESS.
     */
    @Test
    void aConfirmedWriteIsKeptBesideAnEarlierSpooledWriteSoTheRedeliveryEndsWithIt() throws Exception {
        DirectoryTraceSpool spool = newSpool();
        SpoolDrainer drainer = drainerOf(spool);
        TraceDelivery delivery = deliveryOf(spool, drainer, 0);
        List<Trace> writes = TURN;
        String id = writes.get(0).info().traceId();
        exporter.hang(id);
        CompletableFuture<ExportStatus> first = delivery.deliver(writes.get(0));
        exporter.awaitHanging();
        exporter.fail(id);
        assertEquals(ExportStatus.SPOOLED, first.get(10, TimeUnit.SECONDS));

        assertEquals(ExportStatus.DELIVERED, delivery.deliver(writes.get(1)).get(10, TimeUnit.SECONDS));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<Trace> redelivered = List.of();
        while (redelivered.isEmpty() && System.nanoTime() < deadline) {
            drainer.drainOnce(); // sends nothing while the confirmed write is being kept beside the first
            redelivered = exporter.sent().subList(2, exporter.sent().size());
            Thread.sleep(5);
        }
        assertEquals(1, redelivered.size(), "one redelivery: " + redelivered);
        Trace last = redelivered.get(0);
        assertEquals(TraceState.OK, last.info().state());
        assertEquals(root(writes.get(1)), root(last));
        assertEquals(3, last.spans().size());
        awaitEmpty(spool);
    }

    /** While a live write of a trace is on its way, the drainer sends no earlier write of it: it could land after. */
    @Test
    void theDrainerLeavesATraceAloneWhileALiveWriteOfItIsOnItsWay() throws Exception {
        DirectoryTraceSpool spool = newSpool();
        SpoolDrainer drainer = drainerOf(spool);
        TraceDelivery delivery = deliveryOf(spool, drainer, 0);
        List<Trace> writes = TURN;
        String id = writes.get(0).info().traceId();
        spool.put(writes.get(0));
        exporter.hang(id);
        CompletableFuture<ExportStatus> live = delivery.deliver(writes.get(1));
        exporter.awaitHanging();

        assertEquals(0, drainer.drainOnce());
        assertEquals(List.of(id), exporter.attempted(), "only the live write was sent");
        exporter.release(id);
        assertEquals(ExportStatus.DELIVERED, live.get(10, TimeUnit.SECONDS));
        awaitEmpty(spool);
    }

    private static dev.agentfn.mlflow.entities.SpanData root(Trace t) {
        return t.spans().stream().filter(s -> s.isRoot()).findFirst().orElseThrow();
    }

    // ---- the order of a trace's writes when MLflow is slow, busy or failing (the spool merges copies by write) --

    /** turn-end-wait=spool with MLflow merely slower than the gap between two calls; nothing fails. */
    @Test
    void aFinalWriteSpooledAheadWhileTheEarlierWriteIsInFlightEndsTheTrace() throws Exception {
        Scripted rig = scripted(Duration.ofHours(1), 0, spoolExecutor, drainExecutor);
        DirectoryTraceSpool spool = rig.spool();
        SpoolDrainer drainer = rig.drainer();
        TraceDelivery delivery = rig.delivery();
        List<Trace> writes = TURN;
        CompletableFuture<ExportResult> slow = scripted.next();
        CompletableFuture<ExportStatus> earlier = delivery.deliver(writes.get(0));
        assertEquals(ExportStatus.SPOOLED, delivery.deliverDurably(writes.get(1)).get(10, TimeUnit.SECONDS));
        assertEquals(1, scripted.sent().size(), "the final write's export waits for the earlier one");
        slow.complete(ExportResult.success("slow but fine"));
        assertEquals(ExportStatus.DELIVERED, earlier.get(10, TimeUnit.SECONDS));

        drainUntilEmpty(spool, drainer);
        assertEquals(List.of(TraceState.IN_PROGRESS, TraceState.OK), scripted.states(), "each write once, in order");
    }

    /** Default config, the bound on exports reached: the final write is spooled at once, the earlier one after it. */
    @Test
    void writesSpooledOutOfOrderAreRedeliveredInTheOrderTheyWereWritten() throws Exception {
        Scripted rig = scripted(Duration.ofHours(1), 1, spoolExecutor, drainExecutor);
        DirectoryTraceSpool spool = rig.spool();
        SpoolDrainer drainer = rig.drainer();
        TraceDelivery delivery = rig.delivery();
        List<Trace> writes = TURN;
        CompletableFuture<ExportResult> slow = scripted.next();
        CompletableFuture<ExportStatus> earlier = delivery.deliver(writes.get(0));
        assertEquals(ExportStatus.SPOOLED, delivery.deliver(writes.get(1)).get(10, TimeUnit.SECONDS), "no export permit");
        slow.complete(ExportResult.failure(true, "503"));
        assertEquals(ExportStatus.SPOOLED, earlier.get(10, TimeUnit.SECONDS));

        drainUntilEmpty(spool, drainer);
        Trace last = scripted.sent().get(scripted.sent().size() - 1);
        assertEquals(TraceState.OK, last.info().state(), "the redelivery ends with the final write: " + scripted.states());
        assertEquals(root(writes.get(1)), root(last));
        assertEquals(3, last.spans().size());
    }

    /** Default config: N times out, N+1 times out waiting behind it, N is confirmed late, N+1's export fails. */
    @Test
    void theLateConfirmationOfAnEarlierWriteDoesNotOutrankALaterSpooledOne() throws Exception {
        Scripted rig = scripted(Duration.ofMillis(200), 0, spoolExecutor, drainExecutor);
        DirectoryTraceSpool spool = rig.spool();
        SpoolDrainer drainer = rig.drainer();
        TraceDelivery delivery = rig.delivery();
        List<Trace> writes = TURN;
        CompletableFuture<ExportResult> slow = scripted.next();
        CompletableFuture<ExportResult> failing = scripted.next();
        assertEquals(ExportStatus.SPOOLED, delivery.deliver(writes.get(0)).get(10, TimeUnit.SECONDS));
        assertEquals(ExportStatus.SPOOLED, delivery.deliver(writes.get(1)).get(10, TimeUnit.SECONDS));
        slow.complete(ExportResult.success("late"));
        scripted.awaitSent(2); // the later write goes out once the earlier one ended
        failing.complete(ExportResult.failure(true, "503"));

        drainUntilEmpty(spool, drainer);
        assertEquals(TraceState.OK, scripted.states().get(scripted.states().size() - 1), scripted.states().toString());
    }

    /** A trace confirmed after its export timeout spooled it is not stored, nor sent, a second time. */
    @Test
    void aLateConfirmedTraceIsSentOnce() throws Exception {
        Scripted rig = scripted(Duration.ofMillis(200), 0, spoolExecutor, drainExecutor);
        DirectoryTraceSpool spool = rig.spool();
        SpoolDrainer drainer = rig.drainer();
        TraceDelivery delivery = rig.delivery();
        Trace t = trace("slow MLflow");
        CompletableFuture<ExportResult> slow = scripted.next();
        assertEquals(ExportStatus.SPOOLED, delivery.deliver(t).get(10, TimeUnit.SECONDS));
        assertEquals(0, drainer.drainOnce(), "not sent again while its own export is on its way");
        slow.complete(ExportResult.success("late"));

        drainUntilEmpty(spool, drainer);
        assertEquals(1, scripted.sent().size(), scripted.states().toString());
    }

    /**
     * The bound on exports reached for write N, which goes to the spool; write N+1 gets a permit and MLflow confirms
     * it while N's file is still being written (the spool's thread is late). N+1 is kept beside N all the same.
     */
    @Test
    void aWriteConfirmedWhileAnEarlierOneIsStillBeingSpooledIsKeptBesideIt() throws Exception {
        ManualExecutor spoolThread = new ManualExecutor();
        Scripted rig = scripted(Duration.ofHours(1), 1, spoolThread, r -> { });
        DirectoryTraceSpool spool = rig.spool();
        SpoolDrainer drainer = rig.drainer();
        TraceDelivery delivery = rig.delivery();
        List<Trace> writes = TURN;
        CompletableFuture<ExportResult> other = scripted.next();
        delivery.deliver(trace("another trace, holding the only export permit"));
        CompletableFuture<ExportStatus> earlier = delivery.deliver(writes.get(0)); // no permit: to the spool
        other.complete(ExportResult.success("ok"));
        assertEquals(ExportStatus.DELIVERED, delivery.deliver(writes.get(1)).get(10, TimeUnit.SECONDS));

        spoolThread.runNewestFirst(); // N+1's step after its confirmation runs before N's file is written
        assertEquals(ExportStatus.SPOOLED, earlier.get(10, TimeUnit.SECONDS));
        drainer.drainOnce();
        assertEquals(0, spool.size());
        Trace last = scripted.sent().get(scripted.sent().size() - 1);
        assertEquals(TraceState.OK, last.info().state(), "the redelivery ends with the later write: " + scripted.states());
        assertEquals(3, last.spans().size());
    }

    /**
     * Write N's export fails; the final write, spooled ahead and queued behind N, is confirmed at once, and its copy
     * settled before N's file is written. The final copy stays, so the redelivery of N ends with it.
     */
    @Test
    void aFinalWriteSpooledAheadStaysWhileTheEarlierFailedWriteIsStillBeingSpooled() throws Exception {
        ManualExecutor spoolThread = new ManualExecutor();
        Scripted rig = scripted(Duration.ofHours(1), 0, spoolThread, r -> { });
        DirectoryTraceSpool spool = rig.spool();
        SpoolDrainer drainer = rig.drainer();
        TraceDelivery delivery = rig.delivery();
        List<Trace> writes = TURN;
        CompletableFuture<ExportResult> slow = scripted.next();
        CompletableFuture<ExportStatus> earlier = delivery.deliver(writes.get(0));
        CompletableFuture<ExportStatus> last = delivery.deliverDurably(writes.get(1));
        spoolThread.runNewestFirst(); // the final write spooled ahead; its export waits behind N's
        assertEquals(ExportStatus.SPOOLED, last.get(10, TimeUnit.SECONDS));
        slow.complete(ExportResult.failure(true, "503"));

        spoolThread.runNewestFirst(); // the final write's settling before N's file is written
        assertEquals(ExportStatus.SPOOLED, earlier.get(10, TimeUnit.SECONDS));
        drainer.drainOnce();
        assertEquals(0, spool.size());
        assertEquals(TraceState.OK, scripted.states().get(scripted.states().size() - 1), scripted.states().toString());
    }

    /** Runs its tasks when the test says, newest first: a spool thread slower than MLflow's answer. */
    static final class ManualExecutor implements Executor {
        private final java.util.Deque<Runnable> tasks = new java.util.ArrayDeque<>();

        @Override
        public synchronized void execute(Runnable r) {
            tasks.push(r);
        }

        void runNewestFirst() {
            while (true) {
                Runnable r;
                synchronized (this) {
                    r = tasks.poll();
                }
                if (r == null) {
                    return;
                }
                r.run();
            }
        }
    }

    /** A spool, a drainer and a delivery around the scripted exporter, sharing one export order. */
    private record Scripted(DirectoryTraceSpool spool, SpoolDrainer drainer, TraceDelivery delivery) {
    }

    private Scripted scripted(Duration timeout, int maxInFlight, Executor spoolThreads, Executor drainThread)
            throws java.io.IOException {
        DirectoryTraceSpool spool = newSpool();
        SpoolDrainer drainer = new SpoolDrainer(spool, scripted, new dev.agentfn.tracing.export.ExportOrder(spoolThreads,
                Duration.ofHours(1)), 10, 1, 5, Duration.ofHours(1), drainThread);
        return new Scripted(spool, drainer, new TraceDelivery(scripted, spool, drainer, timeout, spoolThreads, maxInFlight));
    }

    /** Drains until the spool is empty and no background step (a late removal, a kept copy) adds to it again. */
    private static void drainUntilEmpty(DirectoryTraceSpool spool, SpoolDrainer drainer) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int emptyLooks = 0;
        while (emptyLooks < 5 && System.nanoTime() < deadline) {
            drainer.drainOnce();
            emptyLooks = spool.size() == 0 ? emptyLooks + 1 : 0;
            Thread.sleep(20);
        }
        assertEquals(0, spool.size(), "the spool emptied");
    }

    private void awaitAttempts(String id, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (exporter.attempted().stream().filter(id::equals).count() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    /**
     * deliverDurably: the caller goes on once the trace is in the spool, while MLflow has not answered; the drainer
     * leaves that copy alone while its export is in flight, and MLflow's late confirmation removes it.
     */
    @Test
    void aDurableDeliveryAnswersOnceSpooledAndTheLateConfirmationRemovesTheCopy() throws Exception {
        DirectoryTraceSpool spool = newSpool();
        SpoolDrainer drainer = drainerOf(spool);
        TraceDelivery delivery = deliveryOf(spool, drainer, 0);
        Trace t = trace("turn end");
        exporter.hang(t.info().traceId());

        assertEquals(ExportStatus.SPOOLED, delivery.deliverDurably(t).get(10, TimeUnit.SECONDS),
                "answered without MLflow's confirmation (the export timeout is an hour)");
        exporter.awaitHanging(); // the export starts once the caller has its answer
        assertEquals(List.of(t.info().traceId()), spooledIds(spool));
        assertEquals(0, drainer.drainOnce(), "the copy is not sent again while its own export is in flight");
        assertEquals(List.of(t.info().traceId()), exporter.attempted());

        exporter.release(t.info().traceId());
        awaitEmpty(spool);
    }

    /** An export that fails leaves the spooled copy to the drainer, which then sends it like any spooled trace. */
    @Test
    void aDurableDeliveryWhoseExportFailsIsRedeliveredFromTheSpool() throws Exception {
        DirectoryTraceSpool spool = newSpool();
        SpoolDrainer drainer = drainerOf(spool);
        TraceDelivery delivery = deliveryOf(spool, drainer, 0);
        Trace t = trace("MLflow down at first");
        exporter.hang(t.info().traceId());
        assertEquals(ExportStatus.SPOOLED, delivery.deliverDurably(t).get(10, TimeUnit.SECONDS));
        exporter.awaitHanging();

        exporter.fail(t.info().traceId());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int sent = 0;
        while (sent == 0 && System.nanoTime() < deadline) {
            sent = drainer.drainOnce(); // 0 until the failed export let go of the copy
            Thread.onSpinWait();
        }
        assertEquals(1, sent, "redelivered by the drainer");
        assertEquals(List.of(), spooledIds(spool));
    }

    /** A spool that refuses the copy: the caller waits for MLflow, as with deliver. */
    @Test
    void aDurableDeliveryWaitsForMlflowWhenTheSpoolRefuses() throws Exception {
        DirectoryTraceSpool real = newSpool();
        dev.agentfn.tracing.spool.TraceSpool refusing = new dev.agentfn.tracing.spool.TraceSpool() {
            @Override
            public String put(Trace trace, long stamp) throws java.io.IOException {
                throw new java.io.IOException("disk full");
            }

            @Override
            public void confirmed(Trace trace, long stamp) throws java.io.IOException {
                throw new java.io.IOException("disk full");
            }

            @Override
            public List<dev.agentfn.tracing.spool.SpooledTrace> oldest(int max, java.util.function.Predicate<String> skip,
                    java.util.function.Predicate<String> later) {
                return real.oldest(max, skip, later);
            }

            @Override
            public void claim(Trace trace, long stamp) {
                real.claim(trace, stamp);
            }

            @Override
            public void remove(String handle) {
                real.remove(handle);
            }

            @Override
            public void reject(String handle, String reason) {
                real.reject(handle, reason);
            }

            @Override
            public int size() {
                return real.size();
            }
        };
        SpoolDrainer drainer = drainerOf(refusing);
        TraceDelivery delivery = deliveryOf(refusing, drainer, 0);
        Trace t = trace("spool full");
        exporter.hang(t.info().traceId());
        CompletableFuture<ExportStatus> answer = delivery.deliverDurably(t);
        Thread.sleep(200); // nothing for it to complete on but MLflow's answer
        assertFalse(answer.isDone(), "waits for MLflow: " + answer);
        exporter.release(t.info().traceId());
        assertEquals(ExportStatus.DELIVERED, answer.get(10, TimeUnit.SECONDS));
    }

    /** Shutdown waits for the exports in flight (bounded), so a copy spooled ahead of one is confirmed and removed. */
    @Test
    void shutdownWaitsForExportsInFlightWithinItsBound() throws Exception {
        DirectoryTraceSpool spool = newSpool();
        SpoolDrainer drainer = drainerOf(spool);
        TraceDelivery delivery = deliveryOf(spool, drainer, 4);
        assertTrue(delivery.awaitExports(Duration.ofMillis(10)), "nothing in flight");
        Trace t = trace("in flight at shutdown");
        exporter.hang(t.info().traceId());
        assertEquals(ExportStatus.SPOOLED, delivery.deliverDurably(t).get(10, TimeUnit.SECONDS));
        exporter.awaitHanging();

        assertFalse(delivery.awaitExports(Duration.ofMillis(100)), "still in flight after the bound");
        CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> delivery.awaitExports(Duration.ofSeconds(10)));
        Thread.sleep(100);
        assertFalse(waiting.isDone(), "waits while MLflow has not answered");
        exporter.release(t.info().traceId());
        assertTrue(waiting.get(10, TimeUnit.SECONDS), "returns once the export ended");
        awaitEmpty(spool);
    }

    private DirectoryTraceSpool newSpool() throws java.io.IOException {
        return new DirectoryTraceSpool(dir, "test destination", 100, new TraceCodec(new ObjectMapper()));
    }

    private SpoolDrainer drainerOf(dev.agentfn.tracing.spool.TraceSpool spool) {
        return new SpoolDrainer(spool, exporter, new dev.agentfn.tracing.export.ExportOrder(Runnable::run, Duration.ofHours(1)), 10, 1, 5, Duration.ofHours(1), drainExecutor);
    }

    /** An export timeout of an hour: a test that passes never waits it out. */
    private TraceDelivery deliveryOf(dev.agentfn.tracing.spool.TraceSpool spool, SpoolDrainer drainer, int maxInFlight) {
        return new TraceDelivery(exporter, spool, drainer, Duration.ofHours(1), spoolExecutor, maxInFlight);
    }

    /** Traces the spool holds durably: listed for the drainer, or held in a slot while their export is in flight. */
    private static List<String> spooledIds(DirectoryTraceSpool spool) {
        List<String> ids = new java.util.ArrayList<>(spool.heldAheadTraceIds());
        spool.oldest(100).forEach(x -> ids.add(x.trace().info().traceId()));
        return ids;
    }

    private static void awaitEmpty(DirectoryTraceSpool spool) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!spooledIds(spool).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(List.of(), spooledIds(spool), "the confirmed trace left the spool");
    }

    private Trace trace(String prompt) {
        ActiveTrace t = tracer.start("agent_invocation", MlflowKeys.SpanType.AGENT, Optional.empty());
        t.root().inputs(Map.of("prompt", prompt));
        return t.finish();
    }

    final ScriptedExporter scripted = new ScriptedExporter();
    /** The two writes of one turn ({@link dev.agentfn.tracing.spool.SpoolTraces#turnWrites}). */
    static final List<Trace> TURN = dev.agentfn.tracing.spool.SpoolTraces.turnWrites("0123456789abcdef0123456789abcdef");

    /** Each export takes the next future scripted ({@link #next}); exports beyond the script succeed at once. */
    static final class ScriptedExporter implements TraceExporter {
        private final java.util.concurrent.BlockingQueue<CompletableFuture<ExportResult>> script =
                new java.util.concurrent.LinkedBlockingQueue<>();
        private final List<Trace> sent = new CopyOnWriteArrayList<>();

        @Override
        public String destination() {
            return "scripted";
        }

        /** The answer to the next export not yet scripted, completed by the test. */
        CompletableFuture<ExportResult> next() {
            CompletableFuture<ExportResult> f = new CompletableFuture<>();
            script.add(f);
            return f;
        }

        List<Trace> sent() {
            return List.copyOf(sent);
        }

        List<TraceState> states() {
            return sent.stream().map(t -> t.info().state()).toList();
        }

        void awaitSent(int n) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (sent.size() < n && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(n, sent.size(), "exports started");
        }

        @Override
        public CompletableFuture<ExportResult> export(Trace trace) {
            sent.add(trace);
            CompletableFuture<ExportResult> f = script.poll();
            return f != null ? f : CompletableFuture.completedFuture(ExportResult.success("ok"));
        }
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
        private final List<Trace> sent = new CopyOnWriteArrayList<>();
        private final CompletableFuture<Void> someoneHangs = new CompletableFuture<>();

        List<String> attempted() {
            return List.copyOf(attempts);
        }

        /** Every trace the exporter was given, as given. */
        List<Trace> sent() {
            return List.copyOf(sent);
        }

        void release(String traceId) {
            open.get(traceId).complete(ExportResult.success("late"));
        }

        /** The hanging export of this trace fails as an unreachable MLflow would; later exports of it succeed. */
        void fail(String traceId) {
            hanging.remove(traceId);
            open.remove(traceId).complete(ExportResult.failure(true, "connection refused"));
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
            sent.add(trace);
            if (hanging.contains(trace.info().traceId())) {
                CompletableFuture<ExportResult> pending = open.computeIfAbsent(trace.info().traceId(),
                        id -> new CompletableFuture<>());
                someoneHangs.complete(null);
                return pending;
            }
            return CompletableFuture.completedFuture(ExportResult.success("ok"));
        }
    }
}
