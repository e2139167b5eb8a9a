package dev.agentfn.evaluation;

import dev.agentfn.Futures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.conversation.Deadline;
import dev.agentfn.conversation.messages.AnthropicClient;
import dev.agentfn.conversation.messages.wire.MessagesRequest;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.invocation.Recorder;
import dev.agentfn.invocation.Recording;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * An LLM judge as MLflow's {@code make_judge}: the instructions as the task, the row's values beside them, the
 * answer's form decided by the instructions (free text by default) or a typed {@code result_type}, answered as JSON
 * {@code {"result":…,"rationale":…}}. A malformed answer is asked for once
 * more; a second malformed answer or a failed call becomes an assessment error.
 */
public final class Judge implements Scorer {
    static final String MODEL_PREFIX = "anthropic:/";
    /** Any OpenAI-compatible chat-completions endpoint ({@code agentfn.evaluation.openai.*}). */
    static final String OPENAI_PREFIX = "openai:/";
    /** Start of the error of a call that got no answer (as opposed to a malformed one). */
    static final String CALL_FAILED = "judge call failed: ";

    /**
     * Shared by all judges: the clients, the JSON mapper, the concurrency limit and the call budget;
     * {@code recorder} traces each judgement ({@code null}: untraced);
     * {@code openai} is {@code null} where {@code openai:/} judges are not offered.
     */
    public record Services(AnthropicClient client, ObjectMapper json, Limiter limiter, int maxTokens,
            Duration timeout, Recorder recorder, OpenAiChatClient openai, JudgePricing pricing) {

        public Services {
            pricing = pricing == null ? JudgePricing.NONE : pricing;
        }

        public Services(AnthropicClient client, ObjectMapper json, Limiter limiter, int maxTokens, Duration timeout) {
            this(client, json, limiter, maxTokens, timeout, null, null, null);
        }

        boolean traced() {
            return recorder != null && recorder.enabled();
        }
    }

    private final String name;
    private final String modelUri;
    private final String model;
    private final boolean openai;
    private final JudgeTemplate template;
    private final JudgeResultType type;
    private final Services services;
    private final Map<String, String> metadata;
    /** Off once the endpoint refused {@code response_format} (as MLflow remembers it per model). */
    private volatile boolean structuredOutput = true;

    private Judge(String name, String modelUri, JudgeTemplate template, JudgeResultType type, Services services,
            String digest) {
        this.name = name;
        this.metadata = Map.of(MlflowKeys.AssessmentMetadata.GUIDELINE, template.instructions(),
                MlflowKeys.AssessmentMetadata.SCORER_DIGEST, digest);
        this.modelUri = modelUri;
        this.openai = modelUri.startsWith(OPENAI_PREFIX);
        this.model = modelUri.substring(openai ? OPENAI_PREFIX.length() : MODEL_PREFIX.length());
        this.template = template;
        this.type = type;
        this.services = services;
    }

    /** @param spec {@code {"name","instructions","model","result_type","categories"}} */
    public static Judge create(JsonNode spec, String where, String defaultModel, Services services) {
        String name = spec.path("name").asText("");
        if (name.isBlank()) {
            throw new EvaluationException(where + ": a judge needs a \"name\"");
        }
        String modelUri = spec.path("model").asText(MODEL_PREFIX + defaultModel);
        boolean anthropic = modelUri.startsWith(MODEL_PREFIX) && modelUri.length() > MODEL_PREFIX.length();
        boolean openai = modelUri.startsWith(OPENAI_PREFIX) && modelUri.length() > OPENAI_PREFIX.length();
        if (!anthropic && !openai) {
            throw new EvaluationException(where + ": model must be anthropic:/<model> or openai:/<model>, got '"
                    + modelUri + "'");
        }
        if (openai && services.openai() == null) {
            throw new EvaluationException(where + ": openai:/ judges are not configured here "
                    + "(agentfn.evaluation.openai.base-url)");
        }
        return new Judge(name, modelUri, JudgeTemplate.parse(spec.path("instructions").asText(null), where),
                JudgeResultType.parse(spec, where), services, digest(spec, modelUri));
    }

    /** {@code sha256:<hex>} of the definition with sorted keys and the model resolved, like MLflow's scorer digest. */
    private static String digest(JsonNode spec, String modelUri) {
        java.util.TreeMap<String, JsonNode> sorted = new java.util.TreeMap<>();
        spec.fields().forEachRemaining(f -> sorted.put(f.getKey(), f.getValue()));
        sorted.put("model", JsonNodeFactory.instance.textNode(modelUri));
        return sha256(JsonNodeFactory.instance.objectNode().setAll(sorted).toString());
    }

    /** {@code sha256:<hex>} of the text's UTF-8 bytes, MLflow's digest notation. */
    static String sha256(String text) {
        try {
            byte[] hash = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "sha256:" + java.util.HexFormat.of().formatHex(hash);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean mlflowMean() {
        return type.mlflowMean();
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The shape of the answer, for the threshold check of the command. */
    public JudgeResultType resultType() {
        return type;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String sourceType() {
        return "LLM_JUDGE";
    }

    @Override
    public String sourceId() {
        return modelUri;
    }

    public String model() {
        return model;
    }

    @Override
    public CompletableFuture<Assessment> score(DatasetRow row, RowOutcome outcome) {
        Prompt prompt = new Prompt(template.system(type), template.user(row, outcome));
        Recording trace = services.traced() ? startTrace(prompt, outcome) : null;
        CompletableFuture<Assessment> judged = attempt(prompt, null, trace)
                .exceptionally(t -> Assessment.failed(name, CALL_FAILED + Futures.message(t)));
        return trace == null ? judged : judged.thenCompose(a -> finishTrace(trace, a));
    }

    /** The judgement as MLflow traces a scorer call: its own trace, tagged with the scorer's name. */
    private Recording startTrace(Prompt prompt, RowOutcome outcome) {
        Recording trace = services.recorder().start(name, MlflowKeys.SpanType.EVALUATOR);
        java.util.Map<String, Object> inputs = new java.util.LinkedHashMap<>();
        inputs.put("prompt", prompt.user());
        inputs.put("model", modelUri);
        if (outcome.traceId() != null) {
            inputs.put("trace_id", outcome.traceId());
        }
        return trace.inputs(inputs).tag(MlflowKeys.Tag.SOURCE_SCORER, name).requestPreview(prompt.user());
    }

    private CompletableFuture<Assessment> finishTrace(Recording trace, Assessment a) {
        java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("value", a.value());
        out.put("rationale", a.rationale());
        if (a.error() != null) {
            trace.error("JudgeError", a.error());
            out.put("error", a.error());
        }
        trace.outputs(out).responsePreview(a.error() != null ? a.error() : String.valueOf(a.value()));
        // The assessment points at the trace; it does not wait for it (a spooled trace arrives later).
        String traceId = trace.traceId();
        trace.deliver();
        return CompletableFuture.completedFuture(a.withScorerTrace(traceId));
    }

    /** The two messages make_judge sends: the task and answer format, then the values. */
    record Prompt(String system, String user) {
    }

    /** One model answer and what it took. */
    record Reply(String text, Assessment.JudgeUsage usage) {
    }

    /** @param earlier usage of an earlier, malformed attempt ({@code null}: this is the first) */
    private CompletableFuture<Assessment> attempt(Prompt prompt, Assessment.JudgeUsage earlier, Recording trace) {
        return services.limiter().submit(() -> call(prompt, trace)).thenCompose(reply -> {
            Assessment.JudgeUsage usage = earlier == null ? reply.usage() : earlier.plus(reply.usage());
            Assessment a = parse(reply.text()).withUsage(usage);
            if (a.error() != null && earlier == null) {
                return attempt(prompt, usage, trace);
            }
            return CompletableFuture.completedFuture(a);
        });
    }

    private CompletableFuture<Reply> call(Prompt prompt, Recording trace) {
        return openai ? callOpenAi(prompt, trace) : callAnthropic(prompt, trace);
    }

    /**
     * As MLflow's gateway adapter: system and user message, and the answer's JSON schema as OpenAI's structured
     * output ({@code response_format}); an endpoint that refuses the schema is asked again without it, and not
     * offered it again.
     */
    private CompletableFuture<Reply> callOpenAi(Prompt prompt, Recording trace) {
        List<OpenAiChatClient.ChatMessage> messages = List.of(new OpenAiChatClient.ChatMessage("system", prompt.system()),
                new OpenAiChatClient.ChatMessage("user", prompt.user()));
        Recording.Step span = trace == null ? null : trace.step("chat.completions.create", MlflowKeys.SpanType.CHAT_MODEL)
                .attribute(MlflowKeys.Span.LLM_MODEL, model).attribute(MlflowKeys.Span.LLM_PROVIDER, "openai");
        if (span != null) {
            span.inputs(java.util.Map.of("model", model, "messages", messages));
        }
        boolean structured = structuredOutput;
        OpenAiChatClient.ChatRequest request = new OpenAiChatClient.ChatRequest(model, messages, services.maxTokens(),
                structured ? responseFormat() : null);
        return services.openai().complete(request, Deadline.after(services.timeout()))
                .handle((c, t) -> {
                    if (t != null && structured && refusedSchema(t)) {
                        structuredOutput = false;
                        return services.openai().complete(new OpenAiChatClient.ChatRequest(model, messages,
                                services.maxTokens(), null), Deadline.after(services.timeout()));
                    }
                    return t == null ? CompletableFuture.completedFuture(c)
                            : CompletableFuture.<OpenAiChatClient.Completion>failedFuture(t);
                })
                .thenCompose(f -> f)
                .thenApply(c -> new Reply(c.text(), usage(c.promptTokens(), c.completionTokens())))
                .whenComplete((r, t) -> endSpan(span, r == null ? null : r.text(), t));
    }

    /** MLflow's {@code is_response_format_error}: a 400 naming the structured-output feature. */
    private static boolean refusedSchema(Throwable t) {
        Throwable c = Futures.unwrap(t);
        if (!(c instanceof OpenAiChatClient.ChatException e) || e.status() != 400 || e.getMessage() == null) {
            return false;
        }
        String m = e.getMessage().toLowerCase(java.util.Locale.ROOT);
        return m.contains("response_format") || m.contains("json_schema") || m.contains("structured output");
    }

    /** The answer's schema as pydantic writes make_judge's {@code ResponseFormat} model, strict. */
    ObjectNode responseFormat() {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode result = f.objectNode().put("description", JudgeTemplate.RESULT_DESCRIPTION);
        ObjectNode typeSchema = type.schema();
        if (typeSchema.has("enum")) {
            result.set("enum", typeSchema.get("enum"));
        }
        result.put("title", "Result").set("type", typeSchema.get("type"));
        ObjectNode schema = f.objectNode();
        ObjectNode properties = schema.putObject("properties");
        properties.set("result", result);
        properties.putObject("rationale").put("description", JudgeTemplate.RATIONALE_DESCRIPTION)
                .put("title", "Rationale").put("type", "string");
        schema.putArray("required").add("result").add("rationale");
        schema.put("title", "ResponseFormat").put("type", "object").put("additionalProperties", false);
        ObjectNode format = f.objectNode().put("type", "json_schema");
        format.putObject("json_schema").put("name", "ResponseFormat").<ObjectNode>set("schema", schema)
                .put("strict", true);
        return format;
    }

    private Assessment.JudgeUsage usage(long in, long out) {
        return new Assessment.JudgeUsage(in, out, services.pricing().cost(model, in, out).orElse(null));
    }

    private static void endSpan(Recording.Step span, String text, Throwable t) {
        if (span == null) {
            return;
        }
        if (t != null) {
            span.error("JudgeCallFailed", Futures.message(t));
        } else {
            span.outputs(java.util.Map.of("text", text == null ? "" : text));
        }
        span.end();
    }

    private CompletableFuture<Reply> callAnthropic(Prompt prompt, Recording trace) {
        ObjectNode user = JsonNodeFactory.instance.objectNode().put("role", "user").put("content", prompt.user());
        MessagesRequest request = new MessagesRequest(model, services.maxTokens(), List.of(user),
                JsonNodeFactory.instance.textNode(prompt.system()), List.of(), List.of(), null, List.of());
        Recording.Step span = trace == null ? null : trace.step("messages.create", MlflowKeys.SpanType.CHAT_MODEL)
                .attribute(MlflowKeys.Span.LLM_MODEL, model).attribute(MlflowKeys.Span.LLM_PROVIDER, "anthropic");
        if (span != null) {
            span.inputs(java.util.Map.of("model", model, "system", prompt.system(), "messages",
                    List.of(java.util.Map.of("role", "user", "content", prompt.user()))));
        }
        return services.client().call(request, SILENT, Deadline.after(services.timeout()))
                .thenApply(r -> {
                    dev.agentfn.conversation.Usage u = r.message().usage();
                    long in = u.inputTokens() + u.cacheReadInputTokens() + u.cacheCreationInputTokens();
                    return new Reply(r.message().text(), usage(in, u.outputTokens()));
                })
                .whenComplete((r, t) -> endSpan(span, r == null ? null : r.text(), t));
    }

    /** The answer's JSON object, tolerating code fences and prose around it. */
    Assessment parse(String text) {
        int start = text == null ? -1 : text.indexOf('{');
        int end = text == null ? -1 : text.lastIndexOf('}');
        if (start < 0 || end < start) {
            return Assessment.failed(name, "the judge did not answer JSON: " + abbreviate(text));
        }
        JsonNode answer;
        try {
            answer = services.json().readTree(text.substring(start, end + 1));
        } catch (IOException e) {
            return Assessment.failed(name, "the judge answered malformed JSON: " + abbreviate(text));
        }
        Object value = type.value(answer.get("result"));
        if (value == null) {
            return Assessment.failed(name, "the judge's result " + answer.get("result") + " is not " + type.pythonName());
        }
        return Assessment.of(name, value, answer.path("rationale").asText(""));
    }

    private static String abbreviate(String s) {
        if (s == null) {
            return "(nothing)";
        }
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }

    /** Judge answers are not streamed anywhere, so nothing is ever relayed and every retry is allowed. */
    private static final AnthropicClient.CallObserver SILENT = new AnthropicClient.CallObserver() {
        @Override
        public void textDelta(String text) {
        }

        @Override
        public void retry(int retry, int status, String errorType, Duration delay) {
        }

        @Override
        public boolean relayedAnything() {
            return false;
        }
    };
}
