package dev.agentfn.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.conversation.Deadline;
import dev.agentfn.conversation.messages.AnthropicClient;
import dev.agentfn.conversation.messages.wire.MessagesRequest;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.LiveSpan;
import dev.agentfn.tracing.TraceDelivery;
import dev.agentfn.tracing.Tracer;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * An LLM judge as MLflow's {@code make_judge}: instructions rendered with the row, sent to the
 * model, answered as JSON {@code {"result":…,"rationale":…}}. A malformed answer is asked for once
 * more; a second malformed answer or a failed call becomes an assessment error.
 */
public final class Judge implements Scorer {
    static final String MODEL_PREFIX = "anthropic:/";
    /** Any OpenAI-compatible chat-completions endpoint ({@code agentfn.evaluation.openai.*}). */
    static final String OPENAI_PREFIX = "openai:/";
    /** Start of the error of a call that got no answer (as opposed to a malformed one). */
    static final String CALL_FAILED = "judge call failed: ";
    private static final String SYSTEM = "You are an impartial evaluator. Answer with a single JSON object and "
            + "nothing else: {\"result\": <result>, \"rationale\": \"<one or two sentences>\"}.";

    /**
     * Shared by all judges: the clients, the JSON mapper, the concurrency limit and the call budget;
     * {@code tracer} and {@code delivery} trace each judgement (both {@code null}: untraced);
     * {@code openai} is {@code null} where {@code openai:/} judges are not offered.
     */
    public record Services(AnthropicClient client, ObjectMapper json, Limiter limiter, int maxTokens,
            Duration timeout, Tracer tracer, TraceDelivery delivery, OpenAiChatClient openai) {

        public Services(AnthropicClient client, ObjectMapper json, Limiter limiter, int maxTokens, Duration timeout) {
            this(client, json, limiter, maxTokens, timeout, null, null, null);
        }

        boolean traced() {
            return tracer != null && delivery != null && delivery.enabled();
        }
    }

    private final String name;
    private final String modelUri;
    private final String model;
    private final boolean openai;
    private final JudgeTemplate template;
    private final JudgeResultType type;
    private final Services services;

    private Judge(String name, String modelUri, JudgeTemplate template, JudgeResultType type, Services services) {
        this.name = name;
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
                JudgeResultType.parse(spec, where), services);
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
        String prompt = template.render(row, outcome) + "\n\nAnswer with JSON only. \"result\" must be "
                + type.instruction() + ".";
        ActiveTrace trace = services.traced() ? startTrace(prompt, outcome) : null;
        CompletableFuture<Assessment> judged = attempt(prompt, true, trace)
                .exceptionally(t -> Assessment.failed(name, CALL_FAILED + message(t)));
        return trace == null ? judged : judged.thenCompose(a -> finishTrace(trace, a));
    }

    /** The judgement as MLflow traces a scorer call: its own trace, tagged with the scorer's name. */
    private ActiveTrace startTrace(String prompt, RowOutcome outcome) {
        ActiveTrace trace = services.tracer().start(name, MlflowKeys.SpanType.EVALUATOR, java.util.Optional.empty());
        java.util.Map<String, Object> inputs = new java.util.LinkedHashMap<>();
        inputs.put("prompt", prompt);
        inputs.put("model", modelUri);
        if (outcome.traceId() != null) {
            inputs.put("trace_id", outcome.traceId());
        }
        trace.root().inputs(inputs);
        trace.tag(MlflowKeys.Tag.SOURCE_SCORER, name).requestPreview(prompt);
        return trace;
    }

    private CompletableFuture<Assessment> finishTrace(ActiveTrace trace, Assessment a) {
        java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("value", a.value());
        out.put("rationale", a.rationale());
        if (a.error() != null) {
            trace.root().recordError("JudgeError", a.error(), null);
            out.put("error", a.error());
        }
        trace.root().outputs(out);
        trace.responsePreview(a.error() != null ? a.error() : String.valueOf(a.value()));
        // The assessment points at the trace; it does not wait for it (a spooled trace arrives later).
        String traceId = trace.traceId();
        services.delivery().deliver(trace.finish());
        return CompletableFuture.completedFuture(a.withScorerTrace(traceId));
    }

    private CompletableFuture<Assessment> attempt(String prompt, boolean retryMalformed, ActiveTrace trace) {
        return services.limiter().submit(() -> call(prompt, trace)).thenCompose(text -> {
            Assessment a = parse(text);
            if (a.error() != null && retryMalformed) {
                return attempt(prompt, false, trace);
            }
            return CompletableFuture.completedFuture(a);
        });
    }

    private CompletableFuture<String> call(String prompt, ActiveTrace trace) {
        return openai ? callOpenAi(prompt, trace) : callAnthropic(prompt, trace);
    }

    private CompletableFuture<String> callOpenAi(String prompt, ActiveTrace trace) {
        List<OpenAiChatClient.ChatMessage> messages = List.of(new OpenAiChatClient.ChatMessage("system", SYSTEM),
                new OpenAiChatClient.ChatMessage("user", prompt));
        LiveSpan span = trace == null ? null : trace.startSpan("chat.completions.create", MlflowKeys.SpanType.CHAT_MODEL,
                trace.root()).attribute(MlflowKeys.Span.LLM_MODEL, model).attribute(MlflowKeys.Span.LLM_PROVIDER,
                        "openai");
        if (span != null) {
            span.inputs(java.util.Map.of("model", model, "messages", messages));
        }
        return services.openai().complete(new OpenAiChatClient.ChatRequest(model, messages, services.maxTokens()),
                        Deadline.after(services.timeout()))
                .thenApply(OpenAiChatClient.Completion::text)
                .whenComplete((text, t) -> endSpan(span, text, t));
    }

    private static void endSpan(LiveSpan span, String text, Throwable t) {
        if (span == null) {
            return;
        }
        if (t != null) {
            span.recordError("JudgeCallFailed", message(t), null);
        } else {
            span.outputs(java.util.Map.of("text", text == null ? "" : text));
        }
        span.end();
    }

    private CompletableFuture<String> callAnthropic(String prompt, ActiveTrace trace) {
        ObjectNode user = JsonNodeFactory.instance.objectNode().put("role", "user").put("content", prompt);
        MessagesRequest request = new MessagesRequest(model, services.maxTokens(), List.of(user),
                JsonNodeFactory.instance.textNode(SYSTEM), List.of(), List.of(), null, List.of());
        LiveSpan span = trace == null ? null : trace.startSpan("messages.create", MlflowKeys.SpanType.CHAT_MODEL,
                trace.root()).attribute(MlflowKeys.Span.LLM_MODEL, model).attribute(MlflowKeys.Span.LLM_PROVIDER,
                        "anthropic");
        if (span != null) {
            span.inputs(java.util.Map.of("model", model, "messages", List.of(java.util.Map.of("role", "user",
                    "content", prompt))));
        }
        return services.client().call(request, SILENT, Deadline.after(services.timeout()))
                .thenApply(r -> r.message().text())
                .whenComplete((text, t) -> endSpan(span, text, t));
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
            return Assessment.failed(name, "the judge's result " + answer.get("result") + " is not " + type.instruction());
        }
        return Assessment.of(name, value, answer.path("rationale").asText(""));
    }

    private static String abbreviate(String s) {
        if (s == null) {
            return "(nothing)";
        }
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }

    private static String message(Throwable t) {
        Throwable c = t;
        while (c instanceof CompletionException && c.getCause() != null) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
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
