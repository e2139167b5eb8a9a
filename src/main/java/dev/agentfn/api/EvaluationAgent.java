package dev.agentfn.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.Futures;
import dev.agentfn.config.AgentfnConfig;
import dev.agentfn.conversation.ConversationListener;
import dev.agentfn.evaluation.AgentInvoker;
import dev.agentfn.evaluation.EvaluationException;
import dev.agentfn.evaluation.RowOutcome;
import dev.agentfn.invocation.InvocationFailed;
import dev.agentfn.invocation.InvocationOutcome;
import dev.agentfn.invocation.InvocationStage;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Runs evaluation rows in process exactly as {@code POST /v1/invocations} runs a request (same parser,
 * same {@link InvocationStage}), with the row's run as {@code mlflow.sourceRun} on the trace from its
 * creation, as a request with {@code X-Agentfn-Source-Run} gets it.
 */
@Singleton
public class EvaluationAgent implements AgentInvoker {
    private final InvocationStage stage;
    private final RequestParser parser;
    private final ObjectMapper json;
    private final String defaultModel;

    public EvaluationAgent(InvocationStage stage, ObjectMapper json, StrictJson reader, AgentfnConfig config) {
        this.stage = stage;
        this.parser = new RequestParser(json, reader, config, stage);
        this.json = json;
        this.defaultModel = config.anthropic().defaultModel();
    }

    @Override
    public Set<String> engines() {
        return stage.engineNames();
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
        InvocationStage.Started run;
        try {
            InvocationRequest request = parser.parse(bytes(inputs));
            run = stage.start(new dev.agentfn.invocation.Invocation(parser.toConversation(request), engine,
                    request.prompt(), request.metadata(), null, sourceRunId, request.promptVariables()),
                    ConversationListener.NONE);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(failed(null, null, started, e, List.of()));
        }
        return run.outcome().handle((o, err) -> {
            if (err == null) {
                return succeeded(o);
            }
            Throwable t = Futures.unwrap(err);
            List<String> tools = t instanceof InvocationFailed f && f.toolsCalled() != null ? f.toolsCalled() : List.of();
            return failed(run.traceId(), run.rootSpanId(), started, t, tools);
        });
    }

    private static Invocation succeeded(InvocationOutcome o) {
        var u = o.result().usage();
        long tokens = u.inputTokens() + u.outputTokens() + u.cacheReadInputTokens() + u.cacheCreationInputTokens();
        return new Invocation(new RowOutcome(o.traceId(), o.result().output(), null, o.durationMillis(),
                o.result().cost().totalUsd(), tokens, o.toolsCalled()), o.rootSpanId());
    }

    private static Invocation failed(String traceId, String rootSpanId, long started, Throwable err, List<String> tools) {
        String why = err instanceof ProblemException p ? p.problem().detail()
                : err instanceof InvocationFailed f ? InvocationAnswers.problem(f.failure()).detail()
                : err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage();
        long ms = (System.nanoTime() - started) / 1_000_000;
        return new Invocation(new RowOutcome(traceId, null, why, ms, 0, 0, tools), rootSpanId);
    }

    private byte[] bytes(JsonNode inputs) {
        try {
            return json.writeValueAsBytes(inputs);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
