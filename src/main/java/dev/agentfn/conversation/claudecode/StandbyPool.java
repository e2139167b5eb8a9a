package dev.agentfn.conversation.claudecode;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * Spare CLI processes, started and initialized before their invocation arrives, so that the invocation skips
 * the CLI's start-up (most of a plain invocation's time and CPU outside the model). A spare is started for a
 * <em>shape</em> (every flag but the session: model, system prompt, tools, max turns, budget, permission mode)
 * and only serves an invocation of the same shape; the pool follows traffic: each invocation gets a spare of its
 * shape started for the next one while there is room. A full pool gives up its oldest spare of another shape
 * only for a shape asked for twice in a row, so that alternating shapes cannot make every invocation start two
 * processes (its own and a spare that is evicted before use). At most {@code capacity} spares exist; each waits
 * at most {@code maxIdle}.
 *
 * <p>Spawning (a short blocking fork) runs on the pool's one thread, outside the lock; its queue is bounded and
 * a request that does not fit is dropped, since the next invocation asks again.
 */
final class StandbyPool implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(StandbyPool.class);

    private record Spare(CliCommand shape, CliRun run, ScheduledFuture<?> expiry) {
    }

    private final int capacity;
    private final Duration maxIdle;
    private final ScheduledExecutorService timer;
    private final ThreadPoolExecutor spawner;
    /** Oldest first; guarded by {@code this}. */
    private final Deque<Spare> spares = new ArrayDeque<>();
    private boolean closed;
    /** The shape of the previous request for a spare; guarded by {@code this}. */
    private CliCommand lastShape;

    StandbyPool(int capacity, Duration maxIdle, ScheduledExecutorService timer) {
        this.capacity = capacity;
        this.maxIdle = maxIdle;
        this.timer = timer;
        this.spawner = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(Math.max(1, capacity)),
                r -> {
                    Thread t = new Thread(r, "agentfn-claude-code-standby");
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.DiscardPolicy());
        spawner.allowCoreThreadTimeOut(true);
    }

    /** A live spare started for this shape, now the caller's; null when there is none. */
    CliRun take(CliCommand shape) {
        synchronized (this) {
            for (Iterator<Spare> it = spares.iterator(); it.hasNext();) {
                Spare s = it.next();
                if (s.shape().equals(shape) && s.run().usable()) {
                    it.remove();
                    s.expiry().cancel(false);
                    return s.run();
                }
            }
            return null;
        }
    }

    /**
     * Asks for a spare of this shape to be started, after an invocation of this shape took one or found none.
     * {@code start} builds the (not yet spawned) run for the shape.
     */
    void replenish(CliCommand shape, Function<CliCommand, CliRun> start) {
        if (capacity == 0) {
            return;
        }
        boolean repeated;
        synchronized (this) {
            repeated = shape.equals(lastShape);
            lastShape = shape;
        }
        spawner.execute(() -> startSpare(shape, repeated, start));
    }

    private void startSpare(CliCommand shape, boolean mayEvict, Function<CliCommand, CliRun> start) {
        CliRun evicted;
        synchronized (this) {
            if (closed) {
                return;
            }
            evicted = spares.size() < capacity || !mayEvict ? null : evictOtherShape(shape);
            if (spares.size() >= capacity) {
                return;
            }
        }
        if (evicted != null) {
            evicted.discard();
        }
        // Only this thread adds spares, so the room found above is still there; the fork runs outside the lock
        // that take() needs.
        CliRun run;
        try {
            run = start.apply(shape).spawn();
        } catch (RuntimeException e) {
            LOG.warnf("a spare Claude Code CLI process could not be prepared: %s", e.getMessage());
            return;
        }
        if (!add(shape, run)) {
            run.discard(); // closed meanwhile
            return;
        }
        // A spare that dies while waiting (crash, failed initialize) leaves the pool; the next invocation starts cold.
        run.outcome().whenComplete((r, err) -> remove(run));
    }

    private synchronized boolean add(CliCommand shape, CliRun run) {
        if (closed) {
            return false;
        }
        try {
            spares.addLast(new Spare(shape, run, timer.schedule(() -> expire(run), maxIdle.toMillis(),
                    TimeUnit.MILLISECONDS)));
            return true;
        } catch (RejectedExecutionException e) {
            return false; // the timer is gone: shutting down
        }
    }

    /** The oldest spare of another shape, removed; null when all spares have this shape. Caller holds the lock. */
    private CliRun evictOtherShape(CliCommand shape) {
        for (Iterator<Spare> it = spares.iterator(); it.hasNext();) {
            Spare s = it.next();
            if (!s.shape().equals(shape)) {
                it.remove();
                s.expiry().cancel(false);
                return s.run();
            }
        }
        return null;
    }

    private void expire(CliRun run) {
        if (remove(run)) {
            run.discard();
        }
    }

    private synchronized boolean remove(CliRun run) {
        return spares.removeIf(s -> s.run() == run);
    }

    /** Spares waiting now. */
    synchronized int size() {
        return spares.size();
    }

    /** Ends every spare and waits, bounded, until they are reaped: no CLI process outlives the function. */
    @Override
    public void close() {
        List<CliRun> left;
        synchronized (this) {
            closed = true;
            left = new ArrayList<>();
            spares.forEach(s -> {
                s.expiry().cancel(false);
                left.add(s.run());
            });
            spares.clear();
        }
        spawner.shutdownNow();
        left.forEach(CliRun::discard);
        try {
            CompletableFuture.allOf(left.stream().map(r -> r.outcome().handle((x, e) -> null))
                    .toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warnf("spare Claude Code CLI processes still ending at shutdown: %s", e.toString());
        }
    }
}
