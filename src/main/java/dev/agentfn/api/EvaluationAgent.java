package dev.agentfn.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.config.AgentfnConfig;
import dev.agentfn.conversation.ConversationBeans;
import dev.agentfn.conversation.ConversationEngine;
import dev.agentfn.conversation.ConversationListener;
import dev.agentfn.conversation.ConversationRequest;
import dev.agentfn.conversation.ConversationResult;
import dev.agentfn.conversation.claudecode.ClaudeCodeEngine;
import dev.agentfn.conversation.messages.MessagesEngine;
import dev.agentfn.conversation.tools.ToolCatalog;
import dev.agentfn.evaluation.AgentInvoker;
import dev.agentfn.evaluation.EvaluationException;
import dev.agentfn.evaluation.RowOutcome;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.TraceDelivery;
import dev.agentfn.tracing.Tracer;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Runs evaluation rows exactly as {@code POST /v1/invocations} runs a request (same parser, same
 * invocation service code), with one addition: the trace gets {@code mlflow.sourceRun} metadata.
 *
 * <p>That metadata is added by wrapping the engines of a second {@link InvocationService}: the
 * wrapper sees the trace before the conversation starts and the row's listener carries the run id.
 * {@link InvocationService} itself is unchanged. Both engines {@link ApiBeans} offers are wrapped.
 */
@Singleton
public class EvaluationAgent implements AgentInvoker {
    private final InvocationService service;
    private final RequestParser parser;
    private final ObjectMapper json;
    private final String defaultModel;

    public EvaluationAgent(MessagesEngine messages, ClaudeCodeEngine claudeCode, Tracer tracer, TraceDelivery delivery, MeterRegistry registry,
            ConversationBeans conversation, ObjectMapper json, AgentfnConfig config, ToolCatalog catalog,
            @ConfigProperty(name = "quarkus.application.version", defaultValue = "dev") String version) {
        Map<String, ConversationEngine> engines = Map.of(messages.name(), new SourceRunEngine(messages),
                claudeCode.name(), new SourceRunEngine(claudeCode));
        this.service = new InvocationService(engines, tracer, delivery, new InvocationMetrics(registry), version,
                conversation.standInActive(), json);
        this.parser = new RequestParser(json, config, catalog, engines.keySet());
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
        RowListener listener = new RowListener(sourceRunId);
        InvocationService.Started run;
        try {
            InvocationRequest request = parser.parse(bytes(inputs));
            run = service.start(request, parser.toConversation(request), engine, null, listener);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(failed(null, started, e, listener));
        }
        return run.answer().handle((r, err) -> err == null ? succeeded(r, listener)
                : failed(run.traceId(), started, InvocationService.unwrap(err), listener));
    }

    private static Invocation succeeded(InvocationResponse r, RowListener l) {
        var u = r.usage();
        long tokens = u.inputTokens() + u.outputTokens() + u.cacheReadInputTokens() + u.cacheCreationInputTokens();
        return new Invocation(new RowOutcome(r.trace().id(), r.output(), null, r.durationMs(), r.costUsd(), tokens,
                l.tools), l.rootSpanId);
    }

    private static Invocation failed(String traceId, long started, Throwable err, RowListener l) {
        String why = err instanceof ProblemException p ? p.problem().detail()
                : err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage();
        long ms = (System.nanoTime() - started) / 1_000_000;
        return new Invocation(new RowOutcome(traceId, null, why, ms, 0, 0, l.tools), l.rootSpanId);
    }

    private byte[] bytes(JsonNode inputs) {
        try {
            return json.writeValueAsBytes(inputs);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sets the row's source run on the trace before the conversation starts and remembers the root span. */
    private record SourceRunEngine(ConversationEngine delegate) implements ConversationEngine {
        @Override
        public String name() {
            return delegate.name();
        }

        @Override
        public CompletableFuture<ConversationResult> run(ConversationRequest request, ActiveTrace trace,
                ConversationListener listener) {
            if (listener instanceof RowListener row) {
                trace.metadata(MlflowKeys.Metadata.SOURCE_RUN, row.sourceRunId);
                row.rootSpanId = trace.root().spanId();
            }
            return delegate.run(request, trace, listener);
        }
    }

    /** Collects the tools a row's conversation called (for expected_tools_called). */
    private static final class RowListener implements ConversationListener {
        final String sourceRunId;
        final List<String> tools = new CopyOnWriteArrayList<>();
        volatile String rootSpanId;

        RowListener(String sourceRunId) {
            this.sourceRunId = sourceRunId;
        }

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
