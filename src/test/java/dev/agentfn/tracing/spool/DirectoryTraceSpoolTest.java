package dev.agentfn.tracing.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.mlflow.entities.TraceState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryTraceSpoolTest {
    @TempDir
    Path dir;
    final SpoolTraces traces = new SpoolTraces();

    @Test
    void returnsTracesOldestFirstAndLosslessly() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        Trace a = traces.next("a");
        Trace b = traces.next("b");
        spool.put(b);
        spool.put(a);

        List<SpooledTrace> out = spool.oldest(10);
        assertEquals(List.of(a.info().traceId(), b.info().traceId()), ids(out));
        assertEquals(a.spans().get(0).attributes(), out.get(0).trace().spans().get(0).attributes());
        assertEquals(a.info(), out.get(0).trace().info());
        assertFalse(out.get(0).trace().spansOnly());
    }

    @Test
    void spansJoinedToACallersTraceStaySpansOnlyInTheSpool() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        Trace joined = traces.next("joined").joinedUnder("00f067aa0ba902b7");
        spool.put(joined);

        Trace back = spool.oldest(1).get(0).trace();
        assertTrue(back.spansOnly(), "redelivered as spans only, never as the caller's trace record");
        assertEquals(joined.spans(), back.spans());
    }

    @Test
    void aFileWrittenBeforeDestinationsWereRecordedIsTakenAsThisDirectorysAndRecordsItsDestinationFromNowOn()
            throws Exception {
        Trace old = traces.next("old");
        com.fasterxml.jackson.databind.node.ObjectNode v1 = (com.fasterxml.jackson.databind.node.ObjectNode)
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(SpoolTraces.CODEC.encode(old, "ignored"));
        v1.put("v", 1).remove("destination");
        Files.write(dir.resolve("0000000000001-" + old.info().traceId() + ".json"), v1.toString().getBytes());
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        assertEquals(List.of(old.info().traceId()), ids(spool.oldest(10)));

        String handle = spool.put(traces.next("new"));
        assertEquals(SpoolTraces.DESTINATION, SpoolTraces.CODEC.decode(Files.readAllBytes(dir.resolve(handle))).destination());
    }

    @Test
    void aFullSpoolDropsItsOwnOldestTraceNeverAnotherDestinations() throws Exception {
        DirectoryTraceSpool other = new DirectoryTraceSpool(dir, "http://elsewhere:5000 experiment_id=1", 10,
                SpoolTraces.CODEC);
        Trace theirs = traces.next("theirs");
        String theirFile = other.put(theirs);
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 2, SpoolTraces.CODEC);
        spool.put(traces.next("a"));
        spool.put(traces.next("b"));
        spool.put(traces.next("c"));
        assertTrue(Files.exists(dir.resolve(theirFile)), "the other deployment's trace is still there");
        assertEquals(2, spool.oldest(10).size());
    }

    @Test
    void eachDestinationHasADirectoryOfItsOwnNamingItAndNoCredential() throws Exception {
        Path a = DirectoryTraceSpool.directoryFor(dir, "http://127.0.0.1:5000 experiment_id=1");
        Path b = DirectoryTraceSpool.directoryFor(dir, "http://127.0.0.1:5001 experiment_id=1");
        assertEquals(a, DirectoryTraceSpool.directoryFor(dir, "http://127.0.0.1:5000 experiment_id=1"));
        assertFalse(a.equals(b));
        assertEquals(dir, a.getParent());
        assertEquals("http://127.0.0.1:5000 experiment_id=1\n", Files.readString(a.resolve("destination.txt")));
        assertEquals(0, DirectoryTraceSpool.unlabelledIn(dir));
        Files.write(dir.resolve("0000000000001-tr-left-by-an-older-agentfn.json"), "{}".getBytes());
        assertEquals(1, DirectoryTraceSpool.unlabelledIn(dir));
    }

    @Test
    void knowsWhenItIsEmptyOnlyAfterLooking() throws Exception {
        Files.write(dir.resolve("0000000000001-left-by-a-frozen-instance.json"), "{}".getBytes());
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        assertTrue(spool.mayHoldTraces(), "a new spool has not looked yet");
        assertEquals(List.of(), spool.oldest(10), "the unreadable file was set aside");
        assertEquals(0, spool.size());
        assertFalse(spool.mayHoldTraces());
        String handle = spool.put(traces.next("a"));
        assertTrue(spool.mayHoldTraces());
        spool.remove(handle);
        assertTrue(spool.mayHoldTraces(), "stays cautious until the next look");
        assertEquals(0, spool.size());
        assertFalse(spool.mayHoldTraces());
    }

    @Test
    void theWritesOfOneTraceAreReadBackAsOneWithEverySpanAndTheLaterRootAndInfo() throws Exception {
        // a gateway turn whose two writes MLflow both missed: each holds only the spans its call ended
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        List<Trace> writes = SpoolTraces.turnWrites("0123456789abcdef0123456789abcdef");
        String first = spool.put(writes.get(0));
        String second = spool.put(writes.get(1));

        List<SpooledTrace> out = spool.oldest(10);
        assertEquals(1, out.size(), "one trace");
        Trace merged = out.get(0).trace();
        assertEquals(List.of("00000000000000a1", "00000000000000b1", "00000000000000b2"), spanIds(merged), "every span");
        assertEquals(root(writes.get(1)), root(merged), "the later root, with the answer");
        assertEquals(TraceState.OK, merged.info().state());
        assertEquals("the prompt", merged.info().requestPreview(), "a preview the later write lacks is kept");
        assertEquals("kept", merged.info().metadata().get("first.only"));
        assertEquals("second", merged.info().metadata().get("changes"));

        spool.remove(out.get(0).handle());
        assertEquals(0, spool.size(), "confirming the merged trace deletes both copies: " + first + ", " + second);
    }

    @Test
    void theConfirmationOfALaterWriteKeepsItWhileAnEarlierWriteStillWaits() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        List<Trace> writes = SpoolTraces.turnWrites("0123456789abcdef0123456789abcdef");
        String first = spool.put(writes.get(0));
        String second = spool.put(writes.get(1));

        spool.remove(second); // the later write's export landed; the earlier one's has not
        assertEquals(2, spool.size(), "the earlier copy still has to be sent, and then the later root over it");
        assertEquals(TraceState.OK, spool.oldest(10).get(0).trace().info().state());

        spool.remove(first); // the earlier write's late confirmation
        List<SpooledTrace> left = spool.oldest(10);
        assertEquals(List.of(second), left.stream().map(SpooledTrace::handle).toList(),
                "the later copy is sent once more, so it is what MLflow keeps");
        spool.remove(left.get(0).handle());
        assertEquals(0, spool.size());
    }

    @Test
    void aConfirmedWriteIsKeptOnlyBesideAnEarlierWriteOfItsTrace() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        List<Trace> writes = SpoolTraces.turnWrites("0123456789abcdef0123456789abcdef");
        spool.confirmed(writes.get(1), 20);
        spool.confirmed(traces.next("another trace"), 30);
        assertEquals(0, spool.size(), "nothing of its trace waits: nothing to keep");

        spool.put(writes.get(1), 20);
        spool.confirmed(writes.get(1), 20);
        assertEquals(1, spool.size(), "this very write is spooled already (it timed out before its confirmation)");
        spool.confirmed(writes.get(0), 10);
        assertEquals(1, spool.size(), "only a later write waits: the confirmed earlier one adds nothing to it");
        spool.remove(spool.oldest(10).get(0).handle());

        spool.put(writes.get(0), 10);
        spool.confirmed(writes.get(1), 20);
        List<SpooledTrace> out = spool.oldest(10);
        assertEquals(1, out.size());
        assertEquals(root(writes.get(1)), root(out.get(0).trace()), "the redelivery ends with the confirmed root");
        assertEquals(TraceState.OK, out.get(0).trace().info().state());
    }

    @Test
    void copiesAreMergedInTheOrderTheirWritesWereHandedOverNotTheOrderTheyReachedTheDisk() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        List<Trace> writes = SpoolTraces.turnWrites("0123456789abcdef0123456789abcdef");
        spool.put(writes.get(1), 2_000);
        spool.put(writes.get(0), 1_000); // an earlier write whose export failed later
        Trace merged = spool.oldest(10).get(0).trace();
        assertEquals(TraceState.OK, merged.info().state());
        assertEquals(root(writes.get(1)), root(merged));
    }

    @Test
    void oneListingReadsAboutABoundedNumberOfBytesButAlwaysOneTrace() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 100, SpoolTraces.CODEC, 1);
        for (int i = 0; i < 3; i++) {
            spool.put(traces.next("t" + i));
        }
        assertEquals(1, spool.oldest(10).size(), "stops once the bytes read reach the bound, after one trace");
        assertEquals(3, spool.size());
    }

    @Test
    void tracesThatKeepFailingAreListedAfterTheOthersSoTheyCannotFillAListing() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 100, SpoolTraces.CODEC, 1);
        Trace failing = traces.next("failing");
        Trace fine = traces.next("fine");
        spool.put(failing);
        spool.put(fine);
        assertEquals(List.of(failing.info().traceId()), ids(spool.oldest(10)), "oldest first, one trace's bytes");
        assertEquals(List.of(fine.info().traceId()), ids(spool.oldest(10, h -> false, failing.info().traceId()::equals)));
    }

    @Test
    void aTraceIsPassedOverWhenItsIdOrAnyOfItsCopiesIsHeldBack() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        List<Trace> writes = SpoolTraces.turnWrites("0123456789abcdef0123456789abcdef");
        spool.put(writes.get(0));
        String second = spool.put(writes.get(1));
        Trace other = traces.next("other");
        spool.put(other);
        String id = writes.get(0).info().traceId();

        assertEquals(List.of(other.info().traceId()), ids(spool.oldest(10, id::equals)));
        assertEquals(List.of(other.info().traceId()), ids(spool.oldest(10, second::equals)));
        assertEquals(2, spool.oldest(10, h -> false).size());
    }

    @Test
    void theLateConfirmationOfAnEarlierCopyLeavesTheNewerCopyOfTheTrace() throws Exception {
        // A gateway turn writes its trace after each call: an intermediate write spooled after a timeout, then
        // the final one; the intermediate's export lands late and its confirmation removes its handle.
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        Trace last = traces.next("turn");
        Trace earlier = new Trace(last.info(), List.of());
        String earlierHandle = spool.put(earlier);
        String lastHandle = spool.put(last);
        assertNotEquals(earlierHandle, lastHandle);

        spool.remove(earlierHandle);

        List<SpooledTrace> left = spool.oldest(10);
        assertEquals(List.of(lastHandle), left.stream().map(SpooledTrace::handle).toList());
        assertEquals(last.spans(), left.get(0).trace().spans(), "the final copy, every span");
        spool.remove(lastHandle);
        assertEquals(0, spool.size());
    }

    @Test
    void copiesByAnOlderAgentfnOrLeftByACrashAreMergedEarliestFirst() throws Exception {
        List<Trace> writes = SpoolTraces.turnWrites("0123456789abcdef0123456789abcdef");
        String id = writes.get(0).info().traceId();
        long at = writes.get(0).info().requestTimeMillis();
        String unstamped = String.format("%013d-%s.json", at, id); // by an agentfn before write stamps
        Files.write(dir.resolve(unstamped), SpoolTraces.CODEC.encode(writes.get(0), SpoolTraces.DESTINATION));
        String stamped = String.format("%013d-%s+0000000000000002.json", at, id);
        Files.write(dir.resolve(stamped), SpoolTraces.CODEC.encode(writes.get(1), SpoolTraces.DESTINATION));
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);

        List<SpooledTrace> out = spool.oldest(10);
        assertEquals(1, out.size());
        assertEquals(List.of("00000000000000a1", "00000000000000b1", "00000000000000b2"), spanIds(out.get(0).trace()));
        assertEquals(TraceState.OK, out.get(0).trace().info().state(), "the stamped copy is the later one");
        spool.remove(out.get(0).handle());
        assertEquals(0, spool.size());
    }

    @Test
    void aHandleNeverNamesAFileOutsideTheSpool() throws Exception {
        Path outside = Files.writeString(dir.resolve("outside.json"), "{}");
        Path spoolDir = Files.createDirectories(dir.resolve("spool"));
        DirectoryTraceSpool spool = new DirectoryTraceSpool(spoolDir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        spool.remove("../outside.json");
        spool.remove("..\\outside.json");
        spool.reject("../outside.json", "no");
        assertTrue(Files.exists(outside));
    }

    private static List<String> spanIds(Trace t) {
        return t.spans().stream().map(s -> s.spanId()).sorted().toList();
    }

    private static dev.agentfn.mlflow.entities.SpanData root(Trace t) {
        return t.spans().stream().filter(s -> s.isRoot()).findFirst().orElseThrow();
    }

    @Test
    void aTornFileIsSetAsideAndDoesNotHideTheOthers() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        String torn = spool.put(traces.next("torn"));
        Trace good = traces.next("good");
        spool.put(good);
        byte[] bytes = Files.readAllBytes(dir.resolve(torn));
        Files.write(dir.resolve(torn), Arrays.copyOf(bytes, bytes.length / 2));

        assertEquals(List.of(good.info().traceId()), ids(spool.oldest(10)));
        assertTrue(Files.exists(dir.resolve("corrupt").resolve(torn)), "kept for an operator");
        assertEquals(1, spool.size());
    }

    @Test
    void aCopyPutAheadIsHeldInASlotNotListedAndItsConfirmationFreesTheSlotForTheNext() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        Trace t = traces.next("turn end");
        String handle = spool.putAhead(t, 1);

        assertEquals(List.of(t.info().traceId()), spool.heldAheadTraceIds());
        assertEquals(List.of(), ids(spool.oldest(10)), "its export is in flight: not the drainer's");
        assertEquals(List.of(t.info().traceId()), recordIds(aheadDirectory()), "on disk before putAhead returned");

        spool.remove(handle); // MLflow confirmed it
        assertEquals(List.of(), spool.heldAheadTraceIds());
        assertEquals(List.of(), recordIds(aheadDirectory()), "a freed slot holds no record");
        spool.remove(spool.putAhead(traces.next("the next turn end"), 2));
        try (var slots = Files.list(aheadDirectory())) {
            assertEquals(1, slots.filter(p -> p.getFileName().toString().startsWith("slot-")).count(),
                    "the next copy is written over the freed slot, not into a new file");
        }
        assertEquals(0, spool.size());
    }

    @Test
    void aCopyPutAheadOutlivesAKilledProcessAndTheNextSpoolTakesItOverWhole() throws Exception {
        DirectoryTraceSpool killed = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        Trace t = traces.next("answered, then the process was killed");
        killed.putAhead(t, 1);
        Path slots = aheadDirectory();
        killed.crashForTest();

        DirectoryTraceSpool next = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        List<SpooledTrace> out = next.oldest(10);
        assertEquals(List.of(t.info().traceId()), ids(out));
        assertEquals(t.info(), out.get(0).trace().info());
        assertEquals(t.spans(), out.get(0).trace().spans());
        assertFalse(Files.exists(slots), "the ended process's slots are gone once their copies are files");
    }

    @Test
    void aSlotWriteACrashCutShortIsSkippedAndTheOtherSlotsAreTakenOver() throws Exception {
        DirectoryTraceSpool killed = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        Trace torn = traces.next("torn");
        Trace whole = traces.next("whole");
        killed.putAhead(torn, 1);
        killed.putAhead(whole, 2);
        Path slots = aheadDirectory();
        killed.crashForTest();
        for (Path slot : slotFiles(slots)) {
            byte[] bytes = Files.readAllBytes(slot);
            if (new String(bytes, java.nio.charset.StandardCharsets.UTF_8).contains(torn.info().traceId())) {
                bytes[100] ^= 0x20; // a write that did not reach the disk whole
                Files.write(slot, bytes);
            }
        }

        DirectoryTraceSpool next = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        assertEquals(List.of(whole.info().traceId()), ids(next.oldest(10)));
    }

    @Test
    void theSlotsOfALiveSpoolAreNeverTakenOver() throws Exception {
        DirectoryTraceSpool live = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        Trace t = traces.next("in flight");
        live.putAhead(t, 1);

        DirectoryTraceSpool other = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        assertEquals(List.of(), ids(other.oldest(10)));
        assertEquals(List.of(t.info().traceId()), live.heldAheadTraceIds());
    }

    @Test
    void aCopyPutAheadWhoseExportFailedIsKeptAsAFileForTheDrainer() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        Trace t = traces.next("MLflow down");
        String kept = spool.keep(spool.putAhead(t, 1));

        List<SpooledTrace> out = spool.oldest(10);
        assertEquals(List.of(kept), out.stream().map(SpooledTrace::handle).toList());
        assertEquals(t.spans(), out.get(0).trace().spans());
        assertEquals(List.of(), spool.heldAheadTraceIds());
        assertEquals(List.of(), recordIds(aheadDirectory()));
    }

    @Test
    void aLaterCopyPutAheadAndConfirmedIsKeptWhileAnEarlierCopyOfItsTraceWaits() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        List<Trace> writes = SpoolTraces.turnWrites("0123456789abcdef0123456789abcdef");
        spool.put(writes.get(0), 1); // its export failed: it waits for the drainer
        spool.remove(spool.putAhead(writes.get(1), 2));

        Trace merged = spool.oldest(10).get(0).trace();
        assertEquals(TraceState.OK, merged.info().state(), "redelivered, it ends with the later root");
        assertEquals(Set.of("00000000000000a1", "00000000000000b1", "00000000000000b2"), new HashSet<>(spanIds(merged)));
    }

    @Test
    void closingHandsHeldCopiesOverAsFilesAndRemovesItsSlots() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        Trace t = traces.next("export still in flight at shutdown");
        spool.putAhead(t, 1);
        Path slots = aheadDirectory();
        spool.close();

        assertFalse(Files.exists(slots));
        DirectoryTraceSpool next = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        assertEquals(List.of(t.info().traceId()), ids(next.oldest(10)));
    }

    @Test
    void parallelCopiesPutAheadTakeASlotEachAndAllOutliveAKill() throws Exception {
        DirectoryTraceSpool killed = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 1000, SpoolTraces.CODEC);
        List<Trace> burst = IntStream.range(0, 32).mapToObj(i -> traces.next("p" + i)).toList();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<String>> puts = new ArrayList<>();
            for (int i = 0; i < burst.size(); i++) {
                Trace t = burst.get(i);
                long stamp = i;
                puts.add(pool.submit(() -> killed.putAhead(t, stamp)));
            }
            for (Future<String> f : puts) {
                assertTrue(f.get(10, TimeUnit.SECONDS).startsWith("ahead:"));
            }
        } finally {
            pool.shutdownNow();
        }
        killed.crashForTest();

        DirectoryTraceSpool next = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 1000, SpoolTraces.CODEC);
        assertEquals(burst.stream().map(t -> t.info().traceId()).sorted().toList(),
                ids(next.oldest(1000)).stream().sorted().toList());
    }

    @Test
    void withoutADirectoryOfItsOwnForSlotsACopyPutAheadIsAnOrdinaryFile() throws Exception {
        AheadSlots none = AheadSlots.openOrNone(dir.resolve("no such directory"));
        assertFalse(none.write("1-x+1.json", new byte[] {1}), "no slot: the caller spools a file");
        assertEquals(null, none.directory());
    }

    private Path aheadDirectory() throws Exception {
        try (var dirs = Files.list(dir)) {
            return dirs.filter(p -> p.getFileName().toString().startsWith(".ahead-")).findFirst().orElseThrow();
        }
    }

    private static List<Path> slotFiles(Path slots) throws Exception {
        try (var files = Files.list(slots)) {
            return files.filter(p -> p.getFileName().toString().startsWith("slot-")).toList();
        }
    }

    private static List<String> recordIds(Path slots) throws Exception {
        List<String> ids = new ArrayList<>();
        for (AheadSlots.Record r : AheadSlots.records(slots)) {
            ids.add(SpoolTraces.CODEC.decode(r.bytes()).trace().info().traceId());
        }
        return ids;
    }

    @Test
    void anUnfinishedWriteFromACrashIsNeitherReturnedNorKept() throws Exception {
        Files.write(dir.resolve(".tmp-0a1b2c"), "{\"v\":1,\"info\":{".getBytes());
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        assertEquals(0, spool.size());
        assertTrue(spool.oldest(10).isEmpty());
        assertFalse(Files.exists(dir.resolve(".tmp-0a1b2c")));
    }

    @Test
    void aFullSpoolDropsTheOldest() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 2, SpoolTraces.CODEC);
        Trace first = traces.next("1");
        spool.put(first);
        Trace second = traces.next("2");
        spool.put(second);
        Trace third = traces.next("3");
        spool.put(third);
        assertEquals(List.of(second.info().traceId(), third.info().traceId()), ids(spool.oldest(10)));
    }

    @Test
    void parallelWritesAreAllStoredAndLeaveNoTemporaries() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 1000, SpoolTraces.CODEC);
        List<Trace> burst = IntStream.range(0, 200).mapToObj(i -> traces.next("p" + i)).toList();
        Set<String> handles = putInParallel(spool, burst);

        assertEquals(200, handles.size());
        assertEquals(200, spool.size());
        assertEquals(burst.stream().map(t -> t.info().traceId()).toList(), ids(spool.oldest(1000)));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(p -> p.getFileName().toString().startsWith(".tmp-")).toList());
        }
    }

    @Test
    void theBoundHoldsUnderParallelWritesAndKeepsTheNewest() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        List<Trace> burst = IntStream.range(0, 100).mapToObj(i -> traces.next("b" + i)).toList();
        putInParallel(spool, burst);

        List<String> newest = burst.subList(90, 100).stream().map(t -> t.info().traceId()).toList();
        assertEquals(newest, ids(spool.oldest(100)));
        assertEquals(10, spool.size());
    }

    private static Set<String> putInParallel(DirectoryTraceSpool spool, List<Trace> burst) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<String>> puts = new ArrayList<>();
            for (Trace t : burst) {
                puts.add(pool.submit(() -> spool.put(t)));
            }
            Set<String> handles = new HashSet<>();
            for (Future<String> f : puts) {
                handles.add(f.get(30, TimeUnit.SECONDS));
            }
            return handles;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void rejectedTracesLeaveTheQueueButStayOnDisk() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, SpoolTraces.DESTINATION, 10, SpoolTraces.CODEC);
        String handle = spool.put(traces.next("refused"));
        spool.reject(handle, "400 INVALID_PARAMETER_VALUE");
        spool.reject("../escape.json", "ignored");
        assertEquals(0, spool.size());
        assertTrue(Files.exists(dir.resolve("rejected").resolve(handle)));
    }

    static List<String> ids(List<SpooledTrace> spooled) {
        return spooled.stream().map(s -> s.trace().info().traceId()).toList();
    }
}
