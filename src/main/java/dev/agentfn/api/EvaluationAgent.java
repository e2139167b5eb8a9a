package dev.agentfn.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.config.AgentfnConfig;
import dev.agentfn.conversation.ConversationListener;
import dev.agentfn.conversation.tools.ToolCatalog;
import dev.agentfn.evaluation.AgentInvoker;
import dev.agentfn.evaluation.EvaluationException;
import dev.agentfn.evaluation.RowOutcome;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Runs evaluation rows in process exactly as {@code POST /v1/invocations} runs a request (same parser,
 * same {@link InvocationService}), with the row's run as {@code mlflow.sourceRun} on the trace from its
 * creation, as a request with {@code X-Agentfn-Source-Run} gets it.
 */
@Singleton
public class EvaluationAgent implements AgentInvoker {
    private final InvocationService service;
    private final RequestParser parser;
    private final ObjectMapper json;
    private final String defaultModel;

    public EvaluationAgent(InvocationService service, ObjectMapper json, StrictJson reader, AgentfnConfig config,
            ToolCatalog catalog) {
        this.service = service;
        this.parser = new RequestParser(json, reader, config, catalog, service.engineNames());
        this.json = json;
        this.defaultModel = config.anthropic().defaultModel();
    }

    @Override
    public Set<String> engines() {
        return service.engineNames();
    }

    @Override
    public String defaultModel() {
        return defaultModel;
    }

    @Override
    public void validate(ObjectNode inputs, String where) {
        try {
            parser.toConversation(parser.parse(bytes(inputs)));
        } catch (ProblemException e) {
            throw new EvaluationException(where + ": " + e.problem().detail());
        }
    }

    @Override
    public CompletableFuture<Invocation> invoke(ObjectNode inputs, String engine, String sourceRunId) {
        long started = System.nanoTime();
        RowListener listener = new RowListener();
        InvocationService.Started run;
        try {
            InvocationRequest request = parser.parse(bytes(inputs));
            run = service.start(request, parser.toConversation(request), engine, null, listener, sourceRunId);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(failed(null, null, started, e, listener));
        }
        return run.answer().handle((r, err) -> err == null ? succeeded(r, run.rootSpanId())
                : failed(run.traceId(), run.rootSpanId(), started, InvocationService.unwrap(err), listener));
    }

    private static Invocation succeeded(InvocationResponse r, String rootSpanId) {
        var u = r.usage();
        long tokens = u.inputTokens() + u.outputTokens() + u.cacheReadInputTokens() + u.cacheCreationInputTokens();
        return new Invocation(new RowOutcome(r.trace().id(), r.output(), null, r.durationMs(), r.costUsd(), tokens,
                r.toolsCalled()), rootSpanId);
    }

    private static Invocation failed(String traceId, String rootSpanId, long started, Throwable err, RowListener l) {
        String why = err instanceof ProblemException p ? p.problem().detail()
                : err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage();
        long ms = (System.nanoTime() - started) / 1_000_000;
        return new Invocation(new RowOutcome(traceId, null, why, ms, 0, 0, l.tools), rootSpanId);
    }

    private byte[] bytes(JsonNode inputs) {
        try {
            return json.writeValueAsBytes(inputs);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Collects the tools a row's conversation called, also when it fails (for expected_tools_called). */
    private static final class RowListener implements ConversationListener {
        final List<String> tools = new CopyOnWriteArrayList<>();

        @Override
        public void textDelta(String text) {
        }

        @Override
        public void toolCall(String toolUseId, String name, JsonNode input) {
            tools.add(name);
        }

        @Override
        public void toolResult(String toolUseId, String name, String content, boolean isError) {
        }

        @Override
        public boolean relayedAnything() {
            return false;
        }
    }
}
