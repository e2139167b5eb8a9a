package dev.agentfn.invocation;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.Futures;
import dev.agentfn.LogText;
import dev.agentfn.config.Secrets;
import dev.agentfn.conversation.ConversationEngine;
import dev.agentfn.conversation.ConversationListener;
import dev.agentfn.conversation.ConversationRequest;
import dev.agentfn.conversation.ConversationResult;
import dev.agentfn.conversation.Pricing;
import dev.agentfn.conversation.SpanShapes;
import dev.agentfn.conversation.Usage;
import dev.agentfn.invocation.agent.AgentVersion;
import dev.agentfn.invocation.agent.SystemPrompts;
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
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * Runs one invocation, whichever front door it came through (the HTTP API, an evaluation row, the coming
 * gateway): engine chosen, trace started, root span described, engine run, root closed, trace delivered (or
 * spooled), and only then the answer — an {@link InvocationOutcome}, or an {@link InvocationFailed} that names
 * the {@link Failure} and the trace that recorded it. What a front door adds is its own wire form.
 */
public final class InvocationStage {
    private static final Logger LOG = Logger.getLogger(InvocationStage.class);

    private final Map<String, ConversationEngine> engines;
    private final Tracer tracer;
    private final TraceDelivery delivery;
    private final InvocationMetrics metrics;
    private final String version;
    private final boolean standIn;
    private final ObjectMapper json;
    private final Secrets secrets;
    private final AgentVersion agentVersion;
    private final SystemPrompts systemPrompts;

    /** A stage without agent version or registered prompts (tests of the stage itself). */
    public InvocationStage(Map<String, ConversationEngine> engines, Tracer tracer, TraceDelivery delivery,
            InvocationMetrics metrics, String version, boolean standIn, ObjectMapper json, Secrets secrets) {
        this(engines, tracer, delivery, metrics, version, standIn, json, secrets, AgentVersion.NONE,
                SystemPrompts.none(json));
    }

    /**
     * @param agentVersion writes {@code mlflow.modelId} on every trace
     * @param systemPrompts the deployment's system prompt and registered prompts
     */
    public InvocationStage(Map<String, ConversationEngine> engines, Tracer tracer, TraceDelivery delivery,
            InvocationMetrics metrics, String version, boolean standIn, ObjectMapper json, Secrets secrets,
            AgentVersion agentVersion, SystemPrompts systemPrompts) {
        this.agentVersion = agentVersion;
        this.systemPrompts = systemPrompts;
        this.engines = Map.copyOf(engines);
        this.tracer = tracer;
        this.delivery = delivery;
        this.metrics = metrics;
        this.version = version;
        this.standIn = standIn;
        this.json = json;
        this.secrets = secrets;
    }

    public Set<String> engineNames() {
        return engines.keySet();
    }

    /** The engine of that name; front doors validate requests with it before they start an invocation. */
    public ConversationEngine engine(String name) {
        ConversationEngine e = engines.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no engine " + name);
        }
        return e;
    }

    /** Whether the local stand-in of the Messages API answers instead of Claude. */
    public boolean standIn() {
        return standIn;
    }

    /**
     * A started invocation: its trace and root span ids are known before the conversation runs (for headers).
     * {@code cancel} tells the engine the caller is gone (a CLI process is then killed); a no-op once done.
     */
    public record Started(String traceId, String rootSpanId, CompletableFuture<InvocationOutcome> outcome,
            Runnable cancel) {
    }

    public Started start(Invocation invocation, ConversationListener listener) {
        long started = System.nanoTime();
        ConversationEngine engine = engine(invocation.engine());
        ActiveTrace trace = tracer.start(engine.rootSpanName(), MlflowKeys.SpanType.AGENT,
                Ids.parseTraceparent(invocation.traceparent()));
        // Only a caller that receives the stream gets the redacting relay: whether anything was relayed decides
        // whether a failed model call may be retried, and a caller that hears nothing must keep its retries.
        RedactingListener relay = listener == ConversationListener.NONE ? null : new RedactingListener(listener, secrets);
        ConversationListener toEngine = relay == null ? listener : relay;
        ToolsCalled tools = null;
        if (invocation.sourceRunId() != null) {
            trace.metadata(MlflowKeys.Metadata.SOURCE_RUN, invocation.sourceRunId());
            tools = new ToolsCalled(toEngine);
            toEngine = tools;
        }
        // The agent version's first lookup and a registered system prompt are awaited; once both are known
        // (the usual case) the engine starts at once, on this thread.
        ConversationListener engineListener = toEngine;
        AtomicReference<CompletableFuture<ConversationResult>> engineRun = new AtomicReference<>();
        CompletableFuture<ConversationResult> run = agentVersion.settled()
                .thenCompose(v -> systemPrompts.prepare(invocation.conversation(), invocation.promptVariables()))
                .handle((prepared, err) -> runEngine(invocation, trace, engine, engineListener, prepared, err, engineRun))
                .thenCompose(f -> f);
        Run r = new Run(invocation, trace, started, tools);
        CompletableFuture<InvocationOutcome> outcome = run.handle((result, err) -> {
            if (relay != null && err == null) {
                relay.complete();
            }
            return finish(r, result, err);
        }).thenCompose(f -> f);
        return new Started(trace.traceId(), trace.root().spanId(), outcome, () -> {
            CompletableFuture<ConversationResult> e = engineRun.get();
            if (e != null) {
                e.cancel(false);
            }
            run.cancel(false);
        });
    }

    /** The trace linked to the agent version and described, then the engine run (unless the prompt was unusable). */
    private CompletableFuture<ConversationResult> runEngine(Invocation invocation, ActiveTrace trace,
            ConversationEngine engine, ConversationListener listener, SystemPrompts.Prepared prepared, Throwable err,
            AtomicReference<CompletableFuture<ConversationResult>> engineRun) {
        agentVersion.stamp(trace);
        if (err != null) {
            describeRoot(trace, invocation, engine);
            return CompletableFuture.failedFuture(err);
        }
        Invocation inv = prepared.conversation() == invocation.conversation() ? invocation
                : withConversation(invocation, prepared.conversation());
        describeRoot(trace, inv, engine);
        describePrompts(trace, prepared);
        CompletableFuture<ConversationResult> e;
        try {
            e = engine.run(inv.conversation(), trace, listener);
        } catch (RuntimeException ex) {
            e = CompletableFuture.failedFuture(ex);
        }
        engineRun.set(e); // for cancel: the caller may leave while the engine runs
        return e;
    }

    private static Invocation withConversation(Invocation i, ConversationRequest c) {
        return new Invocation(c, i.engine(), i.prompt(), i.tags(), i.traceparent(), i.sourceRunId(),
                i.promptVariables());
    }

    /**
     * The prompt versions the trace used, as MLflow's own clients tag it; a cached version says so. Whoever writes
     * the trace to MLflow (now, or the spool's drainer later) links it to those versions from this tag.
     */
    private void describePrompts(ActiveTrace trace, SystemPrompts.Prepared p) {
        if (p.used().isEmpty() || !trace.isRecording()) {
            return;
        }
        List<Map<String, String>> linked = p.used().stream()
                .map(u -> {
                    Map<String, String> one = new LinkedHashMap<>(); // the order MLflow writes: name, version
                    one.put("name", u.name());
                    one.put("version", Integer.toString(u.version()));
                    return one;
                }).toList();
        try {
            trace.tag(MlflowKeys.Tag.LINKED_PROMPTS, json.writeValueAsString(linked));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        if (p.staleReason() != null) {
            trace.tag(MlflowKeys.Tag.PROMPT_CACHED, p.staleReason());
        }
    }

    /**
     * Describes the end and delivers the trace; a defect here (a bug in describing the answer, an exporter that
     * throws) must not escape as a bare exception: it is logged and answered as an internal failure.
     */
    private CompletableFuture<InvocationOutcome> finish(Run r, ConversationResult result, Throwable err) {
        try {
            return err == null ? succeed(r, result) : fail(r, Futures.unwrap(err));
        } catch (RuntimeException e) {
            LOG.errorf(LogText.escape(e), "invocation could not be finished (trace %s)", r.trace().traceId());
            return CompletableFuture.failedFuture(new InvocationFailed(Failure.of(e, secrets::redact),
                    r.trace().traceId(), r.trace().root().spanId(), ExportStatus.FAILED,
                    r.toolsCalled()));
        }
    }

    /** What the end of an invocation needs to know about its start. */
    private record Run(Invocation invocation, ActiveTrace trace, long startedNanos, ToolsCalled tools) {
        long millis() {
            return Duration.ofNanos(System.nanoTime() - startedNanos).toMillis();
        }

        List<String> toolsCalled() {
            return tools == null ? null : tools.names();
        }
    }

    private void describeRoot(ActiveTrace trace, Invocation inv, ConversationEngine engine) {
        if (!trace.isRecording()) {
            return;
        }
        ConversationRequest c = inv.conversation();
        Map<String, Object> inputs = new LinkedHashMap<>();
        if (inv.prompt() != null) {
            inputs.put("prompt", inv.prompt());
        } else {
            inputs.put("messages", json.convertValue(c.messages(), List.class));
        }
        // what the engine really passes on (the CLI gets no max_tokens, and its tool list may be the default)
        Map<String, Object> options = new LinkedHashMap<>(engine.tracedOptions(c));
        options.put("engine", inv.engine());
        inputs.put("options", options);
        trace.root().inputs(inputs)
                .attribute(MlflowKeys.Span.SESSION_ID, c.sessionId())
                .attribute(MlflowKeys.Span.USER_ID, c.user())
                .attribute(MlflowKeys.GenAi.CONVERSATION_ID, c.sessionId())
                .attribute(MlflowKeys.GenAi.OPERATION_NAME, "invoke_agent")
                .attribute(MlflowKeys.GenAi.AGENT_NAME, "agentfn")
                .attribute("agentfn.engine", inv.engine());
        trace.metadata(MlflowKeys.Metadata.SESSION, c.sessionId())
                .metadata(MlflowKeys.Metadata.USER, c.user())
                .metadata(MlflowKeys.Metadata.SOURCE_NAME, "agentfn")
                .metadata(MlflowKeys.Metadata.SOURCE_TYPE, "SERVICE")
                .metadata(MlflowKeys.Metadata.AGENTFN_VERSION, version)
                .metadata(MlflowKeys.Metadata.AGENTFN_ENGINE, inv.engine())
                .metadata(MlflowKeys.Metadata.AGENTFN_MODEL, c.model());
        if (standIn) {
            trace.metadata(MlflowKeys.Metadata.AGENTFN_STAND_IN, "true");
        }
        inv.tags().forEach(trace::tag);
        trace.requestPreview(inv.prompt() != null ? inv.prompt() : lastUserText(c));
    }

    private CompletableFuture<InvocationOutcome> succeed(Run r, ConversationResult result) {
        describeAnswer(r.trace(), result);
        return delivery.deliver(r.trace().finish()).thenApply(status -> {
            long ms = r.millis();
            metrics.success(r.invocation().engine(), result, ms, status);
            ConversationResult redacted = result.withOutput(secrets.redact(result.output()),
                    secrets.redact(result.content()));
            return new InvocationOutcome(redacted, r.invocation().engine(), r.trace().traceId(),
                    r.trace().root().spanId(), status, ms, r.toolsCalled(), standIn);
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
        totals(trace, result.usage(), result.cost());
    }

    private CompletableFuture<InvocationOutcome> fail(Run r, Throwable err) {
        Failure failure = Failure.of(err, secrets::redact);
        ActiveTrace trace = r.trace();
        if (failure instanceof Failure.Internal) {
            // the answer says "the server log has details": these are they (a defect, not bad input or upstream)
            LOG.errorf(LogText.escape(err), "invocation failed unexpectedly (trace %s)", trace.traceId());
        }
        trace.root().recordError(failure.type(), failure.detail(), err)
                .outputs(Map.of("status", "error", "error", failure.detail()));
        // MLflow's trace list shows the response preview: a failure names its error there instead of nothing
        trace.responsePreview("Error: " + failure.detail());
        return delivery.deliver(trace.finish()).thenApply(status -> {
            metrics.failure(r.invocation().engine(), r.invocation().conversation().model(), failure, status);
            throw new CompletionException(new InvocationFailed(failure, trace.traceId(), trace.root().spanId(), status,
                    r.toolsCalled()));
        });
    }

    /** The trace's totals, in the same shapes as each model call's (so MLflow sums and shows them alike). */
    private static void totals(ActiveTrace trace, Usage u, Pricing.Cost cost) {
        trace.jsonMetadata(MlflowKeys.Metadata.TOKEN_USAGE, SpanShapes.tokenUsage(u))
                .jsonMetadata(MlflowKeys.Metadata.COST, SpanShapes.cost(cost));
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
}
