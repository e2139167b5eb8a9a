package dev.agentfn.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class IdleTurnCloserTest {
    private final Map<Integer, CompletableFuture<Void>> started = new ConcurrentHashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger mostInFlight = new AtomicInteger();
    private final List<Throwable> failures = new ArrayList<>();

    private IdleTurnCloser<Integer> closer(int lanes) {
        return new IdleTurnCloser<>(lanes, turn -> {
            mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            CompletableFuture<Void> f = new CompletableFuture<>();
            started.put(turn, f);
            return f.whenComplete((r, t) -> inFlight.decrementAndGet());
        }, failures::add);
    }

    private static List<Integer> turns(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    @Test
    void aSweepsTurnsAreClosedAtMostLanesAtATimeAndAllOfThemInTheEnd() {
        IdleTurnCloser<Integer> closer = closer(2);
        assertEquals(5, closer.sweepAndClose(() -> turns(5)));
        assertEquals(2, started.size(), "two lanes: two closes started, the rest waiting");
        for (int i = 0; i < 5; i++) {
            assertTrue(closer.closing());
            started.get(i).complete(null);
        }
        assertEquals(5, started.size());
        assertEquals(2, mostInFlight.get());
        assertFalse(closer.closing(), "every turn closed: the next sweep may run");
        assertTrue(failures.isEmpty());
    }

    @Test
    void aSweepWhileTheLastOnesTurnsAreStillClosingTakesNothing() {
        IdleTurnCloser<Integer> closer = closer(2);
        closer.sweepAndClose(() -> turns(3));
        AtomicInteger swept = new AtomicInteger();
        assertEquals(-1, closer.sweepAndClose(() -> {
            swept.incrementAndGet();
            return turns(3);
        }));
        assertEquals(0, swept.get(), "the cache was not swept, so its idle turns stay there for the next sweep");
        started.values().forEach(f -> f.complete(null));
        started.get(2).complete(null);
        assertFalse(closer.closing());
        assertEquals(1, closer.sweepAndClose(() -> List.of(9)));
    }

    @Test
    void aTurnThatCannotBeClosedIsReportedAndTheOthersAreStillClosed() {
        IdleTurnCloser<Integer> closer = new IdleTurnCloser<>(1, turn -> {
            if (turn == 0) {
                throw new IllegalStateException("thrown at once");
            }
            return turn == 1 ? CompletableFuture.failedFuture(new IllegalStateException("failed later"))
                    : CompletableFuture.completedFuture(null);
        }, failures::add);
        assertEquals(3, closer.sweepAndClose(() -> turns(3)));
        assertFalse(closer.closing());
        assertEquals(List.of("thrown at once", "failed later"), failures.stream().map(Throwable::getMessage).toList());
    }

    @Test
    void manyClosesThatCompleteAtOnceDoNotOverflowTheStack() {
        AtomicInteger closed = new AtomicInteger();
        IdleTurnCloser<Integer> closer = new IdleTurnCloser<>(2, turn -> {
            closed.incrementAndGet();
            return CompletableFuture.completedFuture(null);
        }, failures::add);
        closer.sweepAndClose(() -> turns(200_000));
        assertEquals(200_000, closed.get());
        assertFalse(closer.closing());
    }

    @Test
    void aSweepThatFindsNothingLeavesTheCloserFree() {
        IdleTurnCloser<Integer> closer = closer(2);
        assertEquals(0, closer.sweepAndClose(List::of));
        assertFalse(closer.closing());
    }
}
