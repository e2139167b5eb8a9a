package dev.agentfn.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.LogText;
import dev.agentfn.conversation.Pricing;
import dev.agentfn.conversation.SpanShapes;
import dev.agentfn.conversation.Usage;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.MlflowKeys.GenAi;
import dev.agentfn.mlflow.MlflowKeys.Span;
import dev.agentfn.mlflow.MlflowKeys.SpanType;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.mlflow.entities.TraceIds;
import dev.agentfn.mlflow.entities.TraceInfo;
import dev.agentfn.mlflow.entities.TraceState;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.Ids;
import dev.agentfn.tracing.LiveSpan;
import dev.agentfn.tracing.TraceDelivery;
import dev.agentfn.tracing.TraceLookup;
import dev.agentfn.tracing.Tracer;
import dev.agentfn.tracing.export.ExportStatus;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * Turns relayed requests into MLflow traces shaped as MLflow's own Claude Code integration draws them: one trace per
 * user turn, root {@code claude_code_conversation}, one {@code llm} span per model call, one {@code tool_<name>} span
 * per tool call, subagents as {@code subagent_<type>} under the tool call that started them.
 *
 * <p>Stateless across instances: every id is derived from the session and the turn's position
 * ({@link Conversation}), every request writes the spans it ends plus the root (MLflow replaces a span re-sent under
 * the same id), and the turn's small state travels in the trace's own metadata ({@link TurnState}). The in-memory
 * map is a cache of that state; on a miss it is read back through {@link TraceLookup}.
 *
 * <p>Two steps per answer. {@link #end} first records the call in the turn's state, on the thread that relayed the
 * answer: a few field updates, so the turn's next request, on whatever thread, finds the call known. Building the
 * trace (spans, content trees) and starting its export run on the trace worker, a thread of their own, in the order
 * the answers ended. So an event loop that relays other requests never runs them, and when both have work the OS
 * gives the core to the event loop that just woke (a burst of 16 answers ending together used to hold the next 16
 * requests' first bytes behind 16 traces' building on the event loops).
 */
final class TurnTracer {
    private static final Logger LOG = Logger.getLogger(TurnTracer.class);
    static final String ROOT_NAME = "claude_code_conversation";
    /** How long a request waits for the previous call's trace write to show in MLflow (see {@link #storedState}). */
    static final java.time.Duration PREVIOUS_CALL_WAIT = java.time.Duration.ofSeconds(5);
    private static final long FIRST_POLL_MS = 20;
    /** How many of a session's newest traces are searched for a subagent's parent turn. */
    private static final int PARENT_TURN_CANDIDATES = 5;
    private static final Pattern USER_AGENT = Pattern.compile("claude-cli/([^\\s(]+)(?:\\s*\\(([^,)]*),?\\s*([^,)]*))?");

    private final Tracer tracer;
    private final TraceDelivery delivery;
    private final TraceLookup lookup;
    private final Pricing pricing;
    private final ObjectMapper json;
    private final TurnCache cache;
    private final boolean turnEndWaitsForSpool;
    private final Executor traceWork;

    /**
     * @param turnEndWaitsForSpool a turn's last write waits for the spool only, its export following (not for MLflow)
     * @param traceWork where traces are built and their exports started, in the order given ({@link #traceWorker})
     */
    TurnTracer(Tracer tracer, TraceDelivery delivery, TraceLookup lookup, Pricing pricing, ObjectMapper json,
            TurnCache cache, boolean turnEndWaitsForSpool, Executor traceWork) {
        this.tracer = tracer;
        this.delivery = delivery;
        this.lookup = lookup;
        this.pricing = pricing;
        this.json = json;
        this.cache = cache;
        this.turnEndWaitsForSpool = turnEndWaitsForSpool;
        this.traceWork = traceWork;
    }

    /**
     * The trace worker: one thread, so a turn's writes start in the order its answers ended, with room for {@code
     * queue} traces waiting. Past that (or once shut down) the thread that hands a trace over builds it itself:
     * a burst slows the relay a little rather than holding every waiting answer's content in memory, and an answer
     * held for its trace never waits for a worker that is gone.
     */
    static ThreadPoolExecutor traceWorker(int queue) {
        return new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(queue), r -> {
            Thread t = new Thread(r, "agentfn-gateway-trace");
            t.setDaemon(true);
            return t;
        }, (task, pool) -> task.run());
    }

    boolean enabled() {
        return delivery.enabled();
    }

    long now() {
        return tracer.nowNanos();
    }

    /** What is known of a request's place when it arrives; the turn's state is looked up meanwhile, off the relay's path. */
    final class Pending {
        final Exchange exchange;
        final Conversation conversation;
        final CompletableFuture<TurnState> state;

        Pending(Exchange exchange, Conversation conversation, CompletableFuture<TurnState> state) {
            this.exchange = exchange;
            this.conversation = conversation;
            this.state = state;
        }

        /** Whether this answer ends the turn: the main agent's answer that asks for no tool. */
        boolean endsTurn(String stopReason) {
            return !exchange.claudeCode() || !exchange.subagent() && !"tool_use".equals(stopReason);
        }

        boolean traced() {
            return state != null;
        }
    }

    /** Places a request; side requests of Claude Code are not traced (they would split the turn). */
    Pending begin(Exchange ex) {
        if (!enabled() || ex.sideRequest() || !ex.body().path("messages").isArray()) {
            return new Pending(ex, null, null);
        }
        Conversation c = Conversation.of(ex.body());
        if (!ex.claudeCode()) {
            String id = joined(ex).map(Ids.Parent::traceId).orElseGet(Ids::newTraceId);
            return new Pending(ex, c, CompletableFuture.completedFuture(new TurnState(id, ex.arrivalNanos())));
        }
        if (ex.subagent()) {
            Optional<TurnState> parent = cache.latestTurn(ex.sessionId());
            if (parent.isPresent()) {
                return new Pending(ex, c, CompletableFuture.completedFuture(parent.get()));
            }
            CompletableFuture<TurnState> state = parentTurnInMlflow(ex, c).thenApply(found -> found.map(cache::put)
                    .orElseGet(() -> {
                        LOG.debugf("subagent request whose parent turn is known neither here nor in MLflow: traced on its own");
                        return new TurnState(Ids.newTraceId(), ex.arrivalNanos());
                    }));
            state.thenAccept(s -> cache.open(ex.sessionId(), s));
            return new Pending(ex, c, state);
        }
        String traceId = Ids.derived(16, "agentfn-gateway-turn", ex.sessionId(), Integer.toString(c.promptIndex()),
                c.promptDigest());
        Optional<TurnState> cached = cache.get(traceId);
        CompletableFuture<TurnState> state;
        if (c.call() == 0) {
            state = CompletableFuture.completedFuture(cached.orElseGet(() -> cache.put(new TurnState(traceId, ex.arrivalNanos()))));
        } else if (cached.isPresent() && cached.get().knows(TurnState.MAIN, c.call() - 1)) {
            state = CompletableFuture.completedFuture(cached.get());
        } else {
            // a request whose previous call this instance did not serve (another instance did, or it never saw the
            // turn): the cache is stale or empty, and the turn's state is in the trace's metadata
            state = storedState(traceId, c.call() - 1, System.nanoTime() + PREVIOUS_CALL_WAIT.toNanos(), FIRST_POLL_MS)
                    .thenApply(stored -> stored.orElseGet(() -> cached.orElseGet(() -> new TurnState(traceId,
                            ex.arrivalNanos()))))
                    .thenApply(cache::put);
        }
        state.thenAccept(s -> cache.open(ex.sessionId(), s));
        return new Pending(ex, c, state);
    }

    /**
     * The turn that started a subagent this instance has not seen: the newest of its session's turns in MLflow whose
     * state knows the subagent or holds the Agent call that started it (matched by the subagent's first message,
     * which is that call's prompt). A subagent starts right after its parent's answer asked for it, so the parent
     * is among the newest few turns of the session.
     */
    private CompletableFuture<Optional<TurnState>> parentTurnInMlflow(Exchange ex, Conversation c) {
        return lookup.newestWithMetadata(MlflowKeys.Metadata.SESSION, ex.tracedSessionId(), PARENT_TURN_CANDIDATES)
                .thenApply(found -> {
                    List<TurnState> turns = found.stream().map(m -> TurnState.jsonIn(m).map(this::parse).orElse(null))
                            .filter(java.util.Objects::nonNull).toList();
                    // the exact match first; else, as on the instance that saw the call, any turn waiting for a subagent
                    return turns.stream().filter(s -> s.subagent(ex.agentId()).isPresent() || s.hasAgentCall(c.promptText()))
                            .findFirst().or(() -> turns.stream().filter(TurnState::waitsForAgent).findFirst());
                });
    }

    /**
     * The turn's state as MLflow has it once it knows the previous call. The instance that served that call answered
     * before its trace write landed (intermediate answers do not wait for tracing), and the client may already be
     * here, on another instance: read again, briefly, until the write shows. Waiting matters twice: the usage and
     * timing of that call belong in this request's totals and tool spans, and a turn's final write must come after
     * every earlier write of the turn, or a late one would set the finished trace back to IN_PROGRESS. The wait runs
     * while the request is relayed, so it delays nothing unless the previous write is slower than the model.
     */
    private CompletableFuture<Optional<TurnState>> storedState(String traceId, int previousCall, long deadline,
            long pollMs) {
        return lookup.metadata(TraceIds.mlflow(traceId)).thenApply(m -> m.flatMap(TurnState::jsonIn).map(this::parse))
                .thenCompose(stored -> {
                    if (stored.isPresent() && stored.get().knows(TurnState.MAIN, previousCall)
                            || System.nanoTime() - deadline >= 0) {
                        return CompletableFuture.completedFuture(stored);
                    }
                    return CompletableFuture.supplyAsync(() -> null,
                            CompletableFuture.delayedExecutor(pollMs, TimeUnit.MILLISECONDS))
                            .thenCompose(x -> storedState(traceId, previousCall, deadline, Math.min(pollMs * 2, 400)));
                });
    }

    /**
     * Writes what this request ended; the future completes when MLflow confirmed it or it was spooled. The call is
     * recorded in the turn's state before this returns (when the state is known by then); the trace is built on the
     * trace worker.
     */
    CompletableFuture<ExportStatus> end(Pending p, Answer a) {
        if (!p.traced()) {
            return CompletableFuture.completedFuture(ExportStatus.DISABLED);
        }
        return p.state.thenCompose(state -> {
            Recorded r;
            try {
                r = record(p, state, a);
            } catch (RuntimeException e) {
                return failed(e, state);
            }
            return CompletableFuture.supplyAsync(() -> buildAndDeliver(r), traceWork).thenCompose(f -> f);
        });
    }

    /** What {@link #record} changed in the turn's state and what building the trace needs of it from before. */
    private record Recorded(Pending p, Answer a, TurnState state, Pricing.Cost cost, long toolsStart,
            TurnState.Subagent subagent, boolean ends) {
    }

    /**
     * The call's part of the turn's state: its usage and end, the Agent calls it asks for, a subagent's first request,
     * a turn that ends. Reads first what the trace needs from before this call (when the answer before it ended).
     */
    private Recorded record(Pending p, TurnState state, Answer a) {
        Exchange ex = p.exchange;
        boolean claudeCode = ex.claudeCode();
        long toolsStart = state.answerEnd(ex.agentKey()).orElse(ex.arrivalNanos());
        TurnState.Subagent sub = claudeCode && ex.subagent() ? subagentOf(state, p) : null;
        Usage u = a.usage() == null ? Usage.ZERO : a.usage();
        Pricing.Cost cost = pricing.cost(model(ex, a), u);
        state.call(ex.agentKey(), claudeCode ? p.conversation.call() : 0, u, cost, a.endNanos());
        if (a.ok() && a.asksForTools() && a.message() != null) {
            pendingAgentCalls(state, a.message());
        }
        boolean ends = claudeCode && (p.endsTurn(a.stopReason()) && a.ok()
                || "client_disconnected".equals(a.errorType()) && !ex.subagent());
        if (ends) {
            state.close();
        }
        return new Recorded(p, a, state, cost, toolsStart, sub, ends);
    }

    private CompletableFuture<ExportStatus> buildAndDeliver(Recorded r) {
        try {
            Trace trace = build(r);
            return turnEndWaitsForSpool && trace.info().state() != TraceState.IN_PROGRESS
                    ? delivery.deliverDurably(trace) : delivery.deliver(trace);
        } catch (RuntimeException e) {
            return failed(e, r.state);
        }
    }

    private static CompletableFuture<ExportStatus> failed(RuntimeException e, TurnState state) {
        LOG.errorf(LogText.escape(e), "gateway trace %s could not be built", TraceIds.mlflow(state.otelTraceId()));
        return CompletableFuture.completedFuture(ExportStatus.FAILED);
    }

    private static String model(Exchange ex, Answer a) {
        return a.model() != null ? a.model() : ex.model();
    }

    /** Closes a turn nobody continued: its root is written as ended, with an error saying so. */
    CompletableFuture<ExportStatus> abandon(TurnState state, String sessionId, String reason) {
        ActiveTrace t = tracer.resume(state.otelTraceId(), rootSpanId(state.otelTraceId()), ROOT_NAME, SpanType.AGENT,
                state.startNanos());
        state.close();
        totals(t, state);
        t.metadata(MlflowKeys.Metadata.SESSION, TracedText.of(sessionId));
        state.toMetadata().forEach(t::metadata);
        t.root().recordError("TurnAbandoned", reason, null);
        return delivery.deliver(t.finish());
    }

    /** Closes an idle turn unless MLflow's copy of its state shows it closed or continued elsewhere since. */
    CompletableFuture<ExportStatus> abandonIfStill(TurnCache.Open open, long idleBeforeNanos) {
        TurnState mine = open.state();
        return lookup.metadata(TraceIds.mlflow(mine.otelTraceId())).thenCompose(m -> {
            TurnState stored = m.flatMap(TurnState::jsonIn).map(this::parse).orElse(mine);
            if (stored.closed() || stored.updatedNanos() >= idleBeforeNanos) {
                return CompletableFuture.completedFuture(ExportStatus.DISABLED);
            }
            return abandon(stored, open.sessionId(), "no request continued this turn within agentfn.gateway.turn-idle-timeout");
        });
    }

    private Trace build(Recorded r) {
        Pending p = r.p;
        Answer a = r.a;
        TurnState state = r.state;
        Exchange ex = p.exchange;
        if (!ex.claudeCode()) {
            return single(r);
        }
        String root = rootSpanId(state.otelTraceId());
        ActiveTrace t = tracer.resume(state.otelTraceId(), root, ROOT_NAME, SpanType.AGENT, state.startNanos());
        String parent = root;
        if (ex.subagent()) {
            parent = subagentSpan(t, r.subagent, p, a).spanId();
        }
        tools(t, state, p, parent, r.toolsStart);
        LiveSpan llm = t.startSpanWithId(Ids.derived(8, state.otelTraceId(), "llm", ex.agentKey(),
                Integer.toString(p.conversation.call())), "llm", SpanType.LLM, parent, ex.arrivalNanos());
        describeCall(llm, ex, a, r.cost);
        llm.endAt(a.endNanos());
        if (!ex.subagent()) {
            t.root().inputs(Map.of("prompt", p.conversation.promptText()));
            t.requestPreview(p.conversation.promptText());
        }
        if (r.ends) {
            if (a.ok()) {
                t.root().outputs(Map.of("status", "completed", "response", a.text()));
                t.responsePreview(a.text());
            } else {
                t.root().recordError("ClientDisconnected", "the client left before the answer ended", null);
            }
        }
        t.root().attribute(Span.SESSION_ID, ex.tracedSessionId());
        describeTrace(t, ex, a);
        totals(t, state);
        state.toMetadata().forEach(t::metadata);
        Trace trace = t.finish();
        return r.ends ? trace : inProgress(trace);
    }

    /**
     * The caller's span this request's span joins: a valid W3C {@code traceparent} from a client that is not Claude
     * Code, where the target can take spans alone (never the owner's trace record: {@link Trace#spansOnly()}).
     */
    private Optional<Ids.Parent> joined(Exchange ex) {
        return ex.claudeCode() || !delivery.joinsCallerTraces() ? Optional.empty() : Ids.parseTraceparent(ex.traceparent());
    }

    /**
     * A request of another client: the call as one {@code llm} span, either in the caller's trace under the span its
     * {@code traceparent} names, or as the root of a trace of its own.
     */
    private Trace single(Recorded r) {
        Pending p = r.p;
        Answer a = r.a;
        TurnState state = r.state;
        Exchange ex = p.exchange;
        ActiveTrace timed = tracer.resume(state.otelTraceId(), Ids.newSpanId(), "llm", SpanType.LLM, ex.arrivalNanos());
        Optional<Ids.Parent> parent = Ids.parseTraceparent(ex.traceparent());
        // begin() decided once whether to join (it gave the request the caller's trace id); not asked again here, since
        // the answer can change meanwhile and a trace under the caller's id must never be written as one of our own
        boolean join = parent.isPresent() && parent.get().traceId().equals(state.otelTraceId());
        if (parent.isPresent() && !join) {
            timed.root().attribute(Tracer.PARENT_SPAN_ID, parent.get().spanId())
                    .attribute(Tracer.PARENT_TRACE_ID, parent.get().traceId());
        }
        describeCall(timed.root(), ex, a, r.cost);
        describeTrace(timed, ex, a);
        totals(timed, state);
        timed.requestPreview(Conversation.shownText(lastUserContent(ex.body())));
        timed.responsePreview(a.text());
        timed.root().endAt(a.endNanos());
        Trace trace = timed.finish();
        return join ? trace.joinedUnder(parent.get().spanId()) : trace;
    }

    private static JsonNode lastUserContent(JsonNode body) {
        JsonNode m = body.path("messages");
        return m.size() == 0 ? com.fasterxml.jackson.databind.node.TextNode.valueOf("") : m.get(m.size() - 1).path("content");
    }

    private void describeCall(LiveSpan span, Exchange ex, Answer a, Pricing.Cost cost) {
        Usage u = a.usage() == null ? Usage.ZERO : a.usage();
        String model = model(ex, a);
        if (!span.isRecording()) {
            return;
        }
        ObjectNode inputs = json.createObjectNode();
        for (String k : List.of("model", "messages", "system", "tools")) {
            if (ex.body().has(k)) {
                inputs.set(k, ex.body().get(k));
            }
        }
        span.contentTree(Span.INPUTS, inputs);
        span.attribute(Span.MESSAGE_FORMAT, "anthropic").attribute(Span.LLM_PROVIDER, "anthropic")
                .attribute(GenAi.OPERATION_NAME, "chat").attribute(GenAi.PROVIDER_NAME, "anthropic")
                .attribute(GenAi.REQUEST_MODEL, ex.model()).attribute("model", model);
        if (ex.body().path("tools").size() > 0) {
            List<JsonNode> tools = new java.util.ArrayList<>();
            ex.body().path("tools").forEach(tools::add);
            span.attribute(Span.CHAT_TOOLS, SpanShapes.openAiTools(tools));
        }
        span.attribute("anthropic.request_id", a.requestId()).attribute("http.status_code", a.status());
        if (a.message() != null && a.ok()) {
            span.contentTree(Span.OUTPUTS, a.message());
            SpanShapes.usage(span, u);
            span.attribute(Span.LLM_MODEL, model).attribute(GenAi.RESPONSE_MODEL, model)
                    .attribute(GenAi.RESPONSE_ID, a.message().path("id").asText(null))
                    .attribute(GenAi.RESPONSE_FINISH_REASONS, List.of(String.valueOf(a.stopReason())))
                    .attribute("anthropic.stop_reason", a.stopReason())
                    .attribute(Span.LLM_COST, SpanShapes.cost(cost));
        } else {
            if (a.message() != null) {
                span.contentTree(Span.OUTPUTS, a.message());
            }
            span.recordError(a.errorType() == null ? "api_error" : a.errorType(),
                    a.errorMessage() == null ? "HTTP " + a.status() : a.errorMessage(), null);
        }
    }

    /** Agent/Task calls of an answer: a subagent's first request finds its tool span through them. */
    private static void pendingAgentCalls(TurnState state, JsonNode message) {
        message.path("content").forEach(b -> {
            String name = b.path("name").asText();
            if ("tool_use".equals(b.path("type").asText()) && ("Agent".equals(name) || "Task".equals(name))) {
                JsonNode in = b.path("input");
                state.pendingAgentCall(TurnState.PendingAgentCall.of(b.path("id").asText(), in.path("prompt").asText(""),
                        in.path("description").asText(""), in.path("subagent_type").asText("general-purpose")));
            }
        });
    }

    /** The subagent a request of it belongs to; its first request registers it under the Agent call that started it. */
    private static TurnState.Subagent subagentOf(TurnState state, Pending p) {
        Exchange ex = p.exchange;
        return state.subagent(ex.agentId()).orElseGet(() -> {
            String prompt = p.conversation.promptText();
            TurnState.PendingAgentCall call = state.takeAgentCall(prompt).orElse(
                    TurnState.PendingAgentCall.of("", prompt, "", "unknown"));
            String parent = call.toolUseId().isEmpty() ? rootSpanId(state.otelTraceId())
                    : toolSpanId(state.otelTraceId(), call.toolUseId());
            TurnState.Subagent s = new TurnState.Subagent(Ids.derived(8, state.otelTraceId(), "subagent", ex.agentId()),
                    parent, call.type(), call.description(), ex.arrivalNanos());
            state.subagent(ex.agentId(), s);
            return s;
        });
    }

    private LiveSpan subagentSpan(ActiveTrace t, TurnState.Subagent sub, Pending p, Answer a) {
        Exchange ex = p.exchange;
        LiveSpan span = t.startSpanWithId(sub.spanId(), "subagent_" + sub.type(), SpanType.AGENT, sub.parentSpanId(),
                sub.startNanos());
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("prompt", p.conversation.promptText()); // the subagent's first message: the Agent call's prompt
        in.put("description", sub.description());
        span.inputs(in).attribute("subagent_type", sub.type()).attribute("agent_id", TracedText.of(ex.agentId()));
        if (a.ok() && !a.asksForTools()) {
            span.outputs(Map.of("response", a.text()));
        }
        span.endAt(a.endNanos());
        return span;
    }

    /** Tool calls whose results this request carries: from the answer that asked for them to now. */
    private void tools(ActiveTrace t, TurnState state, Pending p, String parent, long start) {
        Exchange ex = p.exchange;
        for (Conversation.ToolReturn r : p.conversation.toolReturns()) {
            LiveSpan s = t.startSpanWithId(toolSpanId(state.otelTraceId(), r.id()), "tool_" + r.name(), SpanType.TOOL,
                    parent, Math.min(start, ex.arrivalNanos()));
            s.attribute("tool_name", r.name()).attribute("tool_id", r.id()).attribute(GenAi.OPERATION_NAME, "execute_tool")
                    .attribute(GenAi.TOOL_NAME, r.name()).attribute(GenAi.TOOL_CALL_ID, r.id());
            if (r.input() != null) {
                s.contentTree(Span.INPUTS, r.input());
            }
            SpanShapes.toolResult(s, json, r.result(), r.isError());
            s.endAt(ex.arrivalNanos());
        }
    }

    private void describeTrace(ActiveTrace t, Exchange ex, Answer a) {
        t.metadata(MlflowKeys.Metadata.SESSION, ex.tracedSessionId()).metadata(MlflowKeys.Metadata.USER, TracedText.of(ex.user()))
                .metadata(MlflowKeys.Metadata.SOURCE_NAME, "agentfn-gateway")
                .metadata(MlflowKeys.Metadata.SOURCE_TYPE, "SERVICE")
                .metadata(MlflowKeys.Metadata.AGENTFN_ENGINE, "gateway");
        if (!ex.subagent()) {
            t.metadata(MlflowKeys.Metadata.AGENTFN_MODEL, TracedText.of(a.model() != null ? a.model() : ex.model()));
        }
        if (ex.userAgent() != null) {
            Matcher m = USER_AGENT.matcher(ex.userAgent());
            if (m.find()) {
                t.metadata("mlflow.claude_code_version", TracedText.of(m.group(1)));
                if (m.group(3) != null && !m.group(3).isBlank()) {
                    t.metadata("agentfn.claude_code.entrypoint", TracedText.of(m.group(3).strip()));
                }
            }
        }
    }

    private static void totals(ActiveTrace t, TurnState state) {
        t.jsonMetadata(MlflowKeys.Metadata.TOKEN_USAGE, SpanShapes.tokenUsage(state.totalUsage()))
                .jsonMetadata(MlflowKeys.Metadata.COST, SpanShapes.cost(state.totalCost()));
    }

    /** Until its last answer a turn's trace says IN_PROGRESS, so nobody scores it half-done. */
    private static Trace inProgress(Trace trace) {
        TraceInfo i = trace.info();
        return new Trace(new TraceInfo(i.traceId(), i.experimentId(), i.clientRequestId(), i.requestTimeMillis(),
                i.executionDurationMillis(), TraceState.IN_PROGRESS, i.requestPreview(), i.responsePreview(), i.metadata(),
                i.tags()), trace.spans());
    }

    static String rootSpanId(String otelTraceId) {
        return Ids.derived(8, otelTraceId, "root");
    }

    static String toolSpanId(String otelTraceId, String toolUseId) {
        return Ids.derived(8, otelTraceId, "tool", toolUseId);
    }

    private TurnState parse(String stateJson) {
        try {
            return TurnState.fromJson(json.readTree(stateJson));
        } catch (Exception e) {
            LOG.warnf("unreadable gateway turn state in MLflow: %s", LogText.escape(e.getMessage()));
            return null;
        }
    }
}
