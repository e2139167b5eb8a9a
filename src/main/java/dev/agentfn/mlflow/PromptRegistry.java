package dev.agentfn.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.mlflow.json.JsonValues;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * MLflow's Prompt Registry as {@code mlflow.genai.load_prompt} reads it from an MLflow server: a prompt is a
 * registered model whose versions carry the template in tags ({@code mlflow.prompt.text}, and
 * {@code _mlflow_prompt_type} {@code text} or {@code chat}, a chat template being the messages as JSON);
 * an alias is the registered model's alias. Linking a trace to the versions it used is
 * {@code POST /api/2.0/mlflow/traces/link-prompts}, as MLflow's exporter does after a trace is stored.
 */
public final class PromptRegistry {
    static final String IS_PROMPT_TAG = "mlflow.prompt.is_prompt";
    static final String TEXT_TAG = "mlflow.prompt.text";
    static final String TYPE_TAG = "_mlflow_prompt_type";
    static final String TYPE_CHAT = "chat";

    private final MlflowRest client;

    /** On the tracking client's transport. */
    public PromptRegistry(MlflowTracking tracking) {
        this.client = tracking.rest();
    }

    /**
     * One version of a prompt.
     *
     * @param template the text of a text prompt, or the JSON list of {@code {role, content}} of a chat prompt
     */
    public record PromptVersion(String name, int version, boolean chat, String template) {
    }

    /** A (name, version) pair a trace used. */
    public record PromptVersionRef(String name, int version) {
    }

    /** {@code GET /api/2.0/mlflow/model-versions/get}; empty when the prompt or version does not exist. */
    public CompletableFuture<Optional<PromptVersion>> version(String name, int version) {
        return read("/api/2.0/mlflow/model-versions/get?name=" + query(name) + "&version=" + version,
                "GET prompt version");
    }

    /** {@code GET /api/2.0/mlflow/registered-models/alias}; empty when the prompt or alias does not exist. */
    public CompletableFuture<Optional<PromptVersion>> byAlias(String name, String alias) {
        return read("/api/2.0/mlflow/registered-models/alias?name=" + query(name) + "&alias=" + query(alias),
                "GET prompt alias");
    }

    /** {@code POST /api/2.0/mlflow/traces/link-prompts}: the stored trace used these versions. */
    public CompletableFuture<Void> linkToTrace(String traceId, List<PromptVersionRef> versions) {
        ObjectNode body = JsonValues.MAPPER.createObjectNode().put("trace_id", traceId);
        ArrayNode list = body.putArray("prompt_versions");
        versions.forEach(v -> list.addObject().put("name", v.name()).put("version", Integer.toString(v.version())));
        return client.call("POST", "/api/2.0/mlflow/traces/link-prompts", body).thenApply(json -> null);
    }

    private CompletableFuture<Optional<PromptVersion>> read(String path, String what) {
        return client.call("GET", path, null)
                .thenApply(json -> parse(json.path("model_version")))
                .exceptionally(t -> {
                    MlflowClientException e = MlflowRest.asClientException(t, what);
                    if (e.status() == 404 || "RESOURCE_DOES_NOT_EXIST".equals(e.errorCode())
                            || "INVALID_PARAMETER_VALUE".equals(e.errorCode())) {
                        return Optional.empty();
                    }
                    throw e;
                });
    }

    /** Empty for a registered model that is not a prompt (a model version without the template tag). */
    static Optional<PromptVersion> parse(JsonNode mv) {
        String text = null;
        String type = null;
        boolean isPrompt = false;
        for (JsonNode tag : mv.path("tags")) {
            String key = tag.path("key").asText();
            String value = tag.path("value").asText();
            if (TEXT_TAG.equals(key)) {
                text = value;
            } else if (TYPE_TAG.equals(key)) {
                type = value;
            } else if (IS_PROMPT_TAG.equals(key)) {
                isPrompt = "true".equalsIgnoreCase(value);
            }
        }
        if (text == null || !isPrompt && type == null) {
            return Optional.empty();
        }
        return Optional.of(new PromptVersion(mv.path("name").asText(), mv.path("version").asInt(),
                TYPE_CHAT.equals(type), text));
    }

    private static String query(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
