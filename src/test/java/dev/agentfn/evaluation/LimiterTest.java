package dev.agentfn.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LimiterTest {

    @Test
    void neverMoreThanTheLimitInFlightAndEveryCallRuns() {
        Limiter limiter = new Limiter(3);
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        List<CompletableFuture<Integer>> pending = new ArrayList<>();
        List<CompletableFuture<Integer>> results = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            int n = i;
            results.add(limiter.submit(() -> {
                peak.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                CompletableFuture<Integer> f = new CompletableFuture<>();
                synchronized (pending) {
                    pending.add(f);
                }
                return f.thenApply(v -> {
                    inFlight.decrementAndGet();
                    return n;
                });
            }));
        }
        for (int i = 0; i < 20; i++) {
            CompletableFuture<Integer> next;
            synchronized (pending) {
                next = pending.get(i);
            }
            next.complete(0);
        }
        assertEquals(3, peak.get());
        for (int i = 0; i < 20; i++) {
            assertEquals(i, results.get(i).join());
        }
    }

    @Test
    void aFailingCallReleasesItsSlot() {
        Limiter limiter = new Limiter(1);
        CompletableFuture<Object> failed = limiter.submit(() -> {
            throw new IllegalStateException("boom");
        });
        assertEquals(true, failed.isCompletedExceptionally());
        assertEquals("ok", limiter.submit(() -> CompletableFuture.completedFuture("ok")).join());
    }
}
