package dev.agentfn.tracing.export;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.mlflow.MlflowTraceClient;
import dev.agentfn.tracing.TraceLookup;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** {@link TraceLookup} on MLflow's GetTraceInfoV3 ({@code trace_metadata} of the trace). */
public final class MlflowTraceLookup implements TraceLookup {
    private final MlflowTraceClient client;

    public MlflowTraceLookup(MlflowTraceClient client) {
        this.client = client;
    }

    @Override
    public CompletableFuture<Optional<Map<String, String>>> metadata(String traceId) {
        return client.storedTraceInfo(traceId).thenApply(info -> info.map(MlflowTraceLookup::metadataOf))
                .exceptionally(t -> Optional.empty());
    }

    private static Map<String, String> metadataOf(JsonNode info) {
        Map<String, String> out = new LinkedHashMap<>();
        info.path("trace_metadata").fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }
}
