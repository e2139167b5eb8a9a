package dev.agentfn.tracing.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfn.mlflow.entities.Trace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spool's group commit: writes that arrive together share one forced batch; a crash loses none of them. */
class GroupCommitTest {
    @TempDir
    Path dir;
    final SpoolTraces traces = new SpoolTraces();
    final AtomicLong clock = new AtomicLong();

    private DirectoryTraceSpool spool() throws Exception {
        return new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 100, SpoolTraces.CODEC,
                DirectoryTraceSpool.LISTING_BYTES, TimeUnit.SECONDS.toNanos(5), clock::get);
    }

    @Test
    void writesThatArriveWhileAGroupIsBeingWrittenShareTheNextBatch() throws Exception {
        DirectoryTraceSpool spool = spool();
        List<Trace> burst = IntStream.range(0, 5).mapToObj(i -> traces.next("b" + i)).toList();
        ExecutorService writers = Executors.newFixedThreadPool(5);
        List<Future<String>> handles;
        synchronized (spool.commits().commitLock) { // a group being written: the burst queues behind it
            handles = burst.stream().map(t -> writers.submit(() -> spool.put(t))).toList();
            while (spool.commits().queued() < 5) {
                Thread.onSpinWait();
            }
        }
        List<String> names = handles.stream().map(GroupCommitTest::get).sorted().toList();
        writers.shutdown();

        List<Path> batches = batches();
        assertEquals(1, batches.size(), "one batch, so one file fsync, for the five writes");
        List<GroupCommit.Record> records = GroupCommit.decode(Files.readAllBytes(batches.get(0)));
        assertEquals(names, records.stream().map(GroupCommit.Record::name).sorted().toList());
        for (GroupCommit.Record r : records) {
            assertTrue(Arrays.equals(r.bytes(), Files.readAllBytes(dir.resolve(r.name()))), "each write has its file");
        }
        assertEquals(5, spool.size());

        names.forEach(spool::remove); // MLflow confirmed them all: no write ever needed an fsync of its own
        assertEquals(List.of(), batches());
        assertEquals(0, spool.commits().openBatches());
    }

    @Test
    void afterACrashAWriteWhoseOwnFileWasTornOrEmptiedComesBackWholeAndADeliveredOneStaysGone() throws Exception {
        DirectoryTraceSpool before = spool();
        Trace torn = traces.next("torn");
        Trace emptied = traces.next("emptied");
        List<Trace> writes = new java.util.ArrayList<>();
        String tornName = before.put(torn);
        String emptiedName = before.put(emptied);
        Trace delivered = traces.next("delivered");
        Future<String> d;
        ExecutorService writers = Executors.newFixedThreadPool(2);
        synchronized (before.commits().commitLock) { // the delivered write shares its batch with one still waiting
            Trace waits = traces.next("waits");
            writes.add(waits);
            d = writers.submit(() -> before.put(delivered));
            writers.submit(() -> before.put(waits));
            while (before.commits().queued() < 2) {
                Thread.onSpinWait();
            }
        }
        writers.shutdown();
        String deliveredName = get(d);
        assertTrue(writers.awaitTermination(10, TimeUnit.SECONDS));
        assertEquals(3, batches().size());
        before.remove(deliveredName); // MLflow confirmed it; its batch stays for the other write
        byte[] bytes = Files.readAllBytes(dir.resolve(tornName));
        Files.write(dir.resolve(tornName), Arrays.copyOf(bytes, bytes.length / 2)); // its data never reached the disk
        Files.write(dir.resolve(emptiedName), new byte[0]);

        DirectoryTraceSpool after = spool(); // the next process opens the spool
        List<SpooledTrace> back = after.oldest(10);
        assertEquals(List.of(torn.info().traceId(), emptied.info().traceId(), writes.get(0).info().traceId()),
                back.stream().map(s -> s.trace().info().traceId()).toList(), "the delivered write is not brought back");
        assertEquals(torn.spans(), back.get(0).trace().spans());
        assertEquals(emptied.info(), back.get(1).trace().info());
        assertEquals(List.of(), batches(), "recovered batches are deleted");
        assertFalse(Files.exists(dir.resolve("corrupt")), "nothing was set aside");
    }

    @Test
    void aWriteStillWaitingAfterTheBoundIsForcedOnItsOwnAndItsBatchGoes() throws Exception {
        DirectoryTraceSpool spool = spool();
        Trace waiting = traces.next("waiting");
        String handle = spool.put(waiting);
        spool.oldest(10);
        assertEquals(1, batches().size(), "still within the bound: MLflow may confirm it yet");

        clock.addAndGet(TimeUnit.SECONDS.toNanos(5));
        assertEquals(1, spool.oldest(10).size());
        assertEquals(List.of(), batches(), "its own file is forced now, so its batch is not needed");
        assertEquals(0, spool.commits().openBatches());

        spool.remove(handle);
        assertEquals(0, spool().size(), "nothing comes back after a restart");
    }

    @Test
    void anUnreadableBatchIsSetAsideAndTheOthersAreRecovered() throws Exception {
        Trace kept = traces.next("kept");
        spool().put(kept);
        Files.writeString(dir.resolve("0f0f.batch"), "agentfn spool batch 1\n../escape.json 4\n{}{}\n");

        List<SpooledTrace> back = spool().oldest(10);
        assertEquals(List.of(kept.info().traceId()), back.stream().map(s -> s.trace().info().traceId()).toList());
        assertTrue(Files.exists(dir.resolve("corrupt").resolve("0f0f.batch")), "kept for an operator");
        assertFalse(Files.exists(dir.getParent().resolve("escape.json")));
        assertEquals(List.of(), batches());
    }

    private List<Path> batches() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(GroupCommit.SUFFIX)).toList();
        }
    }

    private static String get(Future<String> f) {
        try {
            return f.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
