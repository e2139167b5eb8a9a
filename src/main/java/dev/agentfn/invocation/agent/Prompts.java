package dev.agentfn.invocation.agent;

import dev.agentfn.Futures;
import dev.agentfn.mlflow.MlflowClientException;
import dev.agentfn.mlflow.PromptRegistry;
import dev.agentfn.mlflow.PromptRegistry.PromptVersion;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * Registered prompts, loaded from MLflow and kept for a bounded time: within the time to live a reference is
 * answered from memory; after it MLflow is asked again, so a moved alias takes effect without a restart. When
 * MLflow cannot be reached, a version loaded before keeps serving, and the load says so ({@link Loaded#staleReason}).
 */
public final class Prompts {
    private static final Logger LOG = Logger.getLogger(Prompts.class);

    private final PromptRegistry registry;
    private final long ttlNanos;
    private final LongSupplier nanoClock;
    private final ConcurrentMap<String, Cached> cache = new ConcurrentHashMap<>();

    /** @param registry null without MLflow: every reference is then refused */
    public Prompts(PromptRegistry registry, Duration ttl, LongSupplier nanoClock) {
        this.registry = registry;
        this.ttlNanos = ttl.toNanos();
        this.nanoClock = nanoClock;
    }

    /**
     * A loaded version.
     *
     * @param staleReason null when MLflow answered within the time to live; else why an older load serves
     */
    public record Loaded(PromptVersion version, String staleReason) {
    }

    private record Cached(PromptVersion version, long loadedNanos) {
    }

    /** Completes with the version, or exceptionally with a {@link PromptException}. */
    public CompletableFuture<Loaded> load(PromptRef ref) {
        if (registry == null) {
            return CompletableFuture.failedFuture(new PromptException(PromptException.Kind.INVALID, ref.uri()
                    + " names a registered prompt, but no MLflow tracking server is configured (MLFLOW_TRACKING_URI)"));
        }
        Cached cached = cache.get(ref.uri());
        long now = nanoClock.getAsLong();
        if (cached != null && now - cached.loadedNanos() < ttlNanos) {
            return CompletableFuture.completedFuture(new Loaded(cached.version(), null));
        }
        CompletableFuture<Optional<PromptVersion>> fetch = ref.version() != null
                ? registry.version(ref.name(), ref.version()) : registry.byAlias(ref.name(), ref.alias());
        return fetch.handle((found, err) -> {
            if (err == null) {
                PromptVersion v = found.orElseThrow(() -> new PromptException(PromptException.Kind.INVALID,
                        notFound(ref)));
                cache.put(ref.uri(), new Cached(v, nanoClock.getAsLong()));
                return new Loaded(v, null);
            }
            Throwable cause = Futures.unwrap(err);
            String why = cause instanceof MlflowClientException e ? e.getMessage() : cause.toString();
            if (cached != null) {
                LOG.warnf("MLflow did not answer for prompt %s (%s); serving the cached version %d", ref.uri(), why,
                        cached.version().version());
                return new Loaded(cached.version(), "MLflow unreachable (" + why + "); served version "
                        + cached.version().version() + " loaded earlier");
            }
            throw new PromptException(PromptException.Kind.UNAVAILABLE, "prompt " + ref.uri()
                    + " could not be loaded: MLflow did not answer (" + why + ") and no earlier load is cached");
        });
    }

    private static String notFound(PromptRef ref) {
        return ref.version() != null
                ? "prompt " + ref.uri() + " does not exist in MLflow's Prompt Registry (no prompt '" + ref.name()
                        + "' with version " + ref.version() + ")"
                : "prompt " + ref.uri() + " does not exist in MLflow's Prompt Registry (no prompt '" + ref.name()
                        + "' with alias '" + ref.alias() + "')";
    }
}
