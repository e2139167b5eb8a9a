package dev.agentfn.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentfn.config.AgentfnConfig;
import dev.agentfn.conversation.ConversationListener;
import dev.agentfn.conversation.ConversationRequest;
import dev.agentfn.invocation.Invocation;
import dev.agentfn.invocation.InvocationHeaders;
import dev.agentfn.invocation.InvocationStage;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.MultiEmitter;
import io.vertx.ext.web.RoutingContext;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** {@code POST /v1/invocations}: JSON in, JSON out, or SSE when the caller accepts {@code text/event-stream}. */
@Tag(name = "Invocation Resource") // the tag Quarkus' OpenAPI extension gave every operation
@Path("/v1/invocations")
public class InvocationResource {
    private final InvocationStage stage;
    private final ObjectMapper json;
    private final RequestParser parser;
    private final long maxBodyBytes;
    private final boolean authenticated;

    /**
     * An evaluation row sent here by an evaluation's function-URL fan-out: the MLflow run the trace
     * belongs to ({@code mlflow.sourceRun}). Accepted only when API keys are configured, i.e. on
     * requests the {@link ApiKeyFilter} authenticated: otherwise anyone could file traces under a run.
     */
    public static final String SOURCE_RUN_HEADER = InvocationHeaders.SOURCE_RUN;
    /** The trace's root span, answered with every JSON response (evaluation assessments attach there). */
    public static final String ROOT_SPAN_HEADER = InvocationHeaders.ROOT_SPAN;
    /** MLflow run ids: 32 lowercase hex digits (a UUID without dashes). */
    private static final java.util.regex.Pattern RUN_ID = java.util.regex.Pattern.compile("[0-9a-f]{32}");

    public InvocationResource(InvocationStage stage, ObjectMapper json, StrictJson reader, AgentfnConfig config) {
        this.stage = stage;
        this.json = json;
        this.parser = new RequestParser(json, reader, config, stage);
        this.maxBodyBytes = config.invocation().maxBodySize().asLongValue();
        this.authenticated = ApiKeyFilter.keysConfigured(config);
    }

    /** A request, parsed and validated before anything else happens. */
    private record Accepted(InvocationRequest request, ConversationRequest conversation, String engine,
            String sourceRunId) {

        Invocation invocation(String traceparent) {
            return new Invocation(conversation, engine, request.prompt(), request.metadata(), traceparent, sourceRunId,
                    request.promptVariables());
        }
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Run an agent conversation", description = "Runs the conversation, delivers its trace to "
            + "MLflow, then answers. Errors are application/problem+json.")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = InvocationRequest.class)))
    @APIResponse(responseCode = "200", description = "The answer, after the trace was delivered or spooled",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = InvocationResponse.class)))
    @APIResponse(responseCode = "400", description = "Invalid request", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "default", description = "Any other error (401, 406, 413, 414, 415, 431, 5xx)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public CompletionStage<Response> invoke(byte[] body, @HeaderParam("traceparent") String traceparent,
            @HeaderParam(SOURCE_RUN_HEADER) java.util.List<String> sourceRun, @Context RoutingContext http) {
        Accepted a = accept(body, sourceRun);
        InvocationStage.Started started = stage.start(a.invocation(traceparent), ConversationListener.NONE);
        // The caller hung up before the answer: a running CLI process is killed, not left to the deadline.
        http.addEndHandler(ignored -> started.cancel().run());
        return started.outcome()
                .thenApply(o -> Response.ok(InvocationAnswers.response(o), MediaType.APPLICATION_JSON)
                        .header(InvocationHeaders.TRACE_ID, o.traceId()).header(ROOT_SPAN_HEADER, started.rootSpanId()).build())
                .exceptionally(err -> {
                    ProblemException p = InvocationAnswers.problem(err);
                    return ProblemMappers.response(p.problem(), withRootSpan(p.headers(), started));
                });
    }

    private static java.util.Map<String, String> withRootSpan(java.util.Map<String, String> headers,
            InvocationStage.Started started) {
        java.util.Map<String, String> all = new java.util.HashMap<>(headers);
        all.put(ROOT_SPAN_HEADER, started.rootSpanId());
        return all;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @Operation(summary = "Run an agent conversation, streamed", description = "Events: text_delta, tool_call, "
            + "tool_result, then exactly one done (the JSON answer) or error (a problem document).")
    // The same body as invoke(): without this the scanner documents byte[] as a binary string beside the $ref.
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = InvocationRequest.class)))
    @APIResponse(responseCode = "200", description = "The answer, after the trace was delivered or spooled",
            content = @Content(mediaType = MediaType.SERVER_SENT_EVENTS, schema = @Schema(type = SchemaType.STRING,
                    description = "Server-sent events, each \"event: <name>\" and \"data: <JSON>\": text_delta {text}, "
                            + "tool_call {id, name, input}, tool_result {tool_use_id, name, content, is_error}, then "
                            + "exactly one done (an InvocationResponse) or error (a Problem)")))
    public Multi<OutboundSseEvent> stream(byte[] body, @HeaderParam("traceparent") String traceparent,
            @HeaderParam(SOURCE_RUN_HEADER) java.util.List<String> sourceRun, @Context Sse sse) {
        Accepted a = accept(body, sourceRun);
        String[] traceId = new String[1];
        Multi<OutboundSseEvent> events = Multi.createFrom().emitter(emitter -> {
            SseListener listener = new SseListener(emitter, sse);
            InvocationStage.Started started = stage.start(a.invocation(traceparent), listener);
            // The client went away (or the stream ended): a running CLI process is killed, not left to finish.
            emitter.onTermination(started.cancel());
            started.outcome().whenComplete((o, err) -> {
                if (err == null) {
                    emitter.emit(listener.event("done", json.valueToTree(InvocationAnswers.response(o))));
                } else {
                    Problem p = InvocationAnswers.problem(err).problem();
                    emitter.emit(listener.event("error", json.valueToTree(p)));
                }
                emitter.complete();
            });
        });
        return events;
    }

    private Accepted accept(byte[] body, java.util.List<String> sourceRun) {
        String sourceRunId = sourceRun(sourceRun);
        if (body != null && body.length > maxBodyBytes) {
            throw new ProblemException(Problem.of(413, "body-too-large", "Request body too large",
                    "the body has " + body.length + " bytes; the limit is " + maxBodyBytes
                            + " (agentfn.invocation.max-body-size)"));
        }
        InvocationRequest request = parser.parse(body);
        String engine = parser.engine(request);
        return new Accepted(request, parser.toConversation(request), engine, sourceRunId);
    }

    /** The evaluation run of a fanned-out row, checked like every other input. */
    private String sourceRun(java.util.List<String> values) {
        if (values == null || values.isEmpty()) {
            return null;
        }
        if (!authenticated) {
            throw new ProblemException(Problem.of(400, "source-run-not-accepted", "Source run not accepted",
                    SOURCE_RUN_HEADER + " is accepted only on authenticated requests; configure agentfn.auth.api-keys"));
        }
        String v = values.size() == 1 ? values.get(0).strip() : null;
        if (v == null || !RUN_ID.matcher(v).matches()) {
            throw new ProblemException(Problem.of(400, "invalid-source-run", "Invalid source run",
                    SOURCE_RUN_HEADER + " must be one MLflow run id (32 lowercase hex digits)"));
        }
        return v;
    }

    /** Relays the conversation as SSE events; thread-safe because tool calls end on several threads. */
    private final class SseListener implements ConversationListener {
        private final MultiEmitter<? super OutboundSseEvent> emitter;
        private final Sse sse;
        private final AtomicBoolean relayed = new AtomicBoolean();

        SseListener(MultiEmitter<? super OutboundSseEvent> emitter, Sse sse) {
            this.emitter = emitter;
            this.sse = sse;
        }

        OutboundSseEvent event(String name, JsonNode data) {
            // data is JSON text already; a media type would add a non-standard "content-type:" line to every event
            return sse.newEventBuilder().name(name).data(data.toString()).build();
        }

        @Override
        public void textDelta(String text) {
            relayed.set(true);
            emit("text_delta", json.createObjectNode().put("text", text));
        }

        @Override
        public void toolCall(String toolUseId, String name, JsonNode input) {
            relayed.set(true);
            ObjectNode n = json.createObjectNode().put("id", toolUseId).put("name", name);
            n.set("input", input);
            emit("tool_call", n);
        }

        @Override
        public void toolResult(String toolUseId, String name, String content, boolean isError) {
            emit("tool_result", json.createObjectNode().put("tool_use_id", toolUseId).put("name", name)
                    .put("content", content).put("is_error", isError));
        }

        @Override
        public boolean relayedAnything() {
            return relayed.get();
        }

        private synchronized void emit(String name, JsonNode data) {
            emitter.emit(event(name, data));
        }
    }
}
