package dev.agentfn.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.mlflow.json.JsonValues;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * MLflow's logged models, which its UI shows as "Agent versions": found by name, created the way
 * {@code mlflow.create_external_model} does (params and tags, then finalized {@code READY}), and named as an
 * evaluation run's input the way {@code mlflow.genai.evaluate(model_id=…)} does. Shapes follow
 * {@code service.proto} of MLflow 3.17 ({@code CreateLoggedModel}, {@code SearchLoggedModels},
 * {@code FinalizeLoggedModel}, {@code LogInputs.models}).
 */
public final class LoggedModels {
    /** The status {@code create_external_model} leaves a model in: nothing to upload, ready to be used. */
    static final String READY = "LOGGED_MODEL_READY";

    private final MlflowRest client;

    /** On the tracking client's transport. */
    public LoggedModels(MlflowTracking tracking) {
        this.client = tracking.rest();
    }

    /** A logged model as agentfn reads it back. */
    public record LoggedModel(String modelId, String name, String experimentId, Map<String, String> tags,
            Map<String, String> params) {
        public LoggedModel {
            tags = Map.copyOf(tags);
            params = Map.copyOf(params);
        }

        static LoggedModel fromJson(JsonNode model) {
            JsonNode info = model.path("info");
            return new LoggedModel(info.path("model_id").asText(), info.path("name").asText(),
                    info.path("experiment_id").asText(), keyValues(info.path("tags")),
                    keyValues(model.path("data").path("params")));
        }
    }

    /** {@code POST /api/2.0/mlflow/logged-models/search}: the newest model of exactly that name in the experiment. */
    public CompletableFuture<Optional<LoggedModel>> findByName(String experimentId, String name) {
        ObjectNode body = JsonValues.MAPPER.createObjectNode();
        body.putArray("experiment_ids").add(experimentId);
        body.put("filter", "name = " + quoted(name));
        body.put("max_results", 1);
        body.putArray("order_by").addObject().put("field_name", "creation_timestamp").put("ascending", false);
        return client.call("POST", "/api/2.0/mlflow/logged-models/search", body).thenApply(json -> {
            JsonNode models = json.path("models");
            return models.isEmpty() ? Optional.<LoggedModel>empty() : Optional.of(LoggedModel.fromJson(models.get(0)));
        });
    }

    /**
     * {@code POST /api/2.0/mlflow/logged-models} with the params and tags, then {@code PATCH …/{model_id}} to
     * {@code READY}, as {@code mlflow.create_external_model} leaves an agent that lives outside MLflow.
     */
    public CompletableFuture<LoggedModel> create(String experimentId, String name, String modelType,
            Map<String, String> params, Map<String, String> tags) {
        ObjectNode body = JsonValues.MAPPER.createObjectNode();
        body.put("experiment_id", experimentId).put("name", name).put("model_type", modelType);
        putKeyValues(body.putArray("params"), params);
        putKeyValues(body.putArray("tags"), tags);
        return client.call("POST", "/api/2.0/mlflow/logged-models", body)
                .thenCompose(json -> finalizeReady(json.path("model").path("info").path("model_id").asText()));
    }

    private CompletableFuture<LoggedModel> finalizeReady(String modelId) {
        ObjectNode body = JsonValues.MAPPER.createObjectNode().put("model_id", modelId).put("status", READY);
        return client.call("PATCH", "/api/2.0/mlflow/logged-models/" + segment(modelId), body)
                .thenApply(json -> LoggedModel.fromJson(json.path("model")));
    }

    /** {@code GET /api/2.0/mlflow/logged-models/{model_id}}. */
    public CompletableFuture<LoggedModel> get(String modelId) {
        return client.call("GET", "/api/2.0/mlflow/logged-models/" + segment(modelId), null)
                .thenApply(json -> LoggedModel.fromJson(json.path("model")));
    }

    /**
     * {@code POST /api/2.0/mlflow/runs/log-inputs} with {@code models: [{model_id}]}: the run evaluated that
     * version ({@code mlflow.genai.evaluate(model_id=…)} logs exactly this), so MLflow compares runs per version.
     */
    public CompletableFuture<Void> logRunInput(String runId, String modelId) {
        ObjectNode body = JsonValues.MAPPER.createObjectNode().put("run_id", runId);
        body.putArray("models").addObject().put("model_id", modelId);
        return client.call("POST", "/api/2.0/mlflow/runs/log-inputs", body).thenApply(json -> null);
    }

    /** MLflow's filter grammar: single quotes, or double quotes for a value that holds a single quote. */
    static String quoted(String value) {
        String quote = value.contains("'") ? "\"" : "'";
        return quote + value + quote;
    }

    static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static Map<String, String> keyValues(JsonNode array) {
        Map<String, String> out = new TreeMap<>();
        array.forEach(kv -> out.put(kv.path("key").asText(), kv.path("value").asText()));
        return out;
    }

    private static void putKeyValues(ArrayNode target, Map<String, String> values) {
        new TreeMap<>(values).forEach((k, v) -> target.addObject().put("key", k).put("value", v));
    }
}
