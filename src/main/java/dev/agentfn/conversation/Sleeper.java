package dev.agentfn.conversation;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Waits without holding a thread; tests replace it to check delays without waiting. */
public interface Sleeper {

    CompletableFuture<Void> sleep(Duration duration);

    Sleeper SYSTEM = d -> CompletableFuture.runAsync(() -> {
    }, CompletableFuture.delayedExecutor(d.toNanos(), TimeUnit.NANOSECONDS));
}
