package dev.agentfn.gateway;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Closes the turns an idle sweep found a few at a time. Closing one asks MLflow for the turn's stored state and then
 * writes its trace, so a sweep that finds hundreds (clients that went away together, or many sessions that each
 * left a turn open) would, all at once, take the instance's CPU and MLflow's from the answers being relayed at that
 * moment. A sweep that comes while an earlier one's turns are still being closed takes nothing: the turns it would
 * have found stay cached for the next one.
 *
 * @param <T> an idle turn
 */
final class IdleTurnCloser<T> {
    private final int lanes;
    private final Function<T, CompletionStage<?>> close;
    private final Consumer<Throwable> failed;
    private final AtomicBoolean closing = new AtomicBoolean();

    /**
     * @param lanes at most this many turns closed at once
     * @param close closes one turn
     * @param failed told why a turn could not be closed (the others are still closed)
     */
    IdleTurnCloser(int lanes, Function<T, CompletionStage<?>> close, Consumer<Throwable> failed) {
        if (lanes < 1) {
            throw new IllegalArgumentException("lanes < 1");
        }
        this.lanes = lanes;
        this.close = close;
        this.failed = failed;
    }

    /**
     * Sweeps and closes what the sweep returns, unless an earlier sweep's turns are still being closed.
     *
     * @return how many turns the sweep found, or -1 if it was not run
     */
    int sweepAndClose(Supplier<List<T>> sweep) {
        if (!closing.compareAndSet(false, true)) {
            return -1;
        }
        List<T> idle;
        try {
            idle = sweep.get();
        } catch (RuntimeException e) {
            closing.set(false);
            throw e;
        }
        Queue<T> queue = new ConcurrentLinkedQueue<>(idle);
        AtomicInteger running = new AtomicInteger(lanes);
        for (int i = 0; i < lanes; i++) {
            lane(queue, running);
        }
        return idle.size();
    }

    /** Whether an earlier sweep's turns are still being closed. */
    boolean closing() {
        return closing.get();
    }

    // A lane closes one turn after another; a close that completed at once is followed in a loop, not by recursion,
    // so a long queue of such closes cannot overflow the stack.
    private void lane(Queue<T> queue, AtomicInteger running) {
        for (T turn; (turn = queue.poll()) != null; ) {
            CompletableFuture<?> done = start(turn);
            if (!done.isDone()) {
                done.whenComplete((r, t) -> {
                    report(t);
                    lane(queue, running);
                });
                return;
            }
            done.whenComplete((r, t) -> report(t));
        }
        if (running.decrementAndGet() == 0) {
            closing.set(false);
        }
    }

    private CompletableFuture<?> start(T turn) {
        try {
            return close.apply(turn).toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private void report(Throwable t) {
        if (t != null) {
            failed.accept(t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t);
        }
    }
}
