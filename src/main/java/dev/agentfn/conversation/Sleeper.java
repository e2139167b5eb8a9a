package dev.agentfn.conversation;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/** Waits without holding a thread; tests replace it to check delays without waiting. */
public interface Sleeper {

    CompletableFuture<Void> sleep(Duration duration);

    /**
     * Completes on the JDK's delay-scheduler thread. What follows a sleep here only starts non-blocking
     * work; handing it to the default async executor instead would start a new thread per wake-up on
     * machines with two CPUs or fewer, where that executor is thread-per-task.
     */
    Executor ON_TIMER_THREAD = Runnable::run;

    Sleeper SYSTEM = d -> CompletableFuture.runAsync(() -> {
    }, CompletableFuture.delayedExecutor(d.toNanos(), TimeUnit.NANOSECONDS, ON_TIMER_THREAD));
}
