package dev.agentfn.conversation;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Waits without holding a thread; tests replace it to check delays without waiting. */
public interface Sleeper {

    CompletableFuture<Void> sleep(Duration duration);

    /**
     * Completes on the JDK's delay-scheduler thread: what follows a sleep only starts non-blocking work.
     * The default async executor would start a new thread per wake-up on machines with two CPUs or fewer,
     * where it is thread-per-task.
     */
    Sleeper SYSTEM = d -> CompletableFuture.runAsync(() -> {
    }, CompletableFuture.delayedExecutor(d.toNanos(), TimeUnit.NANOSECONDS, Runnable::run));
}
