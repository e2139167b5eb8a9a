package dev.agentfn.api;

import dev.agentfn.LogText;
import dev.agentfn.config.Secrets;
import dev.agentfn.conversation.ConversationEngine;
import dev.agentfn.conversation.ConversationException;
import dev.agentfn.conversation.ConversationListener;
import dev.agentfn.conversation.ConversationRequest;
import dev.agentfn.conversation.ConversationResult;
import dev.agentfn.conversation.Usage;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.Ids;
import dev.agentfn.tracing.TraceDelivery;
import dev.agentfn.tracing.Tracer;
import dev.agentfn.tracing.export.ExportStatus;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.jboss.logging.Logger;

/**
 * One invocation from request to answer: trace started, conversation run, root span closed, trace
 * delivered (or spooled), and only then the answer. Failures become problems carrying the trace id.
 */
public final class InvocationService {
    private static final Logger LOG = Logger.getLogger(InvocationService.class);
    static final String STAND_IN_WARNING = "answered by the local stand-in of the Messages API, not by Claude "
            + "(no ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN is set)";

    private final Map<String, ConversationEngine> engines;
    private final Tracer tracer;
    private final TraceDelivery delivery;
    private final InvocationMetrics metrics;
    private final String version;
    private final boolean standIn;
    private final com.fasterxml.jackson.databind.ObjectMapper json;
    private final Secrets secrets;

    public InvocationService(Map<String, ConversationEngine> engines, Tracer tracer, TraceDelivery delivery,
            InvocationMetrics metrics, String version, boolean standIn, com.fasterxml.jackson.databind.ObjectMapper json,
            Secrets secrets) {
        this.json = json;
        this.secrets = secrets;
        this.engines = Map.copyOf(engines);
        this.tracer = tracer;
        this.delivery = delivery;
        this.metrics = metrics;
        this.version = version;
        this.standIn = standIn;
    }

    public java.util.Set<String> engineNames() {
        return engines.keySet();
    }

    /**
     * A started invocation: its trace and root span ids are known before the conversation runs (for headers).
     * {@code cancel} tells the engine the caller is gone (a CLI process is then killed); a no-op once done.
     */
    public record Started(String traceId, String rootSpanId, CompletableFuture<InvocationResponse> answer,
            Runnable cancel) {
        public Started(String traceId, CompletableFuture<InvocationResponse> answer) {
            this(traceId, null, answer, () -> { });
        }
    }

    public Started start(InvocationRequest request, ConversationRequest conversation, String engineName,
            String traceparent, ConversationListener listener) {
        return start(request, conversation, engineName, traceparent, listener, null);
    }

    /**
     * @param sourceRunId an evaluation row's MLflow run: the trace carries {@code mlflow.sourceRun} from its
     *        creation and the answer lists the tools called; {@code null} for an ordinary invocation
     */
    public Started start(InvocationRequest request, ConversationRequest conversation, String engineName,
            String traceparent, ConversationListener listener, String sourceRunId) {
        long started = System.nanoTime();
        ActiveTrace trace = tracer.start(rootName(engineName), MlflowKeys.SpanType.AGENT, Ids.parseTraceparent(traceparent));
        ConversationEngine engine = engines.get(engineName);
        describeRoot(trace, request, conversation, engineName, engine);
        ToolsCalled tools = null;
        if (sourceRunId != null) {
            trace.metadata(MlflowKeys.Metadata.SOURCE_RUN, sourceRunId);
            tools = new ToolsCalled(listener);
            listener = tools;
        }
        RedactingListener relay = listener == ConversationListener.NONE ? null : new RedactingListener(listener, secrets);
        CompletableFuture<ConversationResult> run;
        try {
            run = engine.run(conversation, trace, relay == null ? listener : relay);
        } catch (RuntimeException e) {
            run = CompletableFuture.failedFuture(e);
        }
        ToolsCalled called = tools;
        CompletableFuture<InvocationResponse> answer = run.handle((result, err) -> {
                    if (relay != null && err == null) {
                        relay.complete();
                    }
                    return err == null ? succeed(trace, request, result, engineName, started, called)
                            : fail(trace, conversation, unwrap(err), engineName, started);
                })
                .thenCompose(f -> f);
        CompletableFuture<ConversationResult> engineRun = run;
        return new Started(trace.traceId(), trace.root().spanId(), answer, () -> engineRun.cancel(false));
    }

    /** Passes everything on and remembers tool names in call order (for an evaluation's expected_tools_called). */
    private static final class ToolsCalled implements ConversationListener {
        private final ConversationListener delegate;
        private final List<String> names = new java.util.concurrent.CopyOnWriteArrayList<>();

        ToolsCalled(ConversationListener delegate) {
            this.delegate = delegate;
        }

        @Override
        public void textDelta(String text) {
            delegate.textDelta(text);
        }

        @Override
        public void toolCall(String toolUseId, String name, com.fasterxml.jackson.databind.JsonNode input) {
            names.add(name);
            delegate.toolCall(toolUseId, name, input);
        }

        @Override
        public void toolResult(String toolUseId, String name, String content, boolean isError) {
            delegate.toolResult(toolUseId, name, content, isError);
        }

        @Override
        public boolean relayedAnything() {
            return delegate.relayedAnything();
        }
    }

    private static String rootName(String engine) {
        return "claude-code".equals(engine) ? "claude_code_conversation" : "agent_invocation";
    }

    private void describeRoot(ActiveTrace trace, InvocationRequest r, ConversationRequest c, String engine,
            ConversationEngine e) {
        if (!trace.isRecording()) {
            return;
        }
        Map<String, Object> inputs = new LinkedHashMap<>();
        if (r.prompt() != null) {
            inputs.put("prompt", r.prompt());
        } else {
            inputs.put("messages", json.convertValue(c.messages(), List.class));
        }
        // what the engine really passes on (the CLI gets no max_tokens, and its tool list may be the default)
        Map<String, Object> options = e == null ? new LinkedHashMap<>() : new LinkedHashMap<>(e.tracedOptions(c));
        options.put("engine", engine);
        inputs.put("options", options);
        trace.root().inputs(inputs)
                .attribute(MlflowKeys.Span.SESSION_ID, c.sessionId())
                .attribute(MlflowKeys.Span.USER_ID, c.user())
                .attribute(MlflowKeys.GenAi.CONVERSATION_ID, c.sessionId())
                .attribute(MlflowKeys.GenAi.OPERATION_NAME, "invoke_agent")
                .attribute(MlflowKeys.GenAi.AGENT_NAME, "agentfn")
                .attribute("agentfn.engine", engine);
        trace.metadata(MlflowKeys.Metadata.SESSION, c.sessionId())
                .metadata(MlflowKeys.Metadata.USER, c.user())
                .metadata(MlflowKeys.Metadata.SOURCE_NAME, "agentfn")
                .metadata(MlflowKeys.Metadata.SOURCE_TYPE, "SERVICE")
                .metadata(MlflowKeys.Metadata.AGENTFN_VERSION, version)
                .metadata(MlflowKeys.Metadata.AGENTFN_ENGINE, engine)
                .metadata(MlflowKeys.Metadata.AGENTFN_MODEL, c.model());
        if (standIn) {
            trace.metadata(MlflowKeys.Metadata.AGENTFN_STAND_IN, "true");
        }
        if (r.metadata() != null) {
            r.metadata().forEach(trace::tag);
        }
        trace.requestPreview(r.prompt() != null ? r.prompt() : lastUserText(c));
    }

    private CompletableFuture<InvocationResponse> succeed(ActiveTrace trace, InvocationRequest request,
            ConversationResult result, String engine, long started, ToolsCalled tools) {
        describeAnswer(trace, result);
        return delivery.deliver(trace.finish()).thenApply(status -> {
            long ms = Duration.ofNanos(System.nanoTime() - started).toMillis();
            metrics.success(engine, result, ms, status);
            return response(result, engine, trace, status, ms, tools == null ? null : List.copyOf(tools.names));
        });
    }

    private static void describeAnswer(ActiveTrace trace, ConversationResult result) {
        if (!trace.isRecording()) {
            return;
        }
        Map<String, Object> outputs = new LinkedHashMap<>();
        outputs.put("response", result.output());
        outputs.put("status", "completed");
        outputs.put("stop_reason", result.stopReason());
        trace.root().outputs(outputs).attribute("agentfn.turns", result.turns());
        trace.responsePreview(result.output());
        totals(trace, result.usage(), result.cost().inputUsd(), result.cost().outputUsd());
    }

    private CompletableFuture<InvocationResponse> fail(ActiveTrace trace, ConversationRequest c, Throwable err,
            String engine, long started) {
        // upstream messages are repeated in the detail: an upstream echoing a credential must not reach the caller
        Problem problem = UpstreamProblems.toProblem(err).redacted(secrets);
        if (problem.status() == 500 && !(err instanceof CancellationException)) {
            // the answer says "the server log has details": these are they (a defect, not bad input or upstream;
            // a cancellation is a caller that hung up, and nobody reads its answer)
            LOG.errorf(LogText.escape(err), "invocation failed unexpectedly (trace %s)", trace.traceId());
        }
        String type = err instanceof ConversationException.Upstream u ? u.errorType() : err.getClass().getSimpleName();
        trace.root().recordError(type, problem.detail(), err)
                .outputs(Map.of("status", "error", "error", problem.detail()));
        // MLflow's trace list shows the response preview: a failure names its error there instead of nothing
        trace.responsePreview("Error: " + problem.detail());
        return delivery.deliver(trace.finish()).thenApply(status -> {
            metrics.failure(engine, c.model(), problem.status(), type, status);
            throw new CompletionException(new ProblemException(problem.withTraceId(trace.traceId()),
                    UpstreamProblems.headers(err)));
        });
    }

    private static void totals(ActiveTrace trace, Usage u, double inputCost, double outputCost) {
        Map<String, Object> usage = new LinkedHashMap<>();
        usage.put(MlflowKeys.Usage.INPUT_TOKENS, u.allInputTokens());
        usage.put(MlflowKeys.Usage.OUTPUT_TOKENS, u.outputTokens());
        usage.put(MlflowKeys.Usage.TOTAL_TOKENS, u.allInputTokens() + u.outputTokens());
        usage.put(MlflowKeys.Usage.CACHE_READ_INPUT_TOKENS, u.cacheReadInputTokens());
        usage.put(MlflowKeys.Usage.CACHE_CREATION_INPUT_TOKENS, u.cacheCreationInputTokens());
        Map<String, Object> cost = new LinkedHashMap<>();
        cost.put(MlflowKeys.Usage.INPUT_COST, inputCost);
        cost.put(MlflowKeys.Usage.OUTPUT_COST, outputCost);
        cost.put(MlflowKeys.Usage.TOTAL_COST, inputCost + outputCost);
        trace.jsonMetadata(MlflowKeys.Metadata.TOKEN_USAGE, usage).jsonMetadata(MlflowKeys.Metadata.COST, cost);
    }

    private InvocationResponse response(ConversationResult r, String engine, ActiveTrace trace, ExportStatus status,
            long ms, List<String> toolsCalled) {
        Usage u = r.usage();
        return new InvocationResponse(secrets.redact(r.output()), secrets.redact(r.content()), r.stopReason(), r.turns(),
                new InvocationResponse.UsageBody(u.inputTokens(), u.outputTokens(), u.cacheReadInputTokens(),
                        u.cacheCreationInputTokens()),
                r.cost().totalUsd(), r.model(), engine, r.sessionId(), ms,
                new InvocationResponse.TraceBody(trace.traceId(), status.wireName(), trace.root().spanId()),
                standIn ? Boolean.TRUE : null, standIn ? STAND_IN_WARNING : null, toolsCalled);
    }

    private static String lastUserText(ConversationRequest c) {
        var last = c.messages().get(c.messages().size() - 1).path("content");
        if (last.isTextual()) {
            return last.asText();
        }
        StringBuilder sb = new StringBuilder();
        last.forEach(b -> sb.append(b.path("text").asText("")));
        return sb.toString();
    }

    static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    static Optional<ProblemException> problemOf(Throwable t) {
        Throwable u = unwrap(t);
        return u instanceof ProblemException p ? Optional.of(p) : Optional.empty();
    }
}
