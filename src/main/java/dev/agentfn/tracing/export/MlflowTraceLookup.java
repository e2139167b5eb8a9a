package dev.agentfn.tracing.export;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.mlflow.MlflowExperiment;
import dev.agentfn.mlflow.MlflowTracking;
import dev.agentfn.tracing.TraceLookup;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** {@link TraceLookup} on MLflow's GetTraceInfoV3 and SearchTracesV3 ({@code trace_metadata} of the traces). */
public final class MlflowTraceLookup implements TraceLookup {
    private final MlflowTracking client;
    private final MlflowExperiment experiment;

    public MlflowTraceLookup(MlflowTracking client, MlflowExperiment experiment) {
        this.client = client;
        this.experiment = experiment;
    }

    @Override
    public CompletableFuture<Optional<Map<String, String>>> metadata(String traceId) {
        return client.getTraceInfo(traceId).thenApply(info -> info.map(MlflowTraceLookup::metadataOf))
                .exceptionally(t -> Optional.empty());
    }

    /** SearchTracesV3, newest first (MLflow's order when none is asked: timestamp descending); the filter quotes the value as MLflow's search grammar does. */
    @Override
    public CompletableFuture<List<Map<String, String>>> newestWithMetadata(String key, String value, int max) {
        String filter = "metadata.`" + key + "` = '" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
        return experiment.id().thenCompose(id -> client.searchTraces(id, filter, max, null))
                .thenApply(page -> page.traceInfos().stream().map(MlflowTraceLookup::metadataOf).toList())
                .exceptionally(t -> List.of());
    }

    private static Map<String, String> metadataOf(JsonNode info) {
        Map<String, String> out = new LinkedHashMap<>();
        info.path("trace_metadata").fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }
}
