package dev.agentfn.invocation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.agentfn.Futures;
import dev.agentfn.config.Secrets;
import dev.agentfn.conversation.ConversationEngine;
import dev.agentfn.conversation.ConversationException;
import dev.agentfn.conversation.ConversationListener;
import dev.agentfn.conversation.ConversationRequest;
import dev.agentfn.conversation.ConversationResult;
import dev.agentfn.conversation.Deadline;
import dev.agentfn.conversation.Pricing;
import dev.agentfn.conversation.Usage;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.AttributePolicy;
import dev.agentfn.tracing.SpanClock;
import dev.agentfn.tracing.TraceDelivery;
import dev.agentfn.tracing.Tracer;
import dev.agentfn.tracing.export.ExportStatus;
import dev.agentfn.tracing.export.InMemoryTraceExporter;
import dev.agentfn.tracing.spool.DirectoryTraceSpool;
import dev.agentfn.tracing.spool.SpoolDrainer;
import dev.agentfn.tracing.spool.TraceCodec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stage alone, with an engine double and the in-memory exporter: what every front door gets back, and what
 * the delivered trace says, without HTTP or a Quarkus boot.
 */
class InvocationStageTest {
    static final String KEY = "sk-ant-stage-test-key-0123456789";
    static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    @TempDir
    Path dir;
    final InMemoryTraceExporter exporter = new InMemoryTraceExporter();
    InvocationStage stage;
    BiFunction<ConversationRequest, ConversationListener, CompletableFuture<ConversationResult>> engineRun;

    @BeforeEach
    void stage() throws Exception {
        DirectoryTraceSpool spool = new DirectoryTraceSpool(dir, "test", 10, new TraceCodec(new ObjectMapper()));
        SpoolDrainer drainer = new SpoolDrainer(spool, exporter, new dev.agentfn.tracing.export.ExportOrder(Runnable::run, Duration.ofMillis(10)), 10, 1, 5, Duration.ofSeconds(1), Runnable::run);
        TraceDelivery delivery = new TraceDelivery(exporter, spool, drainer, Duration.ofSeconds(5), Runnable::run, 0);
        Tracer tracer = new Tracer(SpanClock.SYSTEM, new AttributePolicy(true, 10_000, List.of(), List.of(KEY)), false);
        ConversationEngine engine = new ConversationEngine() {
            @Override
            public String name() {
                return "double";
            }

            @Override
            public List<String> admit(List<JsonNode> messages, List<String> requestedTools) {
                return List.of();
            }

            @Override
            public CompletableFuture<ConversationResult> run(ConversationRequest request, ActiveTrace trace,
                    ConversationListener listener) {
                return engineRun.apply(request, listener);
            }
        };
        stage = new InvocationStage(Map.of("double", engine), tracer, delivery,
                new InvocationMetrics(new SimpleMeterRegistry()), "test", false, new ObjectMapper(),
                new Secrets(List.of(KEY)));
    }

    @Test
    void anAnswerComesBackWithItsDeliveredTraceAndNoCredential() throws Exception {
        engineRun = (req, l) -> CompletableFuture.completedFuture(result("the key is " + KEY));
        InvocationStage.Started s = stage.start(invocation("hi", null), ConversationListener.NONE);
        InvocationOutcome o = s.outcome().get(10, TimeUnit.SECONDS);

        assertEquals(ExportStatus.DELIVERED, o.export());
        assertEquals(s.traceId(), o.traceId());
        assertEquals("the key is " + Secrets.REDACTED, o.result().output());
        assertNull(o.toolsCalled(), "only evaluation rows ask for the tools called");
        Trace t = only();
        assertEquals("hi", t.info().requestPreview());
        assertEquals("agent_invocation", t.spans().get(0).name());
        assertEquals("double", t.info().metadata().get("agentfn.engine"));
    }

    @Test
    void anUpstreamFailureIsClassifiedRedactedTracedAndCarriesTheToolsCalledSoFar() throws Exception {
        engineRun = (req, l) -> {
            l.toolCall("tu_1", "weather", NODES.objectNode());
            return CompletableFuture.failedFuture(new ConversationException.Upstream(400, "invalid_request_error",
                    "bad key " + KEY, "req_1", null));
        };
        InvocationStage.Started s = stage.start(invocation("hi", "0123456789abcdef0123456789abcdef"),
                ConversationListener.NONE);
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> s.outcome().get(10, TimeUnit.SECONDS));
        InvocationFailed f = assertInstanceOf(InvocationFailed.class, Futures.unwrap(e));

        Failure.UpstreamRefused refused = assertInstanceOf(Failure.UpstreamRefused.class, f.failure());
        assertEquals(502, refused.status());
        assertEquals("req_1", refused.requestId());
        assertFalse(refused.detail().contains(KEY), refused.detail());
        assertEquals(List.of("weather"), f.toolsCalled());
        assertEquals(s.traceId(), f.traceId());
        assertEquals(ExportStatus.DELIVERED, f.export());
        Trace t = only();
        assertTrue(t.info().responsePreview().startsWith("Error: the Messages API refused the request"),
                t.info().responsePreview());
        assertFalse(t.info().responsePreview().contains(KEY));
        assertEquals("0123456789abcdef0123456789abcdef", t.info().metadata().get("mlflow.sourceRun"));
    }

    @Test
    void aCallerThatHearsNothingKeepsItsRetriesEvenWhenItsToolsAreCounted() throws Exception {
        boolean[] relayed = new boolean[2];
        engineRun = (req, l) -> {
            l.textDelta("partial answer"); // a model call streamed something, then failed
            relayed[0] = l.relayedAnything();
            return CompletableFuture.completedFuture(result("ok"));
        };
        stage.start(invocation("hi", "0123456789abcdef0123456789abcdef"), ConversationListener.NONE).outcome()
                .get(10, TimeUnit.SECONDS);
        assertFalse(relayed[0], "nothing reached an evaluation row's caller, so its model calls may still be retried");

        // any listener but NONE is a caller that receives the stream (this one passes it on to nobody)
        ConversationListener streaming = new ToolsCalled(ConversationListener.NONE);
        engineRun = (req, l) -> {
            l.textDelta("partial answer");
            relayed[1] = l.relayedAnything();
            return CompletableFuture.completedFuture(result("ok"));
        };
        stage.start(invocation("hi", "0123456789abcdef0123456789abcdef"), streaming).outcome().get(10, TimeUnit.SECONDS);
        assertTrue(relayed[1], "a streaming caller got text (held back or not): no retry may repeat it");
    }

    @Test
    void failuresAreClassifiedForEveryFrontDoor() {
        assertInstanceOf(Failure.DeadlineExceeded.class,
                Failure.of(new ConversationException.DeadlineExceeded("late"), s -> s));
        assertInstanceOf(Failure.UpstreamCredentialsRejected.class,
                Failure.of(new ConversationException.Upstream(401, "authentication_error", "no", null, null), s -> s));
        Failure.UpstreamUnavailable busy = assertInstanceOf(Failure.UpstreamUnavailable.class, Failure.of(
                new ConversationException.Upstream(529, "overloaded_error", "busy", null, Duration.ofSeconds(3)), s -> s));
        assertEquals(Duration.ofSeconds(3), busy.retryAfter());
        assertInstanceOf(Failure.EngineUnavailable.class,
                Failure.of(new ConversationException.Unavailable("no CLI", "agentfn.claude-code.cli-path"), s -> s));
        assertInstanceOf(Failure.Cancelled.class, Failure.of(new java.util.concurrent.CancellationException(), s -> s));
        Failure internal = Failure.of(new IllegalStateException("internal detail"), s -> s);
        assertInstanceOf(Failure.Internal.class, internal);
        assertFalse(internal.detail().contains("internal detail"), "no internals in what a caller sees");
    }

    private Trace only() {
        List<Trace> exported = exporter.exported();
        assertEquals(1, exported.size());
        return exported.get(0);
    }

    private static Invocation invocation(String prompt, String sourceRun) {
        ConversationRequest c = new ConversationRequest(List.of(NODES.objectNode().put("role", "user").put("content",
                prompt)), null, "claude-sonnet-5-5", 100, 3, List.of(), "s-1", "u-1", Deadline.after(Duration.ofSeconds(30)));
        return new Invocation(c, "double", prompt, Map.of(), null, sourceRun);
    }

    private static ConversationResult result(String output) {
        return new ConversationResult(output, NODES.arrayNode().add(NODES.objectNode().put("type", "text")
                .put("text", output)), "end_turn", 1, new Usage(10, 2, 0, 0), Pricing.Cost.ZERO, "claude-sonnet-5-5", "s-1");
    }
}
