package dev.agentfn.tracing;

import java.util.List;
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

    /**
     * Metadata of the newest traces of this deployment's experiment whose metadata {@code key} is {@code value}, newest
     * first, at most {@code max}; empty when none, or when the server cannot answer.
     */
    CompletableFuture<List<Map<String, String>>> newestWithMetadata(String key, String value, int max);

    TraceLookup NONE = new TraceLookup() {
        @Override
        public CompletableFuture<Optional<Map<String, String>>> metadata(String traceId) {
            return CompletableFuture.completedFuture(Optional.empty());
        }

        @Override
        public CompletableFuture<List<Map<String, String>>> newestWithMetadata(String key, String value, int max) {
            return CompletableFuture.completedFuture(List.of());
        }
    };
}
