package dev.agentfn.tracing;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Reads back what was delivered of a trace: its metadata as the tracking server holds it. A front door that writes
 * one trace from several processes (the gateway) keeps the little state a trace needs there, so no process depends
 * on another's memory. Never completes exceptionally: an unknown trace, or a server that cannot answer, is empty.
 */
public interface TraceLookup {

    /** @param traceId MLflow's trace id ({@code tr-…}) */
    CompletableFuture<Optional<Map<String, String>>> metadata(String traceId);

    TraceLookup NONE = id -> CompletableFuture.completedFuture(Optional.empty());
}
