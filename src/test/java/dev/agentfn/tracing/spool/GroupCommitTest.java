package dev.agentfn.tracing.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfn.mlflow.entities.Trace;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ExecutionException;
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
            awaitQueued(spool.commits(), 5);
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
            awaitQueued(before.commits(), 2);
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
        assertFalse(Files.exists(dir.resolve("corrupt")), "nothing was set aside");
        assertEquals(3, batches().size(), "left alone while young: they might be a live instance's");

        ageBatches(); // ten minutes on, nobody tracks them: their writer is gone
        clock.addAndGet(GroupCommit.ORPHAN_SWEEP_NANOS);
        assertEquals(3, after.oldest(10).size());
        assertEquals(List.of(), batches(), "settled: every write they held is durable on its own");
        assertFalse(Files.exists(dir.resolve(deliveredName)), "the delivered write stays gone");
    }

    @Test
    void aWriteStillWaitingAfterTheBoundIsForcedOnItsOwnAndItsBatchGoes() throws Exception {
        DirectoryTraceSpool spool = spool();
        Trace waiting = traces.next("waiting");
        String handle = spool.put(waiting);
        spool.oldest(10);
        assertEquals(1, batches().size(), "still within the bound: MLflow may confirm it yet");

        assertEquals(0, spool.commits().forcedOnTheirOwn());
        clock.addAndGet(TimeUnit.SECONDS.toNanos(5));
        assertEquals(1, spool.oldest(10).size());
        assertEquals(1, spool.commits().forcedOnTheirOwn());
        assertEquals(List.of(), batches(), "its own file is forced now, so its batch is not needed");
        assertEquals(0, spool.commits().openBatches());

        spool.remove(handle);
        assertEquals(0, spool().size(), "nothing comes back after a restart");
    }

    @Test
    void anUnreadableBatchIsSetAsideAndTheOthersAreRecovered() throws Exception {
        Trace kept = traces.next("kept");
        spool().put(kept);
        Files.createDirectories(dir.resolve("x"));
        Path outside = Files.writeString(dir.getParent().resolve("escape-" + dir.getFileName() + ".json"), "theirs");
        Files.writeString(dir.resolve("0f0f.batch"),
                "agentfn spool batch 1\nx/../../" + outside.getFileName() + " 4\n{}{}\n");
        Files.writeString(dir.resolve("0f10.batch"), "agentfn spool batch 1\n0000000000001-tr-x+1.json 2147483647\n\n");
        ageBatches();

        List<SpooledTrace> back = spool().oldest(10);
        assertEquals(List.of(kept.info().traceId()), back.stream().map(s -> s.trace().info().traceId()).toList());
        assertTrue(Files.exists(dir.resolve("corrupt").resolve("0f0f.batch")), "kept for an operator");
        assertTrue(Files.exists(dir.resolve("corrupt").resolve("0f10.batch")), "a length past the end is not read");
        assertEquals("theirs", Files.readString(outside), "a record never names a file outside the spool");
        Files.delete(outside);
        assertEquals(List.of(), batches());
    }

    @Test
    void aWriteSetAsideBeforeItWasForcedIsForcedWhereItGoes() throws Exception {
        DirectoryTraceSpool spool = spool();
        String handle = spool.put(traces.next("refused"));
        spool.reject(handle, "400 INVALID_PARAMETER_VALUE"); // within the bound: no listing forced it

        assertTrue(Files.exists(dir.resolve("rejected").resolve(handle)));
        assertEquals(1, spool.commits().forcedOnTheirOwn(), "forced in rejected/ before its batch goes");
        assertEquals(List.of(), batches());
    }

    @Test
    void anErrorWhileAGroupIsWrittenFailsEveryWriteOfTheGroup() throws Exception {
        Path faulty = (Path) Proxy.newProxyInstance(Path.class.getClassLoader(), new Class<?>[] {Path.class},
                (proxy, m, args) -> {
                    if (m.getName().equals("resolve") && args[0] instanceof String s && s.endsWith(GroupCommit.SUFFIX)) {
                        throw new OutOfMemoryError("simulated: no memory left for the batch");
                    }
                    try {
                        return m.invoke(dir, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        GroupCommit commits = new GroupCommit(faulty, TimeUnit.SECONDS.toNanos(5), clock::get);
        ExecutorService writers = Executors.newFixedThreadPool(2);
        List<Future<?>> writes = new ArrayList<>();
        synchronized (commits.commitLock) {
            for (String w : List.of("a", "b")) {
                writes.add(writers.submit(() -> {
                    commits.write("0000000000001-tr-" + w + "+0000000000000001.json", new byte[] {'{', '}'});
                    return null;
                }));
            }
            awaitQueued(commits, 2);
        }
        writers.shutdown();
        for (Future<?> w : writes) {
            assertThrows(ExecutionException.class, () -> w.get(10, TimeUnit.SECONDS), "told durable, stored nowhere");
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(), files.toList(), "and nothing is left behind");
        }
    }

    @Test
    void aGroupThatFailsPartWayLeavesNothingTheDrainerWouldSend() throws Exception {
        DirectoryTraceSpool spool = spool();
        Trace first = traces.next("first");
        Trace second = traces.next("second");
        Files.createDirectories(dir.resolve(name(second, 2)).resolve("x")); // its rename fails (as EIO would)
        ExecutorService writers = Executors.newFixedThreadPool(2);
        Future<String> a;
        Future<String> b;
        synchronized (spool.commits().commitLock) {
            a = writers.submit(() -> spool.put(first, 1));
            awaitQueued(spool.commits(), 1);
            b = writers.submit(() -> spool.put(second, 2));
            awaitQueued(spool.commits(), 2);
        }
        writers.shutdown();
        assertThrows(ExecutionException.class, () -> a.get(10, TimeUnit.SECONDS));
        assertThrows(ExecutionException.class, () -> b.get(10, TimeUnit.SECONDS));
        assertFalse(Files.exists(dir.resolve(name(first, 1))), "its put failed: the caller does not count on it");
        assertEquals(List.of(), batches());
    }

    @Test
    void theSameWriteStoredTwiceLeavesNoBatchBehind() throws Exception {
        DirectoryTraceSpool spool = spool();
        Trace t = traces.next("twice");
        String first = spool.put(t, 7); // its export timed out...
        assertEquals(first, spool.put(t, 7)); // ...and its late confirmation kept it beside an earlier write
        spool.remove(first);
        clock.addAndGet(TimeUnit.SECONDS.toNanos(60));
        spool.oldest(10);

        assertEquals(0, spool.commits().openBatches());
        assertEquals(List.of(), batches());
    }

    @Test
    void aBatchWhoseWritesCannotBeMadeDurableNowIsKeptForALaterSweep() throws Exception {
        String name = spool().put(traces.next("torn"));
        Path batch = batches().get(0);
        String blocker = "0000000000000-tr-blocker+0000000000000001.json";
        Files.createDirectories(dir.resolve(blocker).resolve("x")); // its rewrite fails (as a full disk would)
        byte[] body = Files.readAllBytes(batch);
        byte[] header = "agentfn spool batch 1\n".getBytes(StandardCharsets.US_ASCII);
        java.io.ByteArrayOutputStream withBlocker = new java.io.ByteArrayOutputStream();
        withBlocker.writeBytes(header);
        withBlocker.writeBytes((blocker + " 2\n{}\n").getBytes(StandardCharsets.US_ASCII));
        withBlocker.write(body, header.length, body.length - header.length);
        Files.write(batch, withBlocker.toByteArray());
        Files.write(dir.resolve(name), new byte[0]); // the crash: its own data never reached the disk
        ageBatches();

        DirectoryTraceSpool after = spool();
        assertEquals(1, after.oldest(10).size(), "the torn write is restored from the batch");
        assertTrue(Files.exists(batch), "readable, so not set aside as unreadable: a later sweep settles it");
        assertFalse(Files.exists(dir.resolve("corrupt").resolve(batch.getFileName())));
    }

    @Test
    void anotherInstanceSharingTheDirectoryLeavesALiveWritersBatchAlone() throws Exception {
        DirectoryTraceSpool live = spool();
        String handle = live.put(traces.next("in flight")); // its export is on its way
        Path batch = batches().get(0);
        byte[] before = Files.readAllBytes(batch);

        DirectoryTraceSpool other = spool(); // a second instance starts on the same volume
        assertEquals(1, other.oldest(10).size());
        assertTrue(Arrays.equals(before, Files.readAllBytes(batch)), "untouched");

        live.remove(handle); // MLflow confirmed it
        assertEquals(List.of(), batches());
        assertEquals(0, other.size());
    }

    private void ageBatches() throws Exception {
        FileTime old = FileTime.fromMillis(System.currentTimeMillis() - GroupCommit.ORPHAN_AGE_MILLIS - 1000);
        for (Path b : batches()) {
            Files.setLastModifiedTime(b, old);
        }
    }

    private static String name(Trace t, long stamp) {
        return String.format("%013d-%s+%016d.json", t.info().requestTimeMillis(), t.info().traceId(), stamp);
    }

    private static void awaitQueued(GroupCommit commits, int n) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (commits.queued() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the writes never queued");
            }
            Thread.onSpinWait();
        }
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
